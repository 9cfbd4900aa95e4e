"""Tier 7 over replicates: spec parameters reach the runs, each replicate's parameters go to the
specs that declare them, and the verdict is the paired test's."""
import math

import pytest

from greybox_processes.wcm_hard import tiers
from greybox_processes.wcm_hard.tiers.base import FAIL, PASS, TierResult


def test_tier_parameters_act_on_the_runs(base_core, composites_dir):
    """A tier's ``parameters`` change the composites it runs (here the starting biomass of the
    data-only cell changes its tier-1 violation) and are recorded in the evidence."""
    spec = str(composites_dir / "black_box_cell.yaml")
    default = tiers.ConservationTier({"spec": spec, "quick": True}, base_core).evaluate()
    changed = tiers.ConservationTier({"spec": spec, "quick": True,
                                      "parameters": {"initial_biomass": 0.002}},
                                     base_core).evaluate()
    assert default.score is not None and changed.score is not None
    assert changed.score != pytest.approx(default.score, rel=1e-3)
    assert changed.evidence["parameters"] == {"initial_biomass": 0.002}
    assert "parameters" not in default.evidence


def test_a_parameter_the_spec_does_not_declare_is_refused(base_core, composites_dir):
    spec = str(composites_dir / "mechanistic_only_cell.yaml")
    with pytest.raises(ValueError, match=r"declares no parameter \['seed'\]"):
        tiers.ConservationTier({"spec": spec, "parameters": {"seed": 3}}, base_core)


@pytest.fixture()
def scripted_tiers(monkeypatch, composites_dir):
    """Tier 7 with tiers 1 and 3 replaced by scores computed from the replicate's parameters;
    every call is recorded as ``(tier, spec file name, parameters)``."""
    calls = []

    def fake_tier(self, cls, spec, client, parameters=None):
        name = spec.rsplit("/", 1)[-1]
        calls.append((cls.tier, name, dict(parameters or {})))
        biomass = (parameters or {}).get("initial_biomass", 0.001)
        score = {(3, "grey_box_cell.yaml"): 0.1 + biomass,
                 (3, "mechanistic_only_cell.yaml"): math.inf,
                 (1, "grey_box_cell.yaml"): 1e-12,
                 (1, "black_box_cell.yaml"): 100 * biomass}[(cls.tier, name)]
        return TierResult(cls.tier, cls.title, FAIL, "", score=score)

    monkeypatch.setattr(tiers.AblationTier, "_tier", fake_tier)
    return calls


def _replicates(n):
    return [{"initial_biomass": 0.001 * (1 + i), "weights": "grey_box_controller.pt"}
            for i in range(n)]


def test_each_replicate_goes_to_the_specs_that_declare_its_parameters(
        base_core, composites_dir, scripted_tiers):
    spec = str(composites_dir / "grey_box_cell.yaml")
    result = tiers.AblationTier({"spec": spec, "replicates": _replicates(5)},
                                base_core).evaluate()
    assert result.status == PASS and result.score == 2.0
    assert len(scripted_tiers) == 5 * 4
    for tier, name, parameters in scripted_tiers:
        # the weights belong to the grey box and the data-only cell, never to the mechanism
        assert ("weights" in parameters) == (name != "mechanistic_only_cell.yaml")
        assert "initial_biomass" in parameters
    tier3 = result.evidence["tier3"]
    assert tier3["p"] == pytest.approx(1 / 32) and tier3["wins"] == 5
    assert tier3["baseline_mean"] == math.inf
    assert result.evidence["tier1"]["significant"]
    assert any("Wilcoxon" in note for note in result.notes)


def test_fewer_than_five_replicates_cannot_win_and_say_so(base_core, composites_dir,
                                                          scripted_tiers):
    spec = str(composites_dir / "grey_box_cell.yaml")
    result = tiers.AblationTier({"spec": spec, "replicates": _replicates(4)},
                                base_core).evaluate()
    assert result.status == FAIL and result.score == 0.0
    assert result.evidence["tier3"]["p"] == pytest.approx(1 / 16)
    assert any("cannot win" in note for note in result.notes)


def test_identical_replicates_are_not_evidence(base_core, composites_dir, scripted_tiers):
    spec = str(composites_dir / "grey_box_cell.yaml")
    same = [{"initial_biomass": 0.001}] * 5
    result = tiers.AblationTier({"spec": spec, "replicates": same}, base_core).evaluate()
    assert result.status == FAIL
    assert result.evidence["tier3"]["identical_replicates"]
    assert any("counted as one pair" in note for note in result.notes)


def test_a_replicate_parameter_no_spec_declares_is_an_error(base_core, composites_dir,
                                                            scripted_tiers):
    spec = str(composites_dir / "grey_box_cell.yaml")
    result = tiers.AblationTier({"spec": spec, "replicates": [{"sed": 1}]},
                                base_core).evaluate()
    assert result.status == "error" and "['sed']" in result.notes[0]
    assert scripted_tiers == []


def test_a_half_without_scores_is_not_applicable_and_the_other_is_still_reported(
        base_core, composites_dir, scripted_tiers, monkeypatch):
    spec = str(composites_dir / "grey_box_cell.yaml")
    scripted = tiers.AblationTier._tier

    def no_data_score(self, cls, spec, client, parameters=None):
        result = scripted(self, cls, spec, client, parameters)
        if spec.endswith("black_box_cell.yaml"):
            result.score = None
        return result

    monkeypatch.setattr(tiers.AblationTier, "_tier", no_data_score)
    result = tiers.AblationTier({"spec": spec, "replicates": _replicates(5)},
                                base_core).evaluate()
    assert result.status == "not applicable" and result.score is None
    assert result.evidence["tier3"]["p"] == pytest.approx(1 / 32)
    assert any(note.startswith("tier3: cell") for note in result.notes)
    assert any("tier1: a replicate produced no score" in note for note in result.notes)


def test_malformed_replicates_are_refused_at_construction(base_core, composites_dir):
    spec = str(composites_dir / "grey_box_cell.yaml")
    with pytest.raises(ValueError, match="list of spec-parameter mappings"):
        tiers.AblationTier({"spec": spec, "replicates": [{}]}, base_core)
    with pytest.raises(ValueError, match="alpha"):
        tiers.AblationTier({"spec": spec, "alpha": 0.0}, base_core)


@pytest.mark.slow
def test_tier7_over_replicates_runs_the_cells(base_core, composites_dir):
    """The real runs: five starting biomasses, each replicate's tiers 1 and 3 on all three
    single-culture cells; the verdict is the paired tests' and the parameters acted."""
    spec = str(composites_dir / "grey_box_cell.yaml")
    replicates = [{"initial_biomass": b} for b in (0.0008, 0.0009, 0.001, 0.0011, 0.0012)]
    result = tiers.AblationTier({"spec": spec, "quick": True, "replicates": replicates},
                                base_core).evaluate()
    assert result.status in (PASS, FAIL), result.notes
    evidence = result.evidence
    assert len(evidence["replicate_statuses"]) == 5
    data_scores = evidence["tier1"]["baseline"]
    assert len(set(data_scores)) == 5, "each replicate's starting biomass reached its runs"
    for half in ("tier3", "tier1"):
        comparison = evidence[half]
        assert comparison["n"] == 5 and 0.0 < comparison["p"] <= 1.0
    assert result.score == float(evidence["tier3"]["significant"]) + \
        float(evidence["tier1"]["significant"])
    assert (result.status == PASS) == (result.score == 2.0)
