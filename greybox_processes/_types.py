"""Shape-typed aliases used across greybox (documentation, not runtime checks).

Shapes are written in the names: ``CellsGenes`` is an array of shape
``(n_cells, n_genes)``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Tuple, Union

import numpy as np

Array = Any  # a numpy or jax array
CellsGenes = Array  # (n_cells, n_genes), float
TypesGenes = Array  # (n_cell_types, n_genes), float
Cells = Array  # (n_cells,)
PRNGKey = Array  # a jax.random key

Path = Tuple[Union[str, int], ...]  # a location in a state tree
Wires = Mapping[str, Sequence[str]]  # port name -> store path
Document = Mapping[str, Any]  # a composite document: {'state': ..., 'schema': ...}
Float = Union[float, np.floating]
