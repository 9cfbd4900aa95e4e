"""Every bad input to a composite spec gives an error naming the file, the path and the fix."""
import textwrap

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError

GRN_NODE = """
  grn:
    _type: process
    address: {address}
    config: {config}
    interval: 1.0
    inputs:
      mrna: [cells, {mrna_in}]
      protein: [cells, protein]
    outputs:
      mrna: [cells, mrna]
      protein: [cells, protein]
"""


def write_spec(tmp_path, address="local:GRN", config="{cells_per_type: 2}", mrna_in="mrna",
               extra_state="", header="name: bad\nstate:\n  cells: {}\n"):
    text = header + extra_state + GRN_NODE.format(address=address, config=config, mrna_in=mrna_in)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def check(error: SpecError, path, where, fix_words):
    message = str(error)
    assert str(path) in message, message
    assert where in message, message
    assert "Fix:" in message
    for word in fix_words:
        assert word in message, message


def test_good_spec_builds(tmp_path, core):
    document = gb.build_document(write_spec(tmp_path), core=core)
    assert document["state"]["grn"]["config"] == {"cells_per_type": 2}


def test_unknown_process_suggests_close_names(tmp_path, core):
    path = write_spec(tmp_path, address="local:GNR")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/address", ["unknown process 'GNR'", "'GRN'", "greybox processes"])


def test_unknown_config_key_under_strict_core(tmp_path, core):
    path = write_spec(tmp_path, config="{cells_per_type: 2, nosie: sp}")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/config", ["nosie", "'noise'", "declared keys"])


def test_bad_config_value_names_the_process(tmp_path, core):
    path = write_spec(tmp_path, config="{cells_per_type: 2, noise: loud}")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/config", ["noise must be one of"])


def test_wire_to_a_store_that_does_not_exist(tmp_path, core):
    path = write_spec(tmp_path, mrna_in="mrnaa")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/inputs/mrna", ["cells/mrnaa", "'cells/mrna'"])


def test_wire_to_an_unknown_port(tmp_path, core):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent("""
        name: bad
        state:
          grn:
            _type: process
            address: local:GRN
            config: {cells_per_type: 2}
            inputs: {mrna: [cells, mrna], protien: [cells, protein]}
            outputs: {mrna: [cells, mrna], protein: [cells, protein]}
        """))
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/inputs/protien", ["no input port 'protien'", "'protein'"])


def test_unwired_port(tmp_path, core):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent("""
        name: bad
        state:
          grn:
            _type: process
            address: local:GRN
            config: {cells_per_type: 2}
            inputs: {mrna: [cells, mrna], protein: [cells, protein]}
            outputs: {mrna: [cells, mrna]}
        """))
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "grn/outputs", ["'protein'", "not wired"])


def test_initial_value_of_wrong_shape(tmp_path, core):
    path = write_spec(tmp_path, header="name: bad\nstate:\n  cells:\n    mrna: [[1.0, 2.0]]\n")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=core)
    check(info.value, path, "cells/mrna", ["shape (1, 2)", "(18, 100)"])


def test_two_processes_disagree_on_shape(core):
    document = gb.composites.grn_cells(cells_per_type=2)
    other = dict(document["state"]["grn"], config={"cells_per_type": 3})
    document["state"]["grn2"] = other
    with pytest.raises(SpecError) as info:
        gb.build_document(document, core=core)
    message = str(info.value)
    assert "<python spec>" in message and "cells/mrna" in message
    assert "(18, 100)" in message and "(27, 100)" in message


def test_unit_mismatch_between_ports(core):
    from framework.toy_processes import register

    register(core)
    document = {"state": {
        "decay": {"_type": "process", "address": "local:Decay", "config": {"units": "mM"},
                  "inputs": {"x": ["x"]}, "outputs": {"x": ["x"]}},
        "reader": {"_type": "process", "address": "local:Reader", "config": {"units": "uM"},
                   "inputs": {"x": ["x"]}, "outputs": {"total": ["total"]}},
    }}
    with pytest.raises(SpecError) as info:
        gb.build_document(document, core=core)
    assert "'mM'" in str(info.value) and "'uM'" in str(info.value)
    assert "same units" in str(info.value)


def test_bare_state_tree_where_a_document_is_expected(core):
    tree = gb.composites.grn_cells()["state"]
    with pytest.raises(SpecError) as info:
        gb.build_document(tree, core=core)
    assert "bare state tree" in str(info.value)
    assert "{'state': tree}" in str(info.value)


