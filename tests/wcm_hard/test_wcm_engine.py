"""``greybox certify --engine pbg|vivarium``: the tiers that run a composite run it in that engine.

Proof that vivarium-core really runs: a spy on the vivarium-core engine builder of
``framework.run`` (it returns a ``vivarium.core.engine.Engine``) and on ``framework.run.run``.
The cross-engine checks rest on the engines giving bit-identical trajectories
(tests/framework/test_engines.py), so a tier's score and evidence must be equal too.
"""
import json

import pytest

from greybox_processes.wcm_hard import certify, tiers
from greybox_processes.wcm_hard.report import compare_reports, markdown


@pytest.fixture()
def engine_spy(monkeypatch):
    """``{'runs': [engine asked of framework.run.run, ...], 'vivarium': [Engine, ...]}``."""
    import greybox_processes.framework.run as run_module

    seen = {"runs": [], "vivarium": []}
    real_run, real_engine = run_module.run, run_module.vivarium_engine

    def run(spec, time, **kwargs):
        seen["runs"].append(kwargs.get("engine", "pbg"))
        return real_run(spec, time, **kwargs)

    def vivarium_engine(document, core):
        engine = real_engine(document, core)
        seen["vivarium"].append(engine)
        return engine

    monkeypatch.setattr(run_module, "run", run)
    monkeypatch.setattr(run_module, "vivarium_engine", vivarium_engine)
    return seen


def _certify_cli(*args):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    return CliRunner().invoke(app, ["certify", *map(str, args)])


def test_certify_engine_vivarium_runs_tier1_under_vivarium_core(composites_dir, tmp_path,
                                                                engine_spy):
    from vivarium.core.engine import Engine

    spec = composites_dir / "diauxie.yaml"
    reports = {}
    for engine in ("vivarium", "pbg"):
        out = tmp_path / engine
        result = _certify_cli(spec, "--tiers", "1", "--quick", "--option", "1.quick_steps=20",
                              "--engine", engine, "--out", out)
        assert result.exit_code == 0, result.output  # the 20 steps conserve C and N
        reports[engine] = json.loads((out / "report.json").read_text())
        assert f"engine: {engine}" in (out / "report.md").read_text()
        if engine == "vivarium":
            assert engine_spy["runs"] == ["vivarium"]
            assert [type(e) for e in engine_spy["vivarium"]] == [Engine]
    assert engine_spy["runs"] == ["vivarium", "pbg"] and len(engine_spy["vivarium"]) == 1
    viv, pbg = (reports[e]["results"][0] for e in ("vivarium", "pbg"))
    assert reports["vivarium"]["engine"] == viv["engine"] == "vivarium"
    assert reports["pbg"]["engine"] == pbg["engine"] == "pbg"
    assert viv["status"] == pbg["status"] == "pass"
    # bit-identical trajectories: the same score and evidence, to the last bit
    assert viv["score"] == pbg["score"] and viv["evidence"] == pbg["evidence"]
    assert viv["evidence"]["steps"] == 20
    # and so the two certifications are the same in every field but wall time and engine
    assert compare_reports(reports["vivarium"], reports["pbg"]).same


def test_a_tier_option_sets_the_engine_of_that_tier_only(composites_dir, engine_spy):
    report = certify(composites_dir / "diauxie.yaml", tiers=[1, 4], quick=True, progress=False,
                     options={1: {"engine": "vivarium", "quick_steps": 10}})
    conservation, stress = report.results
    assert report.engine == "pbg" and conservation.engine == "vivarium"
    assert engine_spy["runs"] == ["vivarium"] and len(engine_spy["vivarium"]) == 1
    # tier 4 runs no composite: no engine is recorded, whichever was asked
    assert stress.engine is None and stress.status == "not applicable"


def test_a_tier_that_runs_no_composite_says_the_engine_was_not_used(composites_dir,
                                                                    engine_spy):
    report = certify(composites_dir / "diauxie.yaml", tiers=[4], engine="vivarium",
                     progress=False)
    result = report.results[0]
    assert engine_spy == {"runs": [], "vivarium": []}
    assert result.engine is None
    assert "engine 'vivarium' not used: this evaluation ran no composite" in result.notes
    assert "engine: none (no composite run)" in markdown(report)


