"""``compare_reports`` / ``greybox compare-reports``: two certifications of one spec, tier by tier."""
import copy
import json
import math

import pytest

from greybox_processes.wcm_hard.report import compare_reports


def _report(engine="pbg", folder="/tmp/a"):
    def tier(number, score, **evidence):
        return {"tier": number, "name": f"tier {number}", "status": "fail", "criterion": "c",
                "score": score, "evidence": evidence, "figures": [f"{folder}/tier{number}.png"],
                "notes": [], "quick": False, "wall_s": 10.0 * number, "engine": engine}

    return {"spec": "composites/ecoli_grey_box.yaml", "tiers": [1, 3], "quick": False,
            "run_all": True, "engine": engine, "certified": False, "verdict": "NOT CERTIFIED",
            "stopped_at": None, "wall_s": 100.0,
            "results": [tier(1, 2.7e-9, C_relative_violation=2.7e-9, steps=360),
                        tier(3, 0.153, lags=[47.3, 37.8], run_wall_s=5.0)]}


def test_two_engines_runs_differ_only_in_where_and_how_long_they_ran():
    first, second = _report("pbg", "/tmp/a"), _report("vivarium", "/tmp/b")
    second["wall_s"] = 80.0
    second["results"][1]["evidence"]["run_wall_s"] = 7.0
    comparison = compare_reports(first, second)
    assert comparison.same and comparison.tiers == [1, 3]
    assert comparison.only_first == comparison.only_second == []


def test_a_changed_score_evidence_or_list_length_is_found_where_it_is():
    first = _report()
    second = copy.deepcopy(first)
    second["results"][1]["score"] = math.nextafter(0.153, 1.0)  # one ulp: exact by default
    second["results"][0]["evidence"]["steps"] = 359
    second["results"][1]["evidence"]["lags"].append(1.0)
    comparison = compare_reports(first, second)
    assert not comparison.same
    where = {path: (a, b) for path, a, b in comparison.differences}
    assert where == {"/tier 3/score": (0.153, math.nextafter(0.153, 1.0)),
                     "/tier 1/evidence/steps": (360, 359),
                     "/tier 3/evidence/lags[]": (2, 3),
                     "/tier 3/evidence/lags[2]": ("<missing>", 1.0)}


def test_rtol_accepts_close_numbers_but_not_other_values():
    first = _report()
    second = copy.deepcopy(first)
    second["results"][1]["score"] *= 1 + 1e-12
    assert compare_reports(first, second, rtol=1e-9).same
    assert not compare_reports(first, second).same
    second["results"][1]["status"] = "pass"
    assert [d[0] for d in compare_reports(first, second, rtol=1e-9).differences] == [
        "/tier 3/status"]


def test_only_the_tiers_both_ran_are_compared_and_the_others_are_named():
    full = _report()
    part = copy.deepcopy(full)
    part["results"] = part["results"][1:]
    part["tiers"], part["certified"], part["verdict"] = [3], False, "NOT CERTIFIED"
    comparison = compare_reports(full, part)
    assert comparison.same and comparison.tiers == [3]
    assert comparison.only_first == [1] and comparison.only_second == []


def _cli(*args):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    return CliRunner().invoke(app, ["compare-reports", *map(str, args)])


def test_the_command_exits_0_when_the_same_1_when_not_2_without_a_report(tmp_path):
    for name, report in (("a", _report("pbg")), ("b", _report("vivarium")),
                         ("c", _report("pbg"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(report))
    changed = json.loads((tmp_path / "c" / "report.json").read_text())
    changed["results"][0]["status"] = "pass"
    (tmp_path / "c" / "report.json").write_text(json.dumps(changed))

    same = _cli(tmp_path / "a", tmp_path / "b" / "report.json")
    assert same.exit_code == 0, same.output
    assert "the same certification in tiers [1, 3]" in same.output
    differ = _cli(tmp_path / "a", tmp_path / "c")
    assert differ.exit_code == 1 and "/tier 1/status: 'fail' != 'pass'" in differ.output
    missing = _cli(tmp_path / "a", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "no report at" in missing.output
    (tmp_path / "d.json").write_text("not json")
    assert _cli(tmp_path / "a", tmp_path / "d.json").exit_code == 2


@pytest.mark.parametrize("other", [{"results": []}, {"results": [{"tier": 2}]}])
def test_reports_sharing_no_tier_are_not_called_the_same(tmp_path, other):
    (tmp_path / "a.json").write_text(json.dumps(_report()))
    (tmp_path / "b.json").write_text(json.dumps(dict(_report(), **other)))
    result = _cli(tmp_path / "a.json", tmp_path / "b.json")
    assert result.exit_code == 1 and "share no tier" in result.output