def test_bare_state_tree_in_a_yaml_file(tmp_path, core):
    path = tmp_path / "spec.yaml"
    path.write_text("name: bare\n" + GRN_NODE.format(address="local:GRN", config="{}",
                                                     mrna_in="mrna").replace("\n  ", "\n"))
    with pytest.raises(SpecError) as info:
        gb.load_spec(path)
    check(info.value, path, "grn", ["bare state tree", "state:"])


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: x\nstate:\n  grn: {address: local:GRN\n")
    with pytest.raises(SpecError) as info:
        gb.load_spec(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_unknown_parameter_and_wrong_type(composites_dir, core):
    spec = composites_dir / "grn_cells.yaml"
    with pytest.raises(SpecError) as info:
        gb.build_document(spec, params={"cels_per_type": 3}, core=core)
    assert "'cells_per_type'" in str(info.value) and str(spec) in str(info.value)
    with pytest.raises(SpecError) as info:
        gb.build_document(spec, params={"cells_per_type": "many"}, core=core)
    assert "cells_per_type" in str(info.value) and "integer" in str(info.value)


def test_override_path_typo(composites_dir, core):
    spec = composites_dir / "grn_cells.yaml"
    with pytest.raises(SpecError) as info:
        gb.build_document(spec, overrides={"gnr.config.q": 0.1}, core=core)
    assert "'grn'" in str(info.value)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError) as info:
        gb.load_spec(tmp_path / "nope.yaml")
    assert "not found" in str(info.value)


def test_process_level_shape_check_on_update(core):
    from greybox_processes.grn.process import GRN

    grn = GRN({"cells_per_type": 1}, core=core)
    with pytest.raises(ValueError, match="expects"):
        grn.update({"mrna": np.zeros((2, 2)), "protein": np.zeros((2, 2))}, 1.0)


def test_interval_not_a_multiple_of_dt(core):
    from greybox_processes.grn.process import GRN

    grn = GRN({"cells_per_type": 1, "dt": 0.3}, core=core)
    with pytest.raises(ValueError, match="multiple of dt"):
        grn.update(grn.initial_state(), 1.0)


def test_override_typo_of_a_parameter_is_an_error_not_a_new_store(composites_dir, core):
    # `--set cells_per_tpye=1` used to add a top-level store and run the default 30 cells
    spec = composites_dir / "grn_cells.yaml"
    with pytest.raises(SpecError) as info:
        gb.build_document(spec, overrides={"cells_per_tpye": 1}, core=core)
    check(info.value, spec, "cells_per_tpye",
          ["neither a spec parameter nor a top-level key", "'cells_per_type'", "declared parameter"])


def test_override_typo_in_a_python_document_suggests_the_store(core):
    document = gb.composites.grn_cells(cells_per_type=1)
    with pytest.raises(SpecError) as info:
        gb.build_document(document, overrides={"gnr": {}}, core=core)
    assert "<python spec>" in str(info.value) and "'grn'" in str(info.value)
    assert "Fix:" in str(info.value)


def test_override_named_like_a_parameter_sets_the_parameter(composites_dir, core):
    document = gb.build_document(composites_dir / "grn_cells.yaml",
                                 overrides={"cells_per_type": 1}, core=core)
    assert "cells_per_type" not in document["state"]
    assert document["state"]["grn"]["config"]["cells_per_type"] == 1


def test_cli_set_typo_of_a_parameter_fails_before_running(composites_dir):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    result = CliRunner().invoke(app, ["show", str(composites_dir / "grn_cells.yaml"),
                                      "--set", "cells_per_tpye=1"])
    assert result.exit_code == 2, result.output
    assert "'cells_per_type'" in result.output


@pytest.mark.parametrize("interval", [0, -1.0, float("nan"), float("inf"), "fast"])
def test_bad_process_interval_names_the_path(core, interval):
    document = gb.composites.grn_cells(cells_per_type=1)
    document["state"]["grn"]["interval"] = interval
    with pytest.raises(SpecError) as info:
        gb.validate_document(document, core=core)
    assert "grn/interval" in str(info.value) and "positive" in str(info.value)
    with pytest.raises(SpecError, match="grn/interval"):
        gb.build_document(document, core=core)