@pytest.mark.parametrize("args, hint", [
    (["--engine", "vivrium"], "--engine"),
    (["--option", "1.engine=vivrium"], "tier 1 option engine"),
])
def test_a_bad_engine_is_a_usage_error_naming_the_choices(composites_dir, tmp_path, engine_spy,
                                                          args, hint):
    result = _certify_cli(composites_dir / "diauxie.yaml", "--tiers", "1", *args,
                          "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert hint in result.output and "pbg, vivarium" in result.output
    assert "vivrium" in result.output
    assert engine_spy["runs"] == [] and not (tmp_path / "report.json").exists()


def test_a_bad_engine_is_an_error_in_the_library_too(composites_dir, base_core):
    spec = str(composites_dir / "diauxie.yaml")
    with pytest.raises(ValueError, match="engine must be one of pbg, vivarium, got 'jax'"):
        certify(spec, tiers=[1], engine="jax", progress=False)
    with pytest.raises(ValueError, match="tier 1: engine must be one of pbg, vivarium"):
        tiers.ConservationTier({"spec": spec, "engine": "jax"}, base_core)


def test_ablation_runs_its_tiers_in_its_engine_and_reuses_only_that_engines_results(
        composites_dir, base_core, engine_spy):
    """Tier 7 hands its engine to tiers 1 and 3; an earlier tier 1 of another engine is run
    again, one of the same engine is reused."""
    spec, baseline = (str(composites_dir / name) for name in ("diauxie.yaml",
                                                            "diauxie_plain_dfba.yaml"))
    config = {"spec": spec, "engine": "vivarium", "quick": True, "tier1_steps": 5,
              "tier3_time": 0.1, "mechanistic_baseline": baseline, "data_baseline": baseline}
    for earlier_engine, runs in (("pbg", 6), ("vivarium", 5)):
        engine_spy["runs"].clear()
        step = tiers.AblationTier(config, base_core)
        step.prior = {1: tiers.TierResult(1, "conservation", "pass", "", score=0.0,
                                          engine=earlier_engine)}
        result = step.evaluate()
        # tier 3 on the cell and the baseline (two runs each) and tier 1 on the baseline,
        # plus tier 1 on the cell unless the earlier result ran in the same engine
        assert engine_spy["runs"] == ["vivarium"] * runs, earlier_engine
        assert result.engine == "vivarium"


@pytest.mark.slow
def test_population_tiers_1_and_3_score_the_same_in_both_engines(composites_dir, tmp_path):
    """Tiers 1 and 3 (quick) on a small E. coli population (~3 min per engine on 2 shared
    cores): the spec's culture four times denser (initial_biomass 0.004 gDW/L), so that glucose
    runs out after fewer divisions (about 5 cells at the shift from tier 3's one) within
    300 min."""
    import yaml

    document = yaml.safe_load((composites_dir / "ecoli_population.yaml").read_text())
    document["parameters"]["initial_biomass"]["default"] = 0.004
    spec = tmp_path / "small_population.yaml"
    spec.write_text(yaml.safe_dump(document))
    options = {1: {"quick_population_minutes": 60.0}, 3: {"quick_population_minutes": 300.0}}
    reports = {engine: certify(spec, tiers=[1, 3], quick=True, run_all=True, engine=engine,
                               options=options, progress=False)
               for engine in ("pbg", "vivarium")}
    for engine, report in reports.items():
        assert [(r.tier, r.engine) for r in report.results] == [(1, engine), (3, engine)]
        assert all(r.status in ("pass", "fail") for r in report.results), report.results
    pbg, viv = (reports[e].results for e in ("pbg", "vivarium"))
    for a, b in zip(pbg, viv):
        assert a.score == b.score and a.to_dict()["evidence"] == b.to_dict()["evidence"]
    lag = pbg[1].evidence["0.02pct"]
    assert lag["cells_at_shift"] >= 2 and 0 < lag["population_lag_min"] < 300
