"""Tier 4 reference point: how far a growth-rate ("growth law") expression model gets.

* training set: PRECISE samples of wild-type MG1655/BW25113 at 37 C, pH 7, not evolved, with a
  measured growth rate > 0 (nutrient conditions: carbon and nitrogen sources, supplements);
  neither stress sample is in it;
* model: per gene, log2(TPM+1) = a_project + b_gene * mu (ordinary least squares on the samples
  centred within each project, which removes project batch effects);
* prediction for a stress: b * (mu_stress - mu_control), with the growth rates PRECISE measured
  (an oracle input: the model is even told how much the stress slows growth); its cosine with
  the observed log2 fold changes equals +/- cos(b, observed), whatever the growth change.

It reads PRECISE's full compendium (``precise_sample_table.csv``, ``precise_log_tpm.csv.gz``)
from the project's shared folder (not shipped with the package); :func:`find_precise` looks
in the given folder, then ``../shared`` and the folder beside the repository.
CLI: ``python benchmarks/tier4_growth_law_baseline.py``.

The other reference points of the tier's report are the sibling E. coli cells
(:func:`sibling_boxes`: ``ecoli_glass_box.yaml``, ``ecoli_grey_box.yaml`` and
``ecoli_black_box.yaml`` next to the certified spec), run by the tier with the same stresses;
:func:`comparison_notes` writes the table of everyone's cosines.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import refdata

__all__ = ["cosine_similarity", "growth_slopes", "find_precise", "growth_law_cosines",
           "BOXES", "sibling_boxes", "comparison_notes"]

def cosine_similarity(predicted, observed) -> float:
    """Cosine of the angle between two ``(n_genes,)`` log fold-change vectors."""
    p = np.asarray(predicted, dtype=float)
    o = np.asarray(observed, dtype=float)
    if p.shape != o.shape or p.ndim != 1:
        raise ValueError(f"predicted {p.shape} and observed {o.shape} must be equal (n,) vectors")
    norm = np.linalg.norm(p) * np.linalg.norm(o)
    if norm == 0:
        raise ValueError("a zero log fold-change vector has no direction; cosine undefined")
    return float(p @ o / norm)


_FILES = ("precise_sample_table.csv", "precise_log_tpm.csv.gz")


def growth_slopes(samples: pd.DataFrame, log_tpm: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Per-gene slope of log2(TPM+1) on growth rate (1/h) over the nutrient samples (within
    project), and the training samples (rows of ``samples``)."""
    keep = ((samples["Temperature (C)"] == 37) & (samples["pH"] == 7.0)
            & samples["Strain"].isin(["MG1655", "BW25113"])
            & (samples["Evolved Sample"] == "No")
            & (samples["Growth Rate (1/hr)"] > 0))
    train = samples[keep]
    x = log_tpm[train.index].T
    mu = train["Growth Rate (1/hr)"].astype(float)
    xc = x - x.groupby(train["project"]).transform("mean")
    muc = mu - mu.groupby(train["project"]).transform("mean")
    return xc.mul(muc, axis=0).sum() / float((muc ** 2).sum()), train


def find_precise(shared=None) -> Path | None:
    """The folder holding PRECISE's sample table and log TPM (``<shared>/refdata/
    transcriptome``), or None when none of the candidates has them."""
    here = Path(__file__).resolve()
    candidates = ([Path(shared)] if shared else []) + [Path("../shared"),
                                                       here.parents[4] / "shared"]
    for root in candidates:
        folder = root / "refdata" / "transcriptome"
        if all((folder / name).is_file() for name in _FILES):
            return folder
    return None


