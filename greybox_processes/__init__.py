"""greybox: glass-, black- and grey-box virtual cells for the Vivarium ecosystem.

Every mechanism is a process-bigraph ``Process``; installing the package is
enough for ``process_bigraph.allocate_core()`` to discover them. Composites are
YAML specs (``composites/``) or Python builders (:mod:`greybox_processes.composites`),
run under process-bigraph or vivarium-core with :func:`run`, and come back as
:class:`xarray.Dataset` trajectories.

>>> import greybox_processes as gb
>>> ds = gb.run(gb.composites.grn_cells(cells_per_type=5), time=2.0)   # doctest: +SKIP
"""
from importlib.metadata import PackageNotFoundError, version

from . import composites, plotting
from .errors import GreyboxError, NetworkFormatError, SimulationError, SpecError
from .framework.results import read_zarr, write_zarr
from .framework.ensemble import run_many
from .framework.run import run
from .framework.spec import build_document, load_spec, validate_document
from .plotting import plot_run

try:
    __version__ = version("greybox-processes")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "run", "run_many", "build_document", "load_spec", "validate_document", "read_zarr", "write_zarr",
    "composites", "plotting", "plot_run", "GreyboxError", "SpecError", "NetworkFormatError", "SimulationError",
]
