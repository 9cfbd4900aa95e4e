"""Every public name has a docstring, and every process says the units of its array ports.

Public names: the functions and classes in ``__all__`` of every module of the package, and
the public methods of those classes (an override documented by the method it overrides
counts: ``inspect.getdoc`` follows the inheritance). Processes: every class of the package
registered with ``process_bigraph.allocate_core()``. A numeric array port states its units
in its schema (``array_port(shape, units)``, read back by ``ports.port_units``) or, where the
schema has none (counts, flags, dimensionless or arbitrary-unit quantities), in a ``Ports:``
entry of the class docstring, one line each, ending in the units in parentheses::

    Ports:
      mrna: mRNA per cell and gene (molecule)
      alive: 1 where a slot holds a live cell (flag)

The units in the parentheses must parse with pint (``gDW``, gram dry weight, is added) or be
one of :data:`WORD_UNITS`.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pint
import pytest

import greybox_processes
from greybox_processes.framework.base import GreyboxProcess, GreyboxStep
from greybox_processes.framework.loading import build_document
from greybox_processes.framework.ports import port_units
from greybox_processes.wcm_hard import TierStep

#: Modules other work in progress is rewriting; their docstrings are checked once it lands.
IN_PROGRESS: tuple[str, ...] = ()

#: Units that are words rather than pint units: a 0/1 flag, a slot index, the arbitrary units
#: of a learned latent state, the model units of a non-dimensional model (the class docstring
#: says what they are).
WORD_UNITS = ("flag", "index", "arbitrary", "model units")

#: Configs for processes that need one and appear in no bundled composite.
EXAMPLE_CONFIGS = {
    "RegionODE": {"species": ["M", "P"], "regions": ["extracellular", "cytoplasm"],
                  "region": "cytoplasm"},
}

ROOT = Path(__file__).resolve().parents[2]


def _modules():
    names = [greybox_processes.__name__]
    for info in pkgutil.walk_packages(greybox_processes.__path__, greybox_processes.__name__ + "."):
        if info.name.startswith(IN_PROGRESS) or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        names.append(info.name)
    return names


def _exported(module):
    """(qualified name, object) of the functions and classes ``module`` defines and exports."""
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if getattr(obj, "__module__", "").startswith(IN_PROGRESS):
                continue
            yield f"{obj.__module__}.{obj.__qualname__}", obj   # where it is defined


def _own_doc(obj) -> str:
    """The docstring ``obj`` itself has (a class does not inherit one here)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return (doc or "").strip()


def test_every_exported_function_class_and_method_has_a_docstring():
    missing = set()
    for module_name in _modules():
        module = importlib.import_module(module_name)
        for qualname, obj in _exported(module):
            if not _own_doc(obj):
                missing.add(qualname)
            if not inspect.isclass(obj):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                function = member.__func__ if isinstance(member, (staticmethod, classmethod)) \
                    else member.fget if isinstance(member, property) else member
                if inspect.isfunction(function) and not inspect.getdoc(getattr(obj, attr)):
                    missing.add(f"{qualname}.{attr}")
    assert not missing, ("public names without a docstring (write one: what it is or does, "
                         "with units):\n  " + "\n  ".join(sorted(missing)))


def _registered(core):
    return {name: cls for name, cls in core.link_registry.items()
            if isinstance(name, str) and "." not in name
            and getattr(cls, "__module__", "").startswith("greybox_processes")
            and not cls.__module__.startswith(IN_PROGRESS)
            and cls not in (GreyboxProcess, GreyboxStep)}


def _composite_configs(core):
    """``{address name: [config, ...]}`` of the process nodes of the bundled composites."""
    found = {}

    def walk(tree):
        if isinstance(tree, dict):
            if tree.get("_type") in ("process", "step") and "address" in tree:
                found.setdefault(tree["address"].partition(":")[2], []).append(tree.get("config", {}))
            for key, value in tree.items():
                if not str(key).startswith("_"):
                    walk(value)

    for path in sorted((ROOT / "composites").glob("*.yaml")):
        walk(build_document(path, core=core, validate=False)["state"])
    return found


def _instance(name, cls, core, composite_configs):
    """The process built from its defaults, else from a bundled composite's config."""
    if issubclass(cls, TierStep):   # a tier needs the spec it certifies
        candidates = [{"spec": str(ROOT / "composites" / "diauxie.yaml")}]
    else:
        candidates = [{}, *([EXAMPLE_CONFIGS[name]] if name in EXAMPLE_CONFIGS else []),
                      *composite_configs.get(name, [])]
    errors = []
    for config in candidates:
        try:
            return cls(config, core=core)
        except (ValueError, TypeError, KeyError) as error:
            errors.append(f"{type(error).__name__}: {error}")
    pytest.fail(f"{name}: cannot build it from its defaults or any composite in composites/ "
                f"to read its ports; add a config to EXAMPLE_CONFIGS here ({errors})")


def _ureg():
    ureg = pint.UnitRegistry()
    ureg.define("gDW = gram")   # gram dry weight (FBA fluxes and biomass)
    return ureg


def _docstring_units(doc: str, port: str) -> str | None:
    match = re.search(rf"^\s*{re.escape(port)}: .*\(([^()]+)\)\s*$", doc, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def _is_numeric_array(schema) -> bool:
    return (isinstance(schema, dict) and schema.get("_type") == "array"
            and str(schema.get("_data", "float64")).startswith(("float", "int", "uint")))


def test_every_registered_process_has_a_docstring_and_units_for_its_array_ports(base_core):
    ureg = _ureg()
    processes = _registered(base_core)
    assert {"GRN", "Tissue", "DynamicFBA", "RDME"} <= set(processes)
    configs = _composite_configs(base_core)
    problems = []
    for name, cls in sorted(processes.items()):
        doc = _own_doc(cls)
        if not doc:
            problems.append(f"{name} ({cls.__module__}): no docstring")
            continue
        if name == "Intervened":   # its ports are those of the process it wraps, checked there
            continue
        process = _instance(name, cls, base_core, configs)
        ports = {**process.inputs(), **process.outputs()}
        for port, schema in ports.items():
            if not _is_numeric_array(schema) or port_units(schema):
                continue
            units = _docstring_units(doc, port)
            if units is None:
                problems.append(f"{name}.{port}: array port without units in its schema or a "
                                f"'{port}: ... (units)' line in the docstring of {cls.__module__}")
                continue
            if units not in WORD_UNITS:
                try:
                    ureg.parse_units(units)
                except (pint.errors.UndefinedUnitError, AttributeError, ValueError):
                    problems.append(f"{name}.{port}: docstring units {units!r} are neither pint "
                                    f"units nor one of {WORD_UNITS}")
    assert not problems, "\n".join(problems)
