"""Drug action on a dynamic-FBA cell: occupancy law, exact single-drug responses, Loewe isoboles."""
import math

import pytest

from greybox_processes.metabolism import drugs
from greybox_processes.metabolism.dfba import DynamicFBA


def _cell(core, model="textbook"):
    process = DynamicFBA({"model": model, "exchanges": ["EX_glc__D_e"],
                          "initial_concentrations": {"EX_glc__D_e": 10.0}}, core=core)
    return drugs.DrugCell.from_process(process)


@pytest.fixture(scope="module")
def core_cell(base_core):
    return _cell(base_core)


def test_occupancy_is_single_site_binding():
    assert drugs.occupancy(0.0) == 0.0 and drugs.occupancy(1.0) == 0.5
    assert math.isclose(drugs.occupancy(3.0), 0.75)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="dose must be finite"):
            drugs.occupancy(bad)


@pytest.mark.parametrize("target", ["ribosome", "RNA polymerase", "DNA gyrase"])
def test_lumped_targets_scale_growth_by_the_free_share(core_cell, target):
    # fixed biomass composition: a polymerase at (1 - theta) of its rate gives (1 - theta) mu0
    for dose in (0.25, 1.0, 4.0):
        assert math.isclose(core_cell.inhibition({target: dose}), drugs.occupancy(dose),
                            rel_tol=1e-6)
    assert math.isclose(drugs.single_ic50(core_cell, target), 1.0, rel_tol=1e-6)


def test_two_bottlenecks_are_liebig_antagonism(core_cell):
    # growth limited by one process at a time: the pair is no stronger than its stronger drug,
    # so on the ray of equal IC50 fractions 50% is reached only at t* = 1: Loewe index 2
    out = drugs.pair_isobole(core_cell, "ribosome", "DNA gyrase")
    assert math.isclose(out["t_star"], 1.0, rel_tol=1e-6)
    assert math.isclose(out["loewe_index"], 2.0, rel_tol=1e-6)


def test_drug_runs_leave_the_model_unchanged(core_cell):
    model = core_cell.process.model
    before = {r.id: r.bounds for r in model.reactions}
    core_cell.inhibition({"ribosome": 2.0, "RNA polymerase": 0.5})
    assert {r.id: r.bounds for r in model.reactions} == before


def test_missing_and_unknown_targets_are_named(core_cell):
    assert core_cell.representation["cell wall"] is None  # e_coli_core has no murein
    with pytest.raises(ValueError, match="no \\['cell wall'\\].*iJO1366"):
        core_cell.growth({"cell wall": 0.5})
    with pytest.raises(ValueError, match="unknown drug target"):
        core_cell.growth({"membrane": 0.5})


def test_ribosomes_of_the_expression_layer_cap_growth(base_core):
    from greybox_processes.neural.regulated import RegulatedDynamicFBA

    process = RegulatedDynamicFBA({
        "model": "textbook_lactose", "exchanges": ["EX_glc__D_e", "EX_lcts_e"],
        "initial_concentrations": {"EX_glc__D_e": 0.28, "EX_lcts_e": 0.58},
        "expression": True, "regulation": "model"}, core=base_core)
    cell = drugs.DrugCell.from_process(process)
    assert cell.representation["ribosome"].startswith("ribosomes of the expression layer")
    # the pre-culture's ribosomes were made for its growth rate: a quarter occupied leaves
    # three quarters of the translation capacity (less the lac enzymes' small share)
    growth = cell.growth({"ribosome": 0.25})
    cap = process.expression.growth_cap(process._lac0, 0.75)
    assert growth <= cap * (1 + 1e-9) and growth < cell.mu0


@pytest.mark.slow
def test_genome_scale_targets_cell_wall_and_folate(base_core):
    cell = _cell(base_core, "iJO1366")
    assert "MPTG" in cell.representation["cell wall"]
    assert "DHFR" in cell.representation["folate"]
    for target in ("cell wall", "folate"):
        # inhibition rises monotonically with dose and reaches 50%
        values = [cell.inhibition({target: d}) for d in (0.1, 1.0, 10.0)]
        assert values == sorted(values) and values[-1] > 0.5
    out = drugs.pair_isobole(cell, "cell wall", "folate")
    assert 1.0 <= out["loewe_index"] <= 2.0 + 1e-9
