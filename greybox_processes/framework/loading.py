"""Composite specs: load, parametrise, override, build.

A composite spec is YAML in process-bigraph's own ``CompositeSpec`` format
(``name``, ``parameters``, ``state``, ``emitters``, ``${param}`` substitution).
Loading never fails silently: every problem raises :class:`~greybox_processes.errors.SpecError`
naming the spec file, the path inside it and the fix.

Two ways to make an ablation:

* a spec parameter: ``build_document(spec, params={'noise': 'sp'})``;
* any value in the state tree, by dotted path:
  ``build_document(spec, overrides={'grn.address': 'local:OtherGRN'})``.
"""
from __future__ import annotations

import copy
from pathlib import Path as FilePath
from typing import Any, Mapping

import yaml
from process_bigraph import CompositeSpec

from ..composites import resolve_spec
from ..errors import GreyboxError, SpecError
from .document import check_document_shape, split_path
from .interventions import with_interventions
from .registry import default_core, resolve_process_class, suggest
from .validation import validate_document

__all__ = [
    "load_spec",
    "build_document",
    "apply_overrides",
    "default_core",
    "resolve_process_class",
]


def load_spec(path):
    """Read a YAML (or JSON) composite spec into a :class:`process_bigraph.CompositeSpec`.

    ``path`` is a spec file or a bundled composite's name (``'ecoli_grey_box'``, see
    :func:`greybox_processes.composites.resolve_spec`).
    """
    path = FilePath(resolve_spec(path))
    if not path.is_file():
        raise SpecError("spec file not found", file=path,
                        fix="check the path, or give a bundled composite's name (`greybox "
                            "composites` lists them)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SpecError(f"not valid YAML{where}: {getattr(error, 'problem', error)}",
                        file=path, fix="fix the YAML syntax at that line") from error
    if not isinstance(raw, dict):
        raise SpecError("a spec must be a mapping with 'name' and 'state'", file=path,
                        fix="start the file with `name: ...` and put the composite under `state:`")
    check_document_shape(raw, file=path, expect_spec=True)
    if not raw.get("name"):
        raise SpecError("the spec has no 'name'", file=path, path=("name",),
                        fix="add `name: <a short name>` at the top level")
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise SpecError(f"'parameters' must map each parameter name to its declaration, got "
                        f"{type(parameters).__name__}", file=path, path=("parameters",),
                        fix="write `parameters: {q: {type: float, default: 1.0}}`, or remove "
                            "`parameters:`")
    for key, decl in parameters.items():
        if not isinstance(decl, dict) or "default" not in decl:
            raise SpecError(f"parameter {key!r} must be a mapping with a 'default'", file=path,
                            path=("parameters", key),
                            fix=f"write `{key}: {{type: float, default: ...}}`")
        kind = decl.get("type", "any")
        if not (isinstance(kind, str) and kind.strip()):
            raise SpecError(f"parameter {key!r} has type {kind!r}, which is not a type name",
                            file=path, path=("parameters", key, "type"),
                            fix="give a type name such as float, integer, string or boolean, "
                                "or leave `type:` out")
    interventions = raw.pop("interventions", None) or {}
    if not isinstance(interventions, dict):
        raise SpecError("'interventions' must map a process path to a list of interventions",
                        file=path, path=("interventions",),
                        fix="write `interventions: {fields: [{target: config.D, factor: 2, "
                            "profile: pulse, start: 1, end: 2}]}`")
    raw.setdefault("id", f"{path.stem}.{raw['name']}")
    try:
        spec = CompositeSpec.from_dict({k: v for k, v in raw.items()
                                        if k in CompositeSpec.__dataclass_fields__})
    except (TypeError, ValueError, AttributeError) as error:
        raise SpecError(str(error), file=path, fix="see composites/grn_cells.yaml for the format"
                        ) from error
    unknown = sorted(set(raw) - set(CompositeSpec.__dataclass_fields__))
    if unknown:
        raise SpecError(f"unknown top-level key(s) {unknown}", file=path, path=(unknown[0],),
                        fix="top-level keys are name, description, parameters, state, emitters, "
                            "interventions (and the other CompositeSpec fields)")
    spec.source_file = str(path)
    spec.interventions = interventions
    return spec


def _override_parts(dotted, *, file):
    try:
        parts = split_path(dotted)
    except ValueError as error:
        raise SpecError(f"override {dotted!r}: {error}", file=file,
                        fix="use e.g. grn.config.q=0.5") from None
    if not parts:
        raise SpecError("empty override path", file=file, fix="use e.g. grn.config.q=0.5")
    return parts


