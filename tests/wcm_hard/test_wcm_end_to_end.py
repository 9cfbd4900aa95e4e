"""``certify_command`` end to end on the diauxie composites (quick mode; slow: real runs)."""
import json

import pytest


def _app():
    import typer

    from greybox_processes.wcm_hard.cli import certify_command

    app = typer.Typer()
    app.command("certify")(certify_command)
    app.command("noop")(lambda: None)  # keep 'certify' a subcommand
    return app


def test_cli_rejects_bad_tiers(composites_dir, tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_app(), ["certify", str(composites_dir / "diauxie.yaml"),
                                         "--tiers", "1,x", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--tiers" in result.output


def test_cli_not_applicable_tiers_do_not_certify(composites_dir, tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_app(), ["certify", str(composites_dir / "diauxie.yaml"),
                                         "--tiers", "4,6", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["status"] for r in report["results"]] == ["not applicable"] * 2
    assert "NOT CERTIFIED" in result.output and (tmp_path / "report.md").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["diauxie.yaml", "diauxie_plain_dfba.yaml"])
def test_quick_certify_all_tiers(composites_dir, tmp_path, spec):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_app(), ["certify", str(composites_dir / spec), "--quick",
                                         "--all", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output  # honest: neither cell is certified
    report = json.loads((tmp_path / "report.json").read_text())
    status = {r["tier"]: r["status"] for r in report["results"]}
    assert status[1] == "pass" and status[2] == "fail"
    assert status[4] == status[6] == "not applicable"
    assert status[5] == "fail"  # e_coli_core: only ribosome x gyrase pairs can be dosed
    assert all(r["quick"] for r in report["results"])


#: what each cell earns, tier by tier, in quick mode (honest: none is certified)
CELL_VERDICTS = {
    "glass_box_cell.yaml": {1: "pass", 2: "fail", 3: "fail", 4: "not applicable", 5: "fail",
                            6: "not applicable", 7: "pass", 8: "pass"},
    "grey_box_cell.yaml": {1: "pass", 2: "fail", 3: "fail", 4: "not applicable", 5: "fail",
                           6: "not applicable", 7: "pass", 8: "pass"},
    "black_box_cell.yaml": {1: "fail", **{t: "not applicable" for t in range(2, 9)}},
}


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted(CELL_VERDICTS))
def test_quick_certify_runs_end_to_end_on_the_three_cells(composites_dir, tmp_path, spec):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_app(), ["certify", str(composites_dir / spec), "--quick",
                                         "--all", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "NOT CERTIFIED" in result.output, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert {r["tier"]: r["status"] for r in report["results"]} == CELL_VERDICTS[spec]
    for r in report["results"]:  # a score exactly when the tier could judge the cell
        assert (r["score"] is None) == (r["status"] == "not applicable"), r
