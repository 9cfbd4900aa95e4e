"""SERGIO data sets shipped with the package (see SOURCES.md).

DS1-DS3 are SERGIO's steady-state data sets (100, 400, 1200 genes, 9 cell
types); DS6 is a differentiation ("dynamics") data set with 6 cell types and
its bifurcation matrix ``bMat``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["dataset_path", "available_datasets", "read_bifurcation_matrix"]

_DATA = Path(__file__).resolve().parent.parent / "data" / "sergio"

# name -> (folder, file id), names as in the SERGIO paper.
_DATASETS = {
    "DS1": ("De-noised_100G_9T_300cPerT_4_DS1", "4"),
    "DS2": ("De-noised_400G_9T_300cPerT_5_DS2", "5"),
    "DS3": ("De-noised_1200G_9T_300cPerT_6_DS3", "6"),
    "DS6": ("De-noised_100G_6T_300cPerT_dynamics_7_DS6", "7"),
}


def available_datasets() -> tuple[str, ...]:
    """Names accepted by :func:`dataset_path`."""
    return tuple(_DATASETS)


def dataset_path(name: str) -> tuple[str, ...]:
    """Files of a vendored SERGIO data set.

    Parameters
    ----------
    name : str
        ``'DS1'``, ``'DS2'``, ``'DS3'`` or ``'DS6'`` (case-insensitive).

    Returns
    -------
    (interactions_path, regs_path) for steady-state sets, and
    (interactions_path, regs_path, bmat_path) for differentiation sets.
    """
    key = name.strip().upper()
    if key not in _DATASETS:
        raise ValueError(f"unknown SERGIO data set {name!r}; choose one of "
                         f"{', '.join(_DATASETS)} or pass file paths")
    folder, fid = _DATASETS[key]
    root = _DATA / folder
    paths = [root / f"Interaction_cID_{fid}.txt", root / f"Regs_cID_{fid}.txt"]
    bmat = root / f"bMat_cID{fid}.tab"
    if bmat.is_file():
        paths.append(bmat)
    return tuple(str(p) for p in paths)


def read_bifurcation_matrix(path) -> np.ndarray:
    """Read a SERGIO ``bMat`` file (tab separated, n_cell_types x n_cell_types).

    ``bmat[i, j] > 0`` means cell type ``j`` differentiates from type ``i``;
    the value is the fraction of type-``j`` cells initially near type ``i``.
    """
    if str(path).upper() in _DATASETS:
        found = dataset_path(str(path))
        if len(found) < 3:
            raise ValueError(f"data set {path} has no bifurcation matrix")
        path = found[2]
    mat = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
    if mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{path}: bifurcation matrix must be square, got {mat.shape}")
    return mat
