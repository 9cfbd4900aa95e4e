"""Where the diauxic lag of composites/diauxie.yaml comes from: an ablation table.

Each row runs the diauxie composite (0.005% glucose + 0.02% lactose, 8.5 h, 1-minute steps)
twice and measures the lag with :func:`greybox_processes.metabolism.diauxic_lag` against two
references:

* ``IPTG``: the shipped measurement, the same medium with the lac operon pre-induced (Julou et
  al. 2020, PLoS Biol 18:e3000952);
* ``ideal``: the same culture (same ribosomes, same glucose phase), whose lac state is set to
  its IPTG-induced steady state at the moment glucose runs out (below 1% of its initial value)
  and kept induced after that. Its delay before the shift is 0 by construction, which is what
  Julou et al. measured for MG1655 (delay_start = 0), so it isolates the lag the mechanism
  itself makes from the distortions of the simulated IPTG culture.

Mechanisms are switched off or moved to a bound by patching :class:`ExpressionLayer` for the
duration of a row; the package is not modified. Usage::

    python benchmarks/diauxie_lag_ablation.py            # all rows (~3 min on 2 loaded cores)
    python benchmarks/diauxie_lag_ablation.py base ideal  # some rows
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import time

import numpy as np

import greybox_processes.metabolism.dfba as dfba_module
import greybox_processes.metabolism.expression as expression
from greybox_processes.framework.run import run
from greybox_processes.metabolism.composites import diauxie
from greybox_processes.metabolism.lac import integrate_lac, lac_steady_state
from greybox_processes.metabolism.lag import time_at, diauxic_lag

HOURS = 8.5
GLUCOSE_005_HOURS = 12.0
Layer = expression.ExpressionLayer
ORIGINAL = {name: getattr(Layer, name) for name in ("__init__", "growth_cap", "advance",
                                                    "initial_state")}


@contextlib.contextmanager
def patched_layer(*, params=None, ribo=None, k_glucose=None, no_ribosome_cap=False,
                  preculture=None, role="plain", only=None):
    """Patch every ExpressionLayer built inside the block.

    role: ``plain`` (as shipped), ``derepress`` (repressor released once glucose is gone: no
    wait for allolactose) or ``ideal`` (lac state jumps to its induced steady state at glucose
    exhaustion, then stays induced). only: None (every culture), ``'exp'`` or ``'ref'`` (IPTG).
    """
    def __init__(self, mu0, **kwargs):
        ORIGINAL["__init__"](self, mu0, **kwargs)
        self._on = only is None or (only == "ref") == self.iptg
        self._role, self._glc0, self._jumped = (role if self._on else "plain"), None, False
        if not self._on:
            return
        if params:
            self.params = dataclasses.replace(self.params, **params(self.params))
        if k_glucose is not None:
            self.k_glucose = k_glucose
        if ribo:
            self.ribo = dataclasses.replace(self.ribo, **ribo)
            self.r = self.ribo.r0 + self.mu0 / self.ribo.kappa_t_per_h
            self.capacity_aa = (self.ribo.kappa_t_per_h * (self.r - self.ribo.r0)
                                * self.ribo.protein_aa_mmol_per_gdw)

    def growth_cap(self, y):
        return None if (self._on and no_ribosome_cap) else ORIGINAL["growth_cap"](self, y)

    def advance(self, y, hours, mu, lactose, glucose):
        if self._glc0 is None:
            self._glc0 = glucose
        shifted = glucose < 0.01 * self._glc0
        if self._role == "ideal" and shifted and not self._jumped:
            self._jumped = True
            rate = (mu if mu > 0 else self.mu0) / 60.0
            return lac_steady_state(rate, lactose, 0.0, self.params, iptg=True,
                                    k_glucose=self.k_glucose)
        iptg = self.iptg or (self._role in ("ideal", "derepress") and shifted)
        free = max(self.capacity_aa - mu * self.ribo.protein_aa_mmol_per_gdw, 0.0)
        wanted = self.synthesis_aa(y, mu)
        capped = self._on and no_ribosome_cap
        scale = 1.0 if (capped or wanted <= free or wanted == 0) else free / wanted
        return integrate_lac(y, hours * 60.0, mu / 60.0, lactose, glucose, self.params,
                             iptg=iptg, k_glucose=self.k_glucose, synthesis_scale=scale)

    def initial_state(self, lactose, glucose):
        if self._on and preculture is not None:
            return preculture(self, lactose, glucose)
        return ORIGINAL["initial_state"](self, lactose, glucose)

    for name, function in (("__init__", __init__), ("growth_cap", growth_cap),
                           ("advance", advance), ("initial_state", initial_state)):
        setattr(Layer, name, function)
    try:
        yield
    finally:
        for name, function in ORIGINAL.items():
            setattr(Layer, name, function)


@contextlib.contextmanager
def no_maintenance():
    """ATP maintenance requirement (ATPM lower bound 8.39 mmol/gDW/h in e_coli_core) set to 0."""
    load = dfba_module.load_model

    def patched(name):
        model = load(name)
        model.reactions.ATPM.lower_bound = 0.0
        return model
    dfba_module.load_model = patched
    try:
        yield
    finally:
        dfba_module.load_model = load


def glucose_only_preculture(layer, lactose, glucose):
    """Cells pre-grown on glucose alone (no lactose, so no inducer at all)."""
    return lac_steady_state(layer.mu0 / 60.0, 0.0, glucose, layer.params, iptg=layer.iptg,
                            k_glucose=layer.k_glucose)


def stable_lacy(p):
    """LacY not degraded; alpha_P scaled so that the induced level at the SBML mu is unchanged."""
    return {"gamma_P": 0.0, "alpha_P": p.alpha_P * p.mu / (p.gamma_P + p.mu)}


KCAT = expression.DEFAULT_KCAT
#: name -> (description, patch kwargs, extra context, dfba config, glucose %); 0.05% glucose
#: runs for GLUCOSE_005_HOURS (its cultures need longer to reach the plateau biomass).
ROWS = {
    "base": ("as shipped", {}, None, None, 0.005),
    "derepress": ("repressor released at glucose exhaustion (no allolactose wait)",
                  {"role": "derepress", "only": "exp"}, None, None, 0.005),
    "short_delays": ("transcription/translation delays tau_M, tau_B, tau_P -> 0.01 min",
                     {"params": lambda p: {"tau_M": 0.01, "tau_B": 0.01, "tau_P": 0.01}},
                     None, None, 0.005),
    "lacz_kcat_x4": ("LacZ kcat x4 (sensitivity only)", {}, None,
                     {"kcat": {"LACZ": 4 * KCAT["LACZ"]}}, 0.005),
    "lacy_kcat_x4": ("LacY kcat x4 in the FBA bound (sensitivity only)", {}, None,
                     {"kcat": {"LCTSt": 4 * KCAT["LCTSt"]}}, 0.005),
    "lacy_cost_0": ("LacY synthesis costs no ribosomes", {"ribo": {"lacy_aa": 0.0}},
                    None, None, 0.005),
    "stable_lacy": ("LacY stable (gamma_P = 0, same induced level)", {"params": stable_lacy},
                    None, None, 0.005),
    "no_ribosome_cap": ("no ribosome cap", {"no_ribosome_cap": True}, None, None, 0.005),
    "no_exclusion": ("no inducer exclusion", {"k_glucose": 1e9}, None, None, 0.005),
    "glucose_preculture": ("pre-culture on glucose alone",
                           {"preculture": glucose_only_preculture, "only": "exp"},
                           None, None, 0.005),
    "no_maintenance": ("no ATP maintenance", {}, no_maintenance, None, 0.005),
    "all_enzymes": ("every metabolic enzyme as state (enzymes: all, diauxie_enzymes.yaml)", {},
                    None, {"enzymes": "all"}, 0.005),
    "glucose_0.05": ("0.05% glucose (the Rmd text's figure)", {}, None, None, 0.05),
}


def delay_curve(experiment, reference, n=10):
    """Delays (min) at n log-spaced biomass levels from the inoculum to the final biomass."""
    t_e, x_e = experiment.time.values, experiment["env.biomass"].values
    t_r, x_r = reference.time.values, reference["env.biomass"].values
    levels = np.geomspace(x_e[1] * 1.01, 0.95 * min(x_e[-1], x_r[-1]), n)
    return [(time_at(t_e, x_e, v) - time_at(t_r, x_r, v)) * 60.0 for v in levels]


def growth_rates(data):
    """(median growth on glucose, largest growth on lactose while > 20% of it is left), 1/h."""
    mu = data["cell.growth_rate"].values
    conc = data["env.concentrations"].values
    k = int(np.nonzero(conc[:, 0] < 0.01 * conc[0, 0])[0][0])
    on_lactose = mu[k:][conc[k:, 1] > 0.2 * conc[0, 1]]
    return float(np.median(mu[5:max(k - 20, 6)])), float(on_lactose.max())


def measure(name):
    description, patch, context, config, glucose = ROWS[name]
    started = time.perf_counter()
    hours = GLUCOSE_005_HOURS if glucose >= 0.05 else HOURS
    result = {"row": name, "what": description}
    with (context() if context else contextlib.nullcontext()):
        with patched_layer(**patch):
            experiment = run(diauxie(iptg=False, glucose_percent=glucose, dfba_config=config),
                             hours, progress=False)
            iptg = run(diauxie(iptg=True, glucose_percent=glucose, dfba_config=config),
                       hours, progress=False)
        ideal_patch = {**patch, "role": "ideal", "only": None}
        with patched_layer(**ideal_patch):
            ideal = run(diauxie(iptg=False, glucose_percent=glucose, dfba_config=config),
                        hours, progress=False)
    lag = diauxic_lag(experiment, iptg)
    result.update(lag_iptg=lag.lag_min, delay_start=lag.delay_start_min,
                  delay_plateau=lag.delay_plateau_min, arrest=lag.arrest_min,
                  lag_ideal=diauxic_lag(experiment, ideal).lag_min,
                  mu_exp=growth_rates(experiment), mu_iptg=growth_rates(iptg),
                  mu_ideal=growth_rates(ideal)[1],
                  curve_iptg=delay_curve(experiment, iptg),
                  curve_ideal=delay_curve(experiment, ideal),
                  wall_s=time.perf_counter() - started)
    return result


def main(names):
    print("| row | lag vs IPTG (min) | delay_start | lag vs ideal (min) | arrest (min) | "
          "mu glc exp/IPTG | mu lac exp/IPTG/ideal | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        r = measure(name)
        print(f"| {r['row']}: {r['what']} | {r['lag_iptg']:.1f} | {r['delay_start']:.1f} | "
              f"{r['lag_ideal']:.1f} | {r['arrest']:.0f} | {r['mu_exp'][0]:.2f}/"
              f"{r['mu_iptg'][0]:.2f} | {r['mu_exp'][1]:.2f}/{r['mu_iptg'][1]:.2f}/"
              f"{r['mu_ideal']:.2f} | {r['wall_s']:.0f} |", flush=True)
        print("    delay curve vs IPTG (min):", " ".join(f"{d:.0f}" for d in r["curve_iptg"]),
              "| vs ideal:", " ".join(f"{d:.0f}" for d in r["curve_ideal"]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(ROWS))
