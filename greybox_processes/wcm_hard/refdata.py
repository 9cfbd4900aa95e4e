"""Loaders of the reference data the WCM-Hard tiers score against (vendored; see SOURCES.md).

Every loader reads a file shipped in ``greybox_processes/data/refdata/`` and raises
:class:`RefDataError` naming the file and how to get it when it is missing or malformed.

* :func:`essentiality` - Monk et al. 2017, M9 glucose (tier 2, 8).
* :func:`diauxic_lags` - Julou et al. 2020 lags, minutes (tier 3).
* :func:`drug_pairs` - INDIGO (Chandrasekaran et al. 2016) pair scores (tier 5).
* :func:`cell_size` - Taheri-Araghi et al. 2015 mother-machine cells, glucose (tier 6).
* :func:`stress_log_fold_changes` - PRECISE (Sastry et al. 2019) heat / acid log2 fold changes
  against each project's own control (tier 4); derived subset, see SOURCES.md.
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from ..errors import GreyboxError

__all__ = ["RefDataError", "refdata_path", "essentiality", "diauxic_lags", "drug_pairs",
           "cell_size", "stress_log_fold_changes", "SHARED"]

#: where the project's shared reference data live on the development machines
SHARED = "../shared/refdata"


class RefDataError(GreyboxError, FileNotFoundError):
    """A reference data file that is missing or malformed."""


def refdata_path(*parts: str):
    """Path of a vendored reference file; :class:`RefDataError` if it is not shipped."""
    path = resources.files("greybox_processes").joinpath("data", "refdata", *parts)
    if not path.is_file():
        raise RefDataError(f"reference file data/refdata/{'/'.join(parts)} is not shipped with "
                           "this install. Fix: reinstall greybox-processes, or copy it from "
                           f"{SHARED}/ (see SOURCES.md for its source)")
    return path


def _read_csv(*parts, required=()) -> pd.DataFrame:
    path = refdata_path(*parts)
    try:
        table = pd.read_csv(str(path))
    except Exception as error:  # pandas raises many types for a bad file
        raise RefDataError(f"data/refdata/{'/'.join(parts)} cannot be read: {error}") from error
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise RefDataError(f"data/refdata/{'/'.join(parts)} lacks column(s) {missing}; "
                           f"it has {list(table.columns)}")
    return table


def essentiality() -> pd.DataFrame:
    """Monk et al. 2017 table indexed by gene (b-number) with a boolean ``essential``."""
    from ..metabolism.scoring import reference_essentiality

    return reference_essentiality(refdata_path("monk2017_iML1515_essentiality_M9_glucose.csv"))


def diauxic_lags() -> pd.DataFrame:
    """Julou et al. 2020 lags (minutes) indexed by strain; MG1655 is 41 +/- 1 min."""
    table = _read_csv("julou2020_glucose_lactose_lag.csv",
                      required=("strain", "diauxic_lag_min", "lag_err_min"))
    return table.set_index("strain")


def drug_pairs() -> pd.DataFrame:
    """INDIGO pair scores: columns ``Drug_1``, ``Drug_2``, ``Score`` (<0 synergy, >0 antagonism)."""
    return _read_csv("drug_pairs", "indigo2016_ecoli_pairs_train.csv",
                     required=("Drug_1", "Drug_2", "Score"))


def cell_size(medium: str = "glucose") -> pd.DataFrame:
    """Taheri-Araghi et al. 2015 single cells (one row per cell cycle)."""
    refdata_path("cell_size", f"{medium}.txt")
    from ..tissue.cell_size import load_taheri_araghi

    return load_taheri_araghi(medium)


def stress_log_fold_changes() -> pd.DataFrame:
    """Observed log2 fold changes (genes x stress) against each project's own control.

    Columns are the stress conditions (e.g. ``heat_42C``, ``acid_pH5.5``), the index the
    genes (b-numbers); built from the vendored PRECISE subset (see SOURCES.md).
    """
    table = pd.read_csv(str(refdata_path("transcriptome", "precise_stress_lfc.csv.gz")),
                        index_col=0)
    if table.empty or not np.all(np.isfinite(table.to_numpy(dtype=float))):
        raise RefDataError("data/refdata/transcriptome/precise_stress_lfc.csv.gz is empty or "
                           "holds non-finite values; regenerate it (SOURCES.md)")
    return table


#: stress -> (stress samples, control samples) in PRECISE; see SOURCES.md
STRESS_CONTRASTS = {
    "acid_pH5.5": (["ytf__wt_ph5__1", "ytf__wt_ph5__2"], ["ytf__wt_glc__1", "ytf__wt_glc__2"]),
    # the '42c' project has no 37 C sample: its closest control is the compendium's own
    # wild type on M9 glucose (same lab and protocol; 2 g/L glucose instead of 4)
    "heat_42C": (["42c__wt_42c__1"], ["control__wt_glc__1", "control__wt_glc__2"]),
}


def derive_stress_lfc(shared_dir=SHARED, out=None) -> pd.DataFrame:
    """Build the vendored subset from PRECISE's ``precise_log_tpm.csv.gz`` (log2(TPM+1)).

    Each column is ``mean(stress samples) - mean(control samples)`` per gene, rounded to 4
    decimals; written to ``out`` (gzip CSV) when given.
    """
    from pathlib import Path

    source = Path(shared_dir) / "transcriptome" / "precise_log_tpm.csv.gz"
    if not source.is_file():
        raise RefDataError(f"{source} not found; it is the PRECISE compendium (Sastry et al. "
                           "2019) shipped in the pymodulon 0.2.1 wheel")
    log_tpm = pd.read_csv(source, index_col=0)
    table = pd.DataFrame({name: log_tpm[s].mean(axis=1) - log_tpm[c].mean(axis=1)
                          for name, (s, c) in STRESS_CONTRASTS.items()}).round(4)
    table.index.name = "gene"
    if out is not None:
        table.to_csv(out, compression="gzip")
    return table