def growth_law_cosines(shared=None) -> dict:
    """The growth-law model's cosines per stress of ``STRESS_CONTRASTS``.

    ``{'training_samples': n, 'training_projects': n, 'growth_range_per_h': [lo, hi],
    'stresses': {stress: {'cos_slopes': c, 'cosine': c or None, 'growth_per_h':
    [control, stress] or None, 'genes': n}}}``; ``{'available': False, 'why': ...}`` when
    PRECISE's full compendium is not found.
    """
    folder = find_precise(shared)
    if folder is None:
        return {"available": False,
                "why": f"PRECISE's {list(_FILES)} not found under <shared>/refdata/"
                       "transcriptome (pass shared=..., the project's shared folder)"}
    samples = pd.read_csv(folder / _FILES[0], index_col=0)
    log_tpm = pd.read_csv(folder / _FILES[1], index_col=0)
    slopes, train = growth_slopes(samples, log_tpm)
    observed = refdata.stress_log_fold_changes()
    rates = samples["Growth Rate (1/hr)"]
    out = {"available": True, "training_samples": int(len(train)),
           "training_projects": int(train["project"].nunique()),
           "growth_range_per_h": [float(train["Growth Rate (1/hr)"].min()),
                                  float(train["Growth Rate (1/hr)"].max())],
           "stresses": {}}
    for stress, (stressed, control) in refdata.STRESS_CONTRASTS.items():
        genes = observed.index.intersection(slopes.index)
        obs = observed.loc[genes, stress]
        mu_s, mu_c = rates[stressed].mean(), rates[control].mean()
        entry = {"cos_slopes": cosine_similarity(slopes[genes], obs), "genes": int(len(genes)),
                 "cosine": None, "growth_per_h": None}
        if np.isfinite(mu_s) and np.isfinite(mu_c):
            entry["growth_per_h"] = [float(mu_c), float(mu_s)]
            entry["cosine"] = cosine_similarity(slopes[genes] * (mu_s - mu_c), obs)
        out["stresses"][stress] = entry
    return out


#: the E. coli cells the tier compares, ``{label: spec file name}`` (WCM-Hard's three boxes)
BOXES = {"black box": "ecoli_black_box.yaml", "glass box": "ecoli_glass_box.yaml",
         "grey box": "ecoli_grey_box.yaml"}


def sibling_boxes(spec) -> dict:
    """``{label: spec path or None}`` of :data:`BOXES` next to ``spec`` (a YAML path): the
    certified spec itself is listed under its own label too; None where the file is missing
    (and for every box when ``spec`` is not a file, e.g. a document dict)."""
    if not isinstance(spec, (str, Path)) or not Path(spec).is_file():
        return {label: None for label in BOXES}
    folder = Path(spec).resolve().parent
    return {label: (str(folder / name) if (folder / name).is_file() else None)
            for label, name in BOXES.items()}


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def comparison_notes(stresses, constant: dict, growth_law: dict, boxes: dict) -> list[str]:
    """One line per reference point and box: its cosine per stress in ``stresses``.

    ``constant``: ``{stress: cosine}``; ``growth_law``: :func:`growth_law_cosines`'s result;
    ``boxes``: ``{label: {'cosine': {stress: c}, 'no_change': [stress]}`` or
    ``{'not_applicable': why}}`` (``no_change``: stresses it predicts no change for).
    """
    def row(label, values):
        return f"{label}: " + ", ".join(f"{s} {_fmt(values.get(s))}" for s in stresses)

    lines = [row("constant predictor", constant)]
    if growth_law.get("available"):
        law = {s: (e["cosine"] if e["cosine"] is not None else e["cos_slopes"])
               for s, e in growth_law["stresses"].items()}
        lines.append(row("growth-law reference (cos of the slopes where PRECISE has no growth "
                         "rate)", law))
    else:
        lines.append(f"growth-law reference: not available ({growth_law.get('why')})")
    for label, entry in boxes.items():
        if "not_applicable" in entry:
            lines.append(f"{label}: not applicable ({entry['not_applicable']})")
        else:
            flat = set(entry.get("no_change", ()))
            lines.append(f"{label}: " + ", ".join(
                f"{s} {'no change predicted' if s in flat else _fmt(entry['cosine'].get(s))}"
                for s in stresses))
    return lines
