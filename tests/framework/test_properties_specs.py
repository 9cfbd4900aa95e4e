"""Property: a mutated composite spec builds (and runs), or raises a SpecError naming the file.

Hypothesis starts from the bundled specs (made tiny) and breaks them the ways a user does:
it deletes a key, puts a wrong-type value in place of one (text, null, a list, a mapping, a
negative, huge or non-finite number), misspells a key, adds an unknown key or rewires a port
to a store or port that does not exist. Whatever it does, loading and validating gives a
document or a :class:`~greybox_processes.errors.SpecError` (a GreyboxError) whose message
names the spec file, never a bare TypeError/KeyError/AttributeError from deep inside.

Each bug these properties found has an explicit regression test below them.
Bounded (derandomized, no example database) so that it stays in the fast suite.
"""
from __future__ import annotations

import copy
import math
import textwrap

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greybox_processes as gb
from greybox_processes.errors import GreyboxError, SpecError

COMPOSITES_SMALL = {
    "grn_cells": {"cells_per_type": 1},
    "rdme_bimolecular": {"size": 4},
    "tissue_2d": {"cells_per_type": 2, "initial_per_type": 1},
}


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _small_spec(composites_dir, name) -> dict:
    raw = yaml.safe_load((composites_dir / f"{name}.yaml").read_text())
    for key, value in COMPOSITES_SMALL[name].items():
        raw["parameters"][key]["default"] = value
    return raw


def _paths(node, here=()):
    """Every key/index path of a nested YAML document."""
    found = []
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        found.append(here + (key,))
        found.extend(_paths(value, here + (key,)))
    return found


def _get(tree, path):
    for part in path:
        tree = tree[part]
    return tree


BAD_VALUES = st.one_of(
    st.sampled_from([None, "", "x", "${nope}", [], [1, 2], [None], {}, {"a": 1}, -1, 0, -0.0,
                     1e300, -1e300, math.nan, math.inf, -math.inf, 10 ** 12, 2 ** 70, True,
                     "1e-3", "..", ["..", ".."], [[]], "float", "list[float]"]),
    st.text(max_size=6), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True))


def _typo(key):
    text = str(key)
    return st.sampled_from([text[:-1] or "_", text + "x", "_" + text, text.upper(), text[::-1]])


@st.composite
def mutated(draw, raw):
    """``(description, mutated copy)`` of the YAML document ``raw``."""
    paths = _paths(raw)
    mappings = [()] + [p for p in paths if isinstance(_get(raw, p), dict)]
    wires = [p for p in paths if len(p) >= 2 and p[-2] in ("inputs", "outputs")]
    kind = draw(st.sampled_from(["delete", "replace", "rename", "add", "rewire"]))
    doc = copy.deepcopy(raw)
    if kind == "add":
        where = draw(st.sampled_from(mappings))
        key = draw(st.text(min_size=1, max_size=6))
        _get(doc, where)[key] = draw(BAD_VALUES)
        return f"add {key!r} under {where}", doc
    if kind == "rewire":
        where = draw(st.sampled_from(wires))
        wire = draw(st.one_of(
            st.lists(st.sampled_from(["cells", "lattice", "fields", "mrna", "mrnaa", "..",
                                      "nowhere", "grn", "rdme"]), min_size=1, max_size=3),
            BAD_VALUES))
        _get(doc, where[:-1])[where[-1]] = wire
        return f"rewire {where} to {wire!r}", doc
    where = draw(st.sampled_from(paths))
    parent, key = _get(doc, where[:-1]), where[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "replace" or isinstance(parent, list):
        parent[key] = draw(BAD_VALUES)
    else:
        parent[draw(_typo(key))] = parent.pop(key)
    return f"{kind} {where}", doc


def _write(tmp_path, doc):
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _build_or_spec_error(path, core, what):
    """The built document, or ``None`` after checking the SpecError names the file."""
    try:
        return gb.build_document(path, core=core)
    except SpecError as error:
        message = str(error)
        assert error.reason.strip() and str(path) in message, (what, message)
        assert "Fix:" in message, (what, message)
        return None


def _spec_mutation_property(composites_dir, name, n):
    raw = _small_spec(composites_dir, name)

    @_settings(n)
    @given(mutation=mutated(raw))
    def check(core, tmp_path, mutation):
        what, doc = mutation
        _build_or_spec_error(_write(tmp_path, doc), core, what)

    return check


@pytest.mark.parametrize("name,n", [("grn_cells", 80), ("rdme_bimolecular", 40),
                                    ("tissue_2d", 25)])
def test_mutated_spec_builds_or_raises_a_spec_error(composites_dir, core, tmp_path, name, n):
    _spec_mutation_property(composites_dir, name, n)(core, tmp_path)


def test_mutated_grn_spec_runs_one_interval_or_raises(composites_dir, core, tmp_path):
    """Where a mutated GRN spec builds (and one interval is cheap), it runs: the result, or a
    GreyboxError with a message; a result holds no NaN and no negative concentration."""
    raw = _small_spec(composites_dir, "grn_cells")

    @_settings(40)
    @given(mutation=mutated(raw))
    def check(mutation):
        what, doc = mutation
        path = _write(tmp_path, doc)
        built = _build_or_spec_error(path, core, what)
        node = (built or {}).get("state", {}).get("grn")
        if not isinstance(node, dict):
            return
        interval, dt = node.get("interval", 1.0), node.get("config", {}).get("dt", 0.01)
        if not (0.01 <= interval <= 2 and isinstance(dt, float) and interval / dt <= 400):
            return  # a valid but long run: not what this property is about
        try:
            result = gb.run(path, interval, core=core, progress=False)
        except GreyboxError as error:
            assert str(error).strip(), what
            return
        for name, variable in result.data_vars.items():
            values = np.asarray(variable.values, dtype=float)
            assert np.isfinite(values).all() and (values >= 0).all(), (what, name)

    check()


# --- regression tests: each raw traceback the properties found ---------------------------

GRN_SPEC = """
name: small
parameters:
  cells: {type: integer, default: 1}
state:
  cells: {}
  grn:
    _type: process
    address: local:GRN
    config: {cells_per_type: '${cells}'}
    interval: 1.0
    inputs: {mrna: [cells, mrna], protein: [cells, protein]}
    outputs: {mrna: [cells, mrna], protein: [cells, protein]}
"""


def _spec(tmp_path, old="", new="", text=GRN_SPEC):
    assert old in text
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text.replace(old, new, 1)))
    return path