def apply_overrides(state: dict, overrides: Mapping[str, Any] | None, *, file=None,
                    parameters=()) -> dict:
    """A copy of ``state`` with dotted-path overrides applied (``'grn.config.q': 0.5``).

    The first part of each path must be a top-level key of the state and every
    parent must exist, so that a typo does not silently add a new store (``--set
    cells_per_tpye=1`` would otherwise run the default); the leaf may be new (a
    config key the spec left at its default). ``parameters`` are the spec's
    declared parameter names, offered as suggestions for a misspelt one.
    """
    state = copy.deepcopy(state)
    for dotted, value in (overrides or {}).items():
        parts = _override_parts(dotted, file=file)
        if parts[0] not in state:
            names = sorted(map(str, parameters))
            tops = sorted(map(str, state))
            raise SpecError(
                f"override {dotted!r}: {parts[0]!r} is neither a spec parameter nor a top-level "
                f"key of the state.{suggest(parts[0], names + tops)}",
                file=file, path=(parts[0],),
                fix=f"spell a declared parameter ({', '.join(names) or 'none declared'}) or a "
                    f"dotted path from a top-level key ({', '.join(tops) or 'none'}), e.g. "
                    "grn.config.q=0.5")
        node = state
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                options = list(node) if isinstance(node, dict) else []
                raise SpecError(
                    f"override {dotted!r}: no key {part!r} here.{suggest(part, options)}",
                    file=file, path=tuple(parts[:depth + 1]),
                    fix=f"existing keys here: {sorted(map(str, options))}")
            node = node[part]
        if not isinstance(node, dict):
            raise SpecError(f"override {dotted!r}: {'.'.join(map(str, parts[:-1]))} is a value, "
                            "not a mapping", file=file, path=tuple(parts[:-1]),
                            fix="override the value itself, not a key inside it")
        node[parts[-1]] = value
    return state


def _parameter_overrides(spec, params, overrides, *, file):
    """Move overrides that name a declared parameter (and no state key) into ``params``."""
    state = spec.state if isinstance(getattr(spec, "state", None), Mapping) else {}
    params, rest = dict(params or {}), {}
    for key, value in (overrides or {}).items():
        if key in spec.parameters and key not in state:
            if key in params:
                raise SpecError(f"{key!r} is given both as a parameter and as an override",
                                file=file, path=("parameters", key),
                                fix="give it once, in params (it is a declared parameter)")
            params[key] = value
        else:
            rest[key] = value
    return params, rest


def _check_parameter_types(spec, core, *, file):
    """Each declared parameter ``type`` is one the core can parse (else bigraph-schema raises a
    bare ``Exception`` that does not say which parameter)."""
    for name, decl in (spec.parameters or {}).items():
        kind = decl.get("type") if isinstance(decl, Mapping) else None
        if kind is None:
            continue
        try:
            if not isinstance(kind, str):
                raise TypeError(f"{type(kind).__name__} is not a type name")
            core.access(kind)
        except Exception as error:  # bigraph-schema raises bare Exception
            reason = str(error).split("\n")[0]
            raise SpecError(f"parameter {name!r} has type {kind!r}, which is not a known type "
                            f"({reason})", file=file, path=("parameters", name, "type"),
                            fix="use a type name such as float, integer, string or boolean, "
                                "or leave `type:` out") from None


def build_document(spec, *, params: Mapping[str, Any] | None = None,
                   overrides: Mapping[str, Any] | None = None,
                   interventions: Mapping[str, Any] | None = None, core=None,
                   validate: bool = True) -> dict:
    """A validated composite document from a spec (a CompositeSpec, a path or a dict).

    Parameters
    ----------
    spec : CompositeSpec, path to a YAML/JSON spec, a bundled composite's name
        (``'grn_cells'``, see ``greybox composites``), or a document ``{'state': ...}``.
    params : values for the spec's declared ``parameters`` (``${name}`` placeholders).
    overrides : dotted-path overrides of the state tree, applied after ``params``. The
        first part must be a top-level key of the state; an override named exactly
        like a declared parameter (and no state key) sets that parameter.
    interventions : ``{process path: [intervention, ...]}`` (scheduled, pulse or loop
        changes of a process parameter, see :mod:`.interventions`), added to those of
        the spec's top-level ``interventions:``.
    core : a process-bigraph core; default ``allocate_core(strict=True)``.
    """
    core = core if core is not None else default_core()
    file = None
    declared = ()
    if isinstance(spec, (str, FilePath)):
        spec = load_spec(spec)
    if isinstance(spec, CompositeSpec):
        file = getattr(spec, "source_file", None)
        declared = tuple(spec.parameters)
        params, overrides = _parameter_overrides(spec, params, overrides, file=file)
        unknown = sorted(set(params) - set(spec.parameters))
        if unknown:
            raise SpecError(
                f"unknown parameter(s) {unknown}.{suggest(unknown[0], spec.parameters)}",
                file=file, path=("parameters",),
                fix=f"declared parameters: {sorted(spec.parameters)}; to change any other value "
                    "use a dotted override such as grn.config.q=0.5")
        _check_parameter_types(spec, core, file=file)
        try:
            document = spec.to_document(params, core=core, emit=False)
        except GreyboxError:
            raise
        except Exception as error:  # bigraph-schema raises bare Exception
            # (an unparsable parameter type, a value its type cannot check, ...)
            reason = str(error).strip("'\"").split("\n")[0] or type(error).__name__
            raise SpecError(reason, file=file, path=("parameters",),
                            fix="declare every ${name} under `parameters:` with a default, use "
                                "type names such as float, integer, string or boolean, and "
                                "give values of the declared type") from error
    else:
        check_document_shape(spec)
        document = {**spec}
    document["state"] = apply_overrides(document["state"], overrides, file=file,
                                        parameters=declared)
    planned = {}
    for source in (getattr(spec, "interventions", None) or {}, interventions or {}):
        for target, entries in source.items():
            planned.setdefault(target, []).extend(entries)
    if planned:
        try:
            document = with_interventions(document, planned)
        except (ValueError, TypeError, KeyError) as error:
            raise SpecError(str(error), file=file, path=("interventions",),
                            fix="name a process of the composite and give each intervention a "
                                "target, a value or factor, and its timing") from error
    if validate:
        validate_document(document, core=core, file=file)
    return document
