"""Build the vendored Gibbs-energy tables from two PyPI wheels (offline, run once by a developer).

Sources (see SOURCES.md):

* ``component-contribution`` 0.8.0 (MIT; Noor et al. 2013, PLoS Comput Biol 9:e1003098):
  ``component_contribution/data/cc_params.npz``, the trained component-contribution
  parameters: standard formation energies ``dG0_cc`` of the 631 training compounds and the
  group energies ``dG0_gc``, keyed by eQuilibrator compound ids.
* ``multitfa`` 0.1.2 (Apache-2.0; Mahamkali et al. 2021, Bioinformatics 37:3064):
  ``multitfa/data/compounds_cache.pickle``, the eQuilibrator compound records of 3113 BiGG
  metabolite ids (compound id, group vector, microspecies with charge, protons, magnesium and
  ``ddg_over_rt`` relative to the major microspecies).

Each metabolite gets the chemical formation energy of its reference microspecies (reactant
contribution when the compound is a training compound, else group contribution, else none),
the standard error of that kind of estimate (root of the fit's mean squared error: 2.9 kJ/mol
for reactant, 7.0 for group contributions) and its microspecies, from which :mod:`.thermo`
computes transformed energies at any pH and ionic strength. The pickle holds SQLAlchemy
objects; it is read with an unpickler that builds only plain containers, numbers, strings and
dates (every other class becomes an inert record), so neither SQLAlchemy nor eQuilibrator is
needed, and no code from the pickle can run.

    python tools/build_thermo_tables.py CC_PARAMS.npz COMPOUNDS_CACHE.pickle
"""
from __future__ import annotations

import datetime
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["derive_tables", "DATA_DIR"]

# a developer tool beside the package, not installed with it: it writes into the package
DATA_DIR = Path(__file__).resolve().parents[1] / "greybox_processes" / "data" / "thermo"
_SAFE = {("builtins", n) for n in ("dict", "list", "set", "frozenset", "tuple", "int", "float",
                                    "str", "bytes", "bool", "complex")}
_SAFE |= {("datetime", "datetime"), ("datetime", "date")}


class _Record(list):
    """Inert stand-in for any class of the pickle that is not a plain container."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        self.state = state

    def __setitem__(self, key, value):
        if isinstance(key, int):
            super().__setitem__(key, value)

    def fields(self) -> dict:
        state = getattr(self, "state", {})
        if isinstance(state, tuple):
            state = next((s for s in state if isinstance(s, dict)), {})
        return state


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _SAFE:
            return datetime.datetime if name == "datetime" else super().find_class(module, name)
        return type(name, (_Record,), {})


def _load_cache(path):
    with open(path, "rb") as handle:
        compounds, microspecies, _magnesium = _SafeUnpickler(handle).load()
    return compounds, microspecies


def derive_tables(cc_params, compounds_cache, out_dir=None):
    """``(compounds, microspecies)`` DataFrames; written as gzip CSVs to ``out_dir`` if given."""
    params = np.load(cc_params, allow_pickle=True)
    dims = dict(zip(params["dimensions_index"], params["dimensions_values"].ravel()))
    rc_ids = {int(cid): i for i, cid in enumerate(params["train_G_index"])}
    # standard errors of the two estimates: the root mean squared errors of the fit
    mse = dict(zip(params["MSE_index"], params["MSE_values"].ravel()))
    sigma = {"reactant contribution": float(np.sqrt(mse["rc"])),
             "group contribution": float(np.sqrt(mse["gc"])), "not covered": float("nan")}
    dg0_cc, dg0_gc = params["dG0_cc"], params["dG0_gc"][: int(dims["Ng"])]
    compounds, microspecies = _load_cache(compounds_cache)
    rows, ms_rows = [], []
    for bigg_id in sorted(compounds):
        record = compounds[bigg_id].fields()
        base = bigg_id.rsplit("_", 1)[0]
        cid = int(record["id"])
        groups = record.get("group_vector") or []
        if cid in rc_ids:
            dg0, source = float(dg0_cc[rc_ids[cid]]), "reactant contribution"
        elif len(groups) == dg0_gc.size:
            dg0, source = float(np.asarray(groups, float) @ dg0_gc), "group contribution"
        else:
            dg0, source = float("nan"), "not covered"
        rows.append({"metabolite": base, "eq_compound_id": cid, "dG0_kJ_per_mol": dg0,
                     "sigma_kJ_per_mol": sigma[source], "source": source,
                     "inchi_key": record.get("inchi_key")})
        for ms in microspecies.get(bigg_id, []):
            f = ms.fields()
            ms_rows.append({"metabolite": base, "charge": int(f["charge"]),
                            "protons": int(f["number_protons"]),
                            "magnesiums": int(f["number_magnesiums"]),
                            "ddg_over_rt": float(f["ddg_over_rt"])})
    table = pd.DataFrame(rows).drop_duplicates("metabolite").set_index("metabolite")
    ms_table = pd.DataFrame(ms_rows).drop_duplicates().sort_values(["metabolite", "protons"])
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        table.round(6).to_csv(out_dir / "formation_energies.csv.gz", compression="gzip")
        ms_table.round(8).to_csv(out_dir / "microspecies.csv.gz", compression="gzip",
                                 index=False)
    return table, ms_table


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    derive_tables(sys.argv[1], sys.argv[2], DATA_DIR)
