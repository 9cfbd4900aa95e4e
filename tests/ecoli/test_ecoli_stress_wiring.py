"""The stress and transcriptome nodes act in the E. coli cells (glass, grey, mechanistic-only):
a heat stress raises the sigma-32 (rpoH) regulon, the lac repressor's activity follows the
cells' allolactose, and the nodes are the same in the three cells."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import greybox_processes as gb
from greybox_processes.ecoli import cells
from greybox_processes.ecoli import stress_mechanisms as mech
from greybox_processes.ecoli.stress import RegulatorActivity
from greybox_processes.grn.ecoli_trn import TRN_PATH
from greybox_processes.lac.kernel import SPECIES, molecules_per_mM
from greybox_processes.wcm_hard.tiers.t4_stress import stress_nodes

#: a small population on e_coli_core (fast); the nodes do not depend on the metabolic model
FAST = {"capacity": 8, "initial_cells": 2, "seed": 1, "model": "textbook_lactose"}
MINUTES = 6.0
ALLOLACTOSE = SPECIES.index("allolactose")


def _targets(regulator: str, effect: str) -> list[str]:
    trn = pd.read_csv(TRN_PATH)
    return sorted(set(trn.loc[(trn["regulator"] == regulator) & (trn["effect"] == effect),
                              "gene_id"]))


@pytest.mark.parametrize("kind", ["glass_box", "grey_box", "mechanistic_only"])
def test_the_cells_have_the_stress_nodes(kind):
    document = getattr(cells, f"ecoli_{kind}")()
    assert stress_nodes(document) == (("stress",), ("expression",))
    assert document["state"]["stress"]["config"]["capacity"] == \
        document["state"]["lac"]["config"]["capacity"]
    # without them (the black box's base): no stress node
    bare = getattr(cells, f"ecoli_{kind}")(stress_response=False)
    assert "stress" not in bare["state"] and stress_nodes(bare) == (None, None)


def _heat_pair(kind):
    """The cell at 37 C and at 42 C (stress.config.temperature)."""
    return tuple(gb.run(getattr(cells, f"ecoli_{kind}")(**FAST), MINUTES, progress=False,
                        overrides={"stress.config.temperature": temperature})
                 for temperature in (37.0, 42.0))


@pytest.mark.parametrize("kind", ["glass_box",
                                  pytest.param("grey_box", marks=pytest.mark.slow)])
def test_heat_raises_the_sigma32_regulon(kind):
    cold, hot = _heat_pair(kind)
    # sigma-32 freed from DnaK by unfolded proteins (at steady state, with the chaperone
    # feedback, a modest rise: ~1.09 at 42 C)
    assert np.all(hot["regulators.rpoH"].values > cold["regulators.rpoH"].values)
    genes = hot["expression"].coords["gene"].values.astype(str)
    change = pd.Series(hot["expression"].values[-1] - cold["expression"].values[-1],
                       index=genes)
    activated = change.reindex(_targets("rpoH", "+")).dropna()
    assert len(activated) > 50
    # the activated targets go up, far more than the rest of the genome moves on average
    assert (activated > 0).mean() > 0.95
    assert activated.mean() > 3 * abs(change.drop(activated.index).mean())
    # the mRNAs relax towards the new steady state: the change grows with time
    early = hot["expression"].values[2] - cold["expression"].values[2]
    assert activated.mean() > pd.Series(early, index=genes)[activated.index].mean() > 0
    # the cells' own state is the same in both runs: only the environment differs
    np.testing.assert_array_equal(hot["cells.volume"].values, cold["cells.volume"].values)


def _free_repressor(ds, t):
    """The lac repressor's free fraction that RegulatorActivity computes from time ``t``'s
    cells (mean over live cells of the YM repression at their allolactose, mM)."""
    alive = ds["cells.alive"].values[t] > 0.5
    counts = ds["cells.lac"].values[t][alive, ALLOLACTOSE]
    volume = ds["cells.volume"].values[t][alive]
    return float(np.mean([mech.lac_repressor(c / molecules_per_mM(v))["lacI"]
                          for c, v in zip(counts, volume)]))


def test_lac_repressor_follows_the_cells_allolactose():
    # IPTG: LacY/LacZ made at once, lactose turned into allolactose, the repressor freed
    runs = {iptg: gb.run(cells.ecoli_glass_box(**FAST, iptg=iptg), MINUTES, progress=False)
            for iptg in (False, True)}
    for ds in runs.values():
        lac_i = ds["regulators.lacI"].values
        assert lac_i[0] == 1.0                   # the reference before any cell is read
        # each update writes the activity of the cells it read (the state one step before)
        expected = [_free_repressor(ds, t) for t in range(len(lac_i) - 1)]
        np.testing.assert_allclose(lac_i[1:], expected, rtol=1e-9)
    induced = runs[True]["cells.lac"].values[-1][..., ALLOLACTOSE].sum()
    repressed = runs[False]["cells.lac"].values[-1][..., ALLOLACTOSE].sum()
    assert induced > repressed
    assert runs[True]["regulators.lacI"].values[-1] < runs[False]["regulators.lacI"].values[-1]


def test_regulator_activity_declares_its_stress_inputs():
    assert RegulatorActivity.stress_inputs == ("temperature", "pH", "osmolarity", "oxidant")
    assert set(RegulatorActivity.stress_inputs) <= set(RegulatorActivity.config_schema)
