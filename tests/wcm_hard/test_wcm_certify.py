"""Algorithm 1 (order, stop at first failure, --all), the reports, and the tier Steps' contracts."""
import json

import pytest

from greybox_processes.framework.base import describe
from greybox_processes.wcm_hard import certify, tiers, write_report
from greybox_processes.wcm_hard.report import summary_table
from greybox_processes.wcm_hard.tiers import TIERS
from greybox_processes.wcm_hard.tiers.base import TierStep


def _fake(number, status):
    class Fake(TierStep):
        """A fake tier with a fixed verdict."""

        tier, title, criterion = number, f"fake {number}", "none"

        def _evaluate(self, client):
            return self.make(status, 1.0 if status == "pass" else 0.0)

    return Fake


@pytest.fixture()
def fake_tiers(monkeypatch):
    calls = []

    def install(statuses):
        table = {}
        for number, status in statuses.items():
            cls = _fake(number, status)
            original = cls._evaluate
            cls._evaluate = lambda self, client, o=original, n=number: (calls.append(n),
                                                                         o(self, client))[1]
            table[number] = cls
        import sys

        monkeypatch.setattr(sys.modules["greybox_processes.wcm_hard.certify"], "TIERS", table)
        monkeypatch.setattr(sys.modules["greybox_processes.wcm_hard.tiers"], "TIERS", table)
        return calls
    return install


def test_stops_at_first_failure(fake_tiers, composites_dir):
    calls = fake_tiers({1: "pass", 2: "fail", 3: "pass"})
    result = certify(composites_dir / "diauxie.yaml", progress=False)
    assert calls == [1, 2] and result.stopped_at == 2 and not result.certified


def test_all_runs_every_tier_and_not_applicable_does_not_stop(fake_tiers, composites_dir):
    calls = fake_tiers({1: "pass", 2: "not applicable", 3: "fail", 4: "pass"})
    result = certify(composites_dir / "diauxie.yaml", run_all=True, progress=False)
    assert calls == [1, 2, 3, 4] and result.stopped_at is None and not result.certified
    calls.clear()
    result = certify(composites_dir / "diauxie.yaml", tiers=[4, 2, 1], progress=False)
    assert calls == [1, 2, 4] and not result.certified  # tier 2 not applicable: no certificate


def test_certified_only_when_every_selected_tier_passes(fake_tiers, composites_dir, tmp_path):
    fake_tiers({1: "pass", 3: "pass"})
    result = certify(composites_dir / "diauxie.yaml", progress=False)
    assert result.certified
    json_path, md_path = write_report(result, tmp_path)
    assert json.loads(json_path.read_text())["certified"] is True
    assert "CERTIFIED VIRTUAL CELL" in md_path.read_text()
    assert "| 3 | fake 3 | pass |" in summary_table(result)


def test_a_subset_of_tiers_or_quick_mode_is_not_called_a_certification(fake_tiers,
                                                                        composites_dir):
    fake_tiers({1: "pass", 3: "pass", 5: "pass"})
    subset = certify(composites_dir / "diauxie.yaml", tiers=[1, 3], progress=False)
    assert subset.certified and subset.verdict.startswith("SELECTED TIERS PASSED (tiers [1, 3]")
    quick = certify(composites_dir / "diauxie.yaml", quick=True, progress=False)
    assert "quick mode" in quick.verdict and "CERTIFIED VIRTUAL CELL" not in quick.verdict


def test_unknown_spec_and_tier_are_errors(composites_dir):
    from greybox_processes.errors import SpecError

    with pytest.raises(SpecError, match="not found"):
        certify("no/such/spec.yaml", progress=False)
    with pytest.raises(ValueError, match="tiers are 1 to 8"):
        certify(composites_dir / "diauxie.yaml", tiers=[9], progress=False)


