"""WCM-Hard tiers on population cells (composites/ecoli_population.yaml): pure helpers on
synthetic data whose answer is known, and short runs of each tier with small settings."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from greybox_processes.wcm_hard.tiers import TIERS
from greybox_processes.wcm_hard.tiers.base import (initial_cell_lac, is_population_metabolism,
                                                   metabolism_instance, metabolism_node)
from greybox_processes.wcm_hard.tiers.population import (population_cell,
                                                         population_overrides, required_slots)
from greybox_processes.wcm_hard.tiers.t3_population import (lac_switch_key, lag_direction,
                                                            lag_summary)
from greybox_processes.wcm_hard.tiers.t6_dephasing import (cv_at_generations,
                                                           dephasing_score,
                                                           generation_monotone)
from greybox_processes.wcm_hard.tiers.t6_population import cell_cycle_node, dilute_biomass
from greybox_processes.wcm_hard.tiers.t7_ablation import baseline_names

SPEC = "ecoli_population.yaml"


# --- pure helpers ----------------------------------------------------------------------------

def _sawtooth_cv(generations=6, per_generation=40, plateau=0.2, dip=0.08):
    """A CV whose envelope rises to ``plateau`` but dips by ``dip`` at every division burst."""
    t = np.arange(generations * per_generation + 1) / per_generation  # generations
    envelope = plateau * (1.0 - np.exp(-1.5 * t))
    phase = t - np.floor(t)
    return t, envelope - dip * np.exp(-phase / 0.1) * (t >= 1)


def test_generation_reading_is_monotone_where_only_the_division_bursts_dip():
    t, cv = _sawtooth_cv()
    per_sample = dephasing_score(t, cv, 1.0)
    per_generation = generation_monotone(t, cv, 1.0)
    assert not per_sample["monotone"]  # the bursts dip well below the running maximum
    assert per_generation["generation_monotone"]
    means = per_generation["cv_generation_means"]
    assert len(means) == 6 and np.all(np.diff(means) > 0)


def test_generation_reading_fails_a_cv_that_falls_generation_by_generation():
    t = np.linspace(0.0, 6.0, 241)
    cv = 0.3 * np.exp(-t / 2.0) + 0.05  # falls throughout
    result = generation_monotone(t, cv, 1.0)
    assert not result["generation_monotone"]
    assert result["generation_max_drop"] == pytest.approx(result["cv_generation_means"][0]
                                                         - result["cv_generation_means"][-1])


def test_cv_at_whole_generations_samples_the_nearest_time():
    t = np.linspace(0.0, 90.0, 91)  # minutes, generation time 30
    cv = t / 100.0
    assert cv_at_generations(t, cv, 30.0) == pytest.approx([0.0, 0.3, 0.6, 0.9])
    with pytest.raises(ValueError, match="two whole generations"):
        generation_monotone(t[:40], cv[:40], 30.0)


@pytest.mark.parametrize("name, expected", [
    ("grey_box_cell.yaml", ("mechanistic_only_cell.yaml", "black_box_cell.yaml")),
    ("ecoli_grey_box.yaml", ("ecoli_mechanistic_only.yaml", "ecoli_black_box.yaml")),
    ("ecoli_glass_box.yaml", ("ecoli_mechanistic_only.yaml", "ecoli_black_box.yaml")),
    ("diauxie.yaml", ("mechanistic_only_cell.yaml", "black_box_cell.yaml")),
])
def test_baselines_follow_the_naming_convention(name, expected):
    assert baseline_names(name) == expected


def test_lag_direction_and_summary():
    assert lag_direction(86.5, 71.8) == "shorter"
    assert lag_direction(60.0, 70.0) == "longer"
    assert lag_direction(math.inf, 70.0) == "undetermined"
    table = pd.DataFrame({"slot": range(6), "lacy_at_shift": [0, 0, 5, 20, 300, 900],
                          "lag_min": [150.0, np.nan, 60.0, 40.0, 20.0, 10.0]})
    summary = lag_summary(table)
    assert summary["cells_at_shift"] == 6 and summary["not_recovered"] == 1
    assert summary["share_no_lacy_at_shift"] == pytest.approx(2 / 6)
    assert summary["median_lag_no_lacy_min"] == 150.0
    assert summary["median_lag_with_lacy_min"] == pytest.approx(30.0)
    assert sum(summary["histogram_counts"]) == 5


def test_dilute_biomass_uses_the_given_share_of_glucose():
    x0 = dilute_biomass(1.0, glucose_mM=0.3, yield_gdw_per_mmol=0.09, generations=7, share=0.01)
    used = x0 * (2 ** 7 - 1) / 0.09  # mmol/L of glucose for the growth
    assert used == pytest.approx(0.01 * 0.3)
    assert dilute_biomass(1e-9, 0.3, 0.09, 7) == 1e-9  # already dilute enough: kept
    with pytest.raises(ValueError):
        dilute_biomass(1.0, 0.3, 0.0, 7)


def test_required_slots_cover_exponential_growth():
    assert required_slots(10, 0.0, 0.02) == 13
    assert required_slots(8, 100.0, math.log(2) / 50.0) >= 32


# --- the population cell is recognised by its processes --------------------------------------

def test_the_population_cell_is_found_by_its_processes(composites_dir):
    spec = composites_dir / SPEC
    path, node = metabolism_node(spec)
    assert path == ("metabolism",) and is_population_metabolism(node)
    cell = population_cell(spec)
    assert cell.variables["volume"] == "cells.volume"
    assert cell.variables["ledger"] == "medium.ledger"
    assert cell_cycle_node(spec)[0] == ("cycle",)
    assert lac_switch_key(spec, cell) == "lac.config.iptg"
    lac = initial_cell_lac(spec, path, node)
    assert lac.shape == (8,) and np.all(lac == 0)  # the LacOperon's default: no lac molecules
    overrides = population_overrides(spec, capacity=999, initial_cells=7)
    assert {k for k, v in overrides.items() if v == 999} == {
        f"{p}.config.capacity" for p in ("metabolism", "lac", "cycle", "division")}
    assert overrides["division.config.initial_cells"] == 7


def test_the_tiers_single_cell_has_the_populations_growth(composites_dir, base_core):
    spec = composites_dir / SPEC
    path, node = metabolism_node(spec)
    process = metabolism_instance(node, lac=initial_cell_lac(spec, path, node))
    with process.initial_lp() as model:
        growth = model.slim_optimize()
    population = population_cell(spec).instance()
    cells = population.cell_bounds(
        {"alive": np.r_[1.0, np.zeros(255)], "volume": np.r_[1.0, np.zeros(255)],
         "lac": np.zeros((256, 8)), "glucose": population.config["initial_glucose"],
         "lactose": population.config["initial_lactose"]}, 1.0)
    assert growth == pytest.approx(population._solve(cells)[0][0], abs=1e-9)
    assert growth > 0.5  # 1/h on 0.005% glucose


# --- short runs of each tier on the population ----------------------------------------------

def _tier(number, spec, base_core, tmp_path=None, **config):
    config = {"spec": str(spec), "quick": True, **config}
    if tmp_path is not None:
        config["out_dir"] = str(tmp_path)
    return TIERS[number](config, base_core).evaluate()


@pytest.mark.slow
def test_tier1_population_budget_closes_in_the_metabolism(composites_dir, base_core):
    result = _tier(1, composites_dir / SPEC, base_core, quick_population_minutes=15)
    assert result.status in ("pass", "fail") and math.isfinite(result.score), result.notes
    evidence = result.evidence
    assert evidence["steps"] == 15 and evidence["unbalanced_internal_reactions"] == {}
    for element in ("C", "N"):
        # the metabolism's own budget (biomass its LPs made) closes to solver tolerance
        assert evidence[f"{element}_metabolism_own_relative_violation"] < 1e-7
        assert evidence[f"{element}_relative_violation"] == result.score or element == "N"


def test_a_data_only_population_is_found_only_for_the_element_audit(composites_dir):
    spec = composites_dir / "ecoli_black_box.yaml"
    assert population_cell(spec) is None            # tiers 3 and 6 need a metabolism
    cell = population_cell(spec, data_only=True)    # tier 1 audits its medium and cells
    assert cell.data_only and cell.variables["ledger"] == "medium.ledger"


@pytest.mark.slow
def test_tier1_audits_the_data_only_population(composites_dir, base_core):
    """The black box has no stoichiometry: its medium, ledger and cells do not balance,
    and tier 1 (the data-only half of tier 7) now measures by how much."""
    result = _tier(1, composites_dir / "ecoli_black_box.yaml", base_core,
                   quick_population_minutes=20)
    assert result.status == "fail" and math.isfinite(result.score), result.notes
    assert result.evidence["data_only"] and result.score > 1e-3
    assert any("data-only metabolism" in note for note in result.notes)


@pytest.mark.slow
def test_tiers_2_5_8_screen_the_populations_cell(composites_dir, base_core):
    spec = composites_dir / SPEC
    t5 = _tier(5, spec, base_core)
    assert t5.status in ("pass", "fail") and t5.evidence["model"] == "e_coli_core_lactose"
    t2 = _tier(2, spec, base_core, quick_genes=20)
    assert t2.status in ("pass", "fail") and 0 <= t2.score <= 1, t2.notes
    from greybox_processes.metabolism.models import load_model

    # every gene of the population's own model (e_coli_core with lactose) is screened
    assert t2.evidence["genes_in_model"] == len(load_model("textbook_lactose").genes)


@pytest.mark.slow
def test_tier8_population_perturbs_its_own_kinetics(composites_dir, base_core):
    result = _tier(8, composites_dir / SPEC, base_core, quick_samples=1)
    assert result.status in ("pass", "fail"), result.notes
    assert result.evidence["parameters"] == ["glucose_km", "lactose_km", "kcat_lacy",
                                             "kcat_lacz"]


@pytest.mark.slow
def test_tier6_population_reads_the_rise_per_generation(composites_dir, base_core, tmp_path):
    result = _tier(6, composites_dir / SPEC, base_core, tmp_path, initial_cells=10,
                   quick_run_generations=3, generations=2)
    assert result.status in ("pass", "fail"), result.notes
    evidence = result.evidence
    assert evidence["cells_start"] == 10 and evidence["initial_cv"] == 0.0  # synchronised
    assert evidence["monotone_read_at"] == "generation"
    assert evidence["checks"]["monotone"] == evidence["generation_monotone"]
    assert len(evidence["cv_generation_means"]) == 3 and result.figures
    assert any("per sample" in note for note in result.notes)


@pytest.mark.slow
def test_tier3_population_lags_at_both_lactose_levels(composites_dir, base_core, tmp_path):
    result = _tier(3, composites_dir / SPEC, base_core, tmp_path, quick_population_cells=1,
                   quick_population_minutes=360)
    assert result.status in ("pass", "fail"), result.notes
    for level in ("0.02pct", "0.2pct"):
        assert level in result.evidence
    assert result.evidence["direction_at_higher_lactose"] in ("shorter", "longer", "equal",
                                                              "undetermined")
    assert result.figures
