"""The bundled composites: their YAML specs by name, and their Python builders.

Each builder returns the same document as the YAML spec of the same name in
``composites/`` (a test checks this), so a composite can be made in Python or
YAML alike. An ablation is one keyword: swap a process with ``*_address`` or
change any of its config values with ``*_config``.

The YAML specs are found by name wherever the package is installed
(:func:`composite_path`, :func:`resolve_spec`): in a checkout (an editable
install) they are the repository's ``composites/NAME.yaml``; a built wheel
carries them as ``greybox_processes/composite_specs/NAME.composite.yaml``
(setup.py copies them at build time), where process-bigraph's
``composite_discovery.discover_composites()`` finds them too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError
from .framework.registry import suggest

__all__ = ["grn_cells", "diauxie", "glass_box_cell", "grey_box_cell", "mechanistic_only_cell",
           "black_box_cell", "rdme_bimolecular", "tissue", "tissue_2d", "dephasing_population",
           "cell_cycle_population", "ecoli_population", "ecoli_glass_box", "ecoli_grey_box",
           "ecoli_mechanistic_only", "ecoli_black_box", "DEFAULT", "DEFAULT_NAME", "DEFAULT_TIME",
           "composite_files", "composite_folder", "composite_path", "composite_descriptions",
           "resolve_spec", "PACKAGED_SPECS", "PACKAGED_SUFFIX"]

#: The package folder that holds the YAML specs in a built wheel, and their file ending there
#: (the one ``discover_composites()`` collects). setup.py writes the same two names.
PACKAGED_SPECS = "composite_specs"
PACKAGED_SUFFIX = ".composite.yaml"
#: file endings that make an argument a path rather than a composite's name
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")

# Builders of other mechanisms live with their mechanism and are re-exported
# here lazily, so that importing greybox does not import cobra, etc.
_ELSEWHERE = {
    "diauxie": "greybox_processes.metabolism.composites",
    "glass_box_cell": "greybox_processes.neural.composites",
    "grey_box_cell": "greybox_processes.neural.composites",
    "mechanistic_only_cell": "greybox_processes.neural.composites",
    "black_box_cell": "greybox_processes.neural.composites",
    "rdme_bimolecular": "greybox_processes.rdme.composites",
    "tissue": "greybox_processes.tissue.composites",
    "tissue_2d": "greybox_processes.tissue.composites",
    "dephasing_population": "greybox_processes.tissue.composites",
    "cell_cycle_population": "greybox_processes.cellcycle.composites",
    "ecoli_population": "greybox_processes.ecoli.composites",
    "ecoli_glass_box": "greybox_processes.ecoli.cells",
    "ecoli_grey_box": "greybox_processes.ecoli.cells",
    "ecoli_mechanistic_only": "greybox_processes.ecoli.cells",
    "ecoli_black_box": "greybox_processes.ecoli.cells",
}


def __getattr__(name):
    if name == "DEFAULT":
        return __getattr__(DEFAULT_NAME)
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _wire(*ports: str, store: str) -> dict:
    return {port: [store, port] for port in ports}


def grn_cells(*, network: str = "DS1", cells_per_type: int = 30, noise: str = "dpd",
              q: float = 1.0, dt: float = 0.01, interval: float = 1.0, seed: int = 0,
              grn_address: str = "local:GRN",
              grn_config: Mapping[str, Any] | None = None) -> dict:
    """Cells of every type of a SERGIO network, each with its own GRN/protein SDE.

    Stores: ``cells/mrna`` and ``cells/protein``, arrays of shape
    ``(n_cell_types * cells_per_type, n_genes)``.

    Parameters
    ----------
    network : a bundled SERGIO data set ('DS1', 'DS2', 'DS3', 'DS6').
    cells_per_type : cells of each type (SERGIO's DS1 uses 300).
    noise, q, dt : SERGIO's noise type ('sp', 'spd', 'dpd'), noise amplitude and time step.
    interval : how often the process exchanges with the stores (a multiple of dt).
    seed : random seed; the same seed gives the same trajectory in both engines.
    grn_address : the process to run (an ablation swaps this).
    grn_config : extra or replacing config values for the process.
    """
    config = {"network": network, "cells_per_type": cells_per_type, "noise": noise,
              "q": q, "dt": dt, "seed": seed}
    config.update(grn_config or {})
    return {
        "state": {
            "cells": {},
            "grn": {
                "_type": "process",
                "address": grn_address,
                "config": config,
                "interval": interval,
                "inputs": _wire("mrna", "protein", store="cells"),
                "outputs": _wire("mrna", "protein", store="cells"),
            },
        }
    }


#: The composite that ``greybox run`` runs when no spec is given (the main job: the grey-box
#: E. coli population through the diauxic shift, with its IPTG reference), ``DEFAULT`` its
#: builder, and the simulated time it runs for (in the composite's unit: minutes, 9 h).
DEFAULT_NAME = "ecoli_grey_box"
DEFAULT_TIME = 540.0


def composite_folder() -> tuple[Path, str]:
    """(folder, file ending) of the bundled YAML specs.

    A checkout (the package's parent holds setup.cfg and composites/) reads composites/
    itself, the one copy kept in git; an installed wheel reads its packaged copies.
    """
    package = Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "setup.cfg").is_file() and (checkout / "composites").is_dir():
        return checkout / "composites", ".yaml"
    return package / PACKAGED_SPECS, PACKAGED_SUFFIX


def composite_files() -> dict[str, Path]:
    """``{name: spec file}`` of every bundled composite, sorted by name.

    The name is the file name without its ending (``ecoli_grey_box``); it is also the
    spec's own ``name:``.
    """
    folder, ending = composite_folder()
    if not folder.is_dir():
        return {}
    return {path.name[:-len(ending)]: path for path in sorted(folder.glob(f"*{ending}"))}


def composite_path(name: str) -> Path:
    """The spec file of the bundled composite ``name`` (as ``greybox composites`` lists it).

    Raises
    ------
    SpecError
        No bundled composite has that name; the message gives the close matches.
    """
    files = composite_files()
    prefix = f"{__package__}.{PACKAGED_SPECS}."  # the id discover_composites() gives it
    key = name[len(prefix):] if name.startswith(prefix) else name
    if key in files:
        return files[key]
    folder, _ = composite_folder()
    raise SpecError(f"no bundled composite is named {name!r}.{suggest(key, files)}", file=name,
                    fix=f"`greybox composites` lists the {len(files)} bundled composites (in "
                        f"{folder}); or give the path of a YAML spec")


def resolve_spec(spec):
    """The spec file of ``spec`` given as a path or as a bundled composite's name.

    An existing file is returned as it is; a bare name (no folder, no .yaml/.yml/.json
    ending) is looked up with :func:`composite_path`. Anything else (a ``CompositeSpec``, a
    document dict) is returned unchanged.

    Raises
    ------
    SpecError
        An unknown name (with close matches), or a missing path whose file name is a
        bundled composite's (the fix says to give the name).
    """
    if not isinstance(spec, (str, os.PathLike)):
        return spec
    path = Path(spec)
    if path.is_file():
        return path
    text = os.fspath(spec)
    if path.suffix.lower() not in _SPEC_SUFFIXES and path.name == text:
        return composite_path(text)
    stem = path.name[:-len(path.suffix)] if path.suffix else path.name
    if stem in composite_files():
        raise SpecError("spec file not found", file=path,
                        fix=f"{stem!r} is a bundled composite: give its name instead of a path "
                            f"(greybox run {stem}, gb.run({stem!r}, time=...))")
    return path


def composite_descriptions() -> dict[str, str]:
    """``{name: the spec's description: line}`` of every bundled composite."""
    import yaml

    described = {}
    for name, path in composite_files().items():
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            described[name] = f"(not valid YAML: {getattr(error, 'problem', error)})"
            continue
        text = spec.get("description", "") if isinstance(spec, dict) else ""
        described[name] = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return described