def test_every_tier_is_a_described_step_with_validated_config(base_core):
    from process_bigraph import Step

    assert sorted(TIERS) == list(range(1, 9))
    for number, cls in TIERS.items():
        assert issubclass(cls, Step) and describe(cls).startswith(f"WCM-Hard tier {number}")
        with pytest.raises(ValueError, match="needs 'spec'"):
            cls({}, base_core)


def test_mechanisms_missing_give_honest_not_applicable(base_core, composites_dir):
    spec = str(composites_dir / "diauxie.yaml")
    for cls in (tiers.StressTier, tiers.DephasingTier):
        step = cls({"spec": spec, "quick": True}, base_core)
        out = step.update({})
        result = step.result
        assert result.status == "not applicable" and result.score is None, result
        assert out["score"] != out["score"]  # NaN, never a made-up number
        assert any(n.startswith("not applicable:") for n in result.notes)
    # a composite without a metabolic cell has nothing a drug can act on
    synergy = tiers.SynergyTier({"spec": str(composites_dir / "rdme_bimolecular.yaml")},
                                base_core).evaluate()
    assert synergy.status == "not applicable" and synergy.score is None
    assert synergy.evidence["pairs_scored"] > 0


def test_synergy_tier_scores_the_pairs_its_cell_can_dose(base_core, composites_dir):
    spec = str(composites_dir / "diauxie.yaml")
    result = tiers.SynergyTier({"spec": spec}, base_core).evaluate()
    evidence = result.evidence
    assert result.status == "fail" and evidence["model"] == "e_coli_core_lactose"
    pairs = evidence["pairs"]
    hits = sum(p["predicted"] == p["observed"] for p in pairs)
    assert result.score == pytest.approx(hits / len(pairs))  # undosed pairs count as misses
    dosed = [p for p in pairs if p["predicted"] != "not simulated"]
    from greybox_processes.wcm_hard.tiers.t5_synergy import DRUG_TARGETS

    assert dosed, "the glass-box cell has ribosomes and a lumped DNA synthesis to act on"
    for pair in dosed:  # e_coli_core lacks murein and folate: ribosome x gyrase pairs only
        targets = {DRUG_TARGETS[d] for d in pair["drugs"].split("+")}
        assert targets == {"ribosome", "DNA gyrase"}
        assert pair["loewe_index"] == pytest.approx(2.0, rel=1e-3)  # Liebig bottleneck
    assert result.score <= evidence["target_level_ceiling"] + 1e-12


def test_ablation_without_baselines_is_not_applicable(base_core, composites_dir, tmp_path):
    import shutil

    spec = tmp_path / "cell.yaml"
    shutil.copy(composites_dir / "diauxie_plain_dfba.yaml", spec)
    result = tiers.AblationTier({"spec": str(spec)}, base_core).evaluate()
    assert result.status == "not applicable" and "baseline" in result.notes[0]


def test_a_run_that_breaks_down_fails_tier1_with_its_evidence(base_core, composites_dir,
                                                               monkeypatch):
    """A model whose state goes non-finite mid-run (the data-only cell over 1e5 steps) fails
    tier 1; what it emitted before is audited, and the step it stopped at is reported."""
    import greybox_processes.framework.run as run_module
    from greybox_processes.errors import SimulationError

    real_run = run_module.run

    def breaks_down(spec, time, **kwargs):
        error = SimulationError("DataOnlyCell's input stores produced 1 non-finite value(s)")
        error.partial = real_run(spec, time / 2, **kwargs)
        raise error

    monkeypatch.setattr(run_module, "run", breaks_down)
    step = tiers.ConservationTier({"spec": str(composites_dir / "diauxie.yaml"), "quick": True,
                                   "quick_steps": 20}, base_core)
    result = step.evaluate()
    assert result.status == "fail", result
    assert result.evidence["stopped_at_step"] == 10
    assert result.score == float("inf")                    # a breakdown has no bounded violation
    assert result.evidence["C_relative_violation"] < 1e-6   # though the part it ran conserved
    assert any("stopped after 10 of 20 steps" in n for n in result.notes)