def _expect(path, core, where, *words):
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    message = str(info.value)
    assert str(path) in message and where in message and "Fix:" in message, message
    for word in words:
        assert word in message, message
    return message


def test_parameters_not_a_mapping(tmp_path, core):
    # was AttributeError: 'float' object has no attribute 'items'
    path = _spec(tmp_path, "parameters:\n  cells: {type: integer, default: 1}",
                 "parameters: 1.5\n")
    _expect(path, core, "at parameters", "'parameters' must map")


@pytest.mark.parametrize("kind", ["1.5", "'['", "'\"x'"])
def test_parameter_type_that_is_not_a_type(tmp_path, core, kind):
    # was a bare Exception from bigraph-schema: "not a valid schema" / "unable to parse type"
    path = _spec(tmp_path, "type: integer", f"type: {kind}")
    _expect(path, core, "parameters/cells/type", "not a", "cells")


@pytest.mark.parametrize("value", ["1.5", "true", "[cells, mrna]"])
def test_ports_not_a_mapping(tmp_path, core, value):
    # was TypeError: 'float' object is not iterable
    path = _spec(tmp_path, "outputs: {mrna: [cells, mrna], protein: [cells, protein]}",
                 f"outputs: {value}")
    _expect(path, core, "grn/outputs", "'outputs' must map each port")


@pytest.mark.parametrize("wire", ["[cells, [mrna]]", "[cells, {a: 1}]", "[]", "[cells, null]"])
def test_wire_with_a_part_that_is_not_a_store_name(tmp_path, core, wire):
    # was TypeError: unhashable type: 'list'
    path = _spec(tmp_path, "inputs: {mrna: [cells, mrna]", f"inputs: {{mrna: {wire}")
    _expect(path, core, "grn/inputs/mrna", "wire")


def test_wire_through_a_store_that_holds_a_value(tmp_path, core):
    # was AttributeError: 'float' object has no attribute 'keys' when the engine built it
    path = _spec(tmp_path, "  cells: {}", "  cells: 1.5")
    _expect(path, core, "grn/", "passes through store 'cells'", "1.5")


@pytest.mark.parametrize("old,new,words", [
    ("    _type: process\n", "", ("no '_type'", "_type: process")),
    ("    _type: process\n", "    _typ: process\n", ("no '_type'",)),
    ("_type: process", "_type: '!'", ("_type '!'",)),
])
def test_process_node_without_a_process_type(tmp_path, core, old, new, words):
    # without _type the engines kept the node as a plain value: a run of nothing, exit 0
    # (and a garbage _type was a bare Exception from bigraph-schema)
    path = _spec(tmp_path, old, new)
    _expect(path, core, "at grn", *words)
    with pytest.raises(SpecError):
        gb.run(path, 1.0, core=core, progress=False)


@pytest.mark.parametrize("old,new,key", [
    ("    interval: 1.0\n", "    intervall: 2.0\n", "intervall"),
    ("    interval: 1.0\n", "    interval: 1.0\n    dt: 0.5\n", "dt"),
])
def test_unknown_key_in_a_process_node(tmp_path, core, old, new, key):
    # the engines ignored it: `intervall: 2` ran silently at the default interval 1
    path = _spec(tmp_path, old, new)
    _expect(path, core, f"at grn/{key}", "unknown key", "config:")


def test_config_value_of_the_wrong_type_is_named(tmp_path, core):
    # was AttributeError: 'float' object has no attribute 'strip' (inside the GRN)
    path = _spec(tmp_path, "{cells_per_type: '${cells}'}", "{cells_per_type: 1, network: 1.5}")
    _expect(path, core, "grn/config", "GRN rejected its config", "network", "declared string")


def test_config_value_out_of_range_inside_the_process(tmp_path, core):
    # a seed beyond 64 bits was OverflowError from jax.random.key
    path = _spec(tmp_path, "{cells_per_type: '${cells}'}",
                 "{cells_per_type: 1, seed: 1180591620717411303424}")
    _expect(path, core, "grn/config", "OverflowError")


def test_rdme_lattice_too_large_to_allocate(composites_dir, core, tmp_path):
    # was a raw MemoryError (249 PiB) from the RDME geometry
    raw = _small_spec(composites_dir, "rdme_bimolecular")
    raw["state"]["rdme"]["config"]["model"]["geometry"]["shape"][2] = 10 ** 16
    path = _write(tmp_path, raw)
    _expect(path, core, "rdme/config", "RDME rejected its config")
