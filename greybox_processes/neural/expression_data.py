"""Training data and weights of the data-only (black-box) transcriptome (WCM-Hard tier 4).

Training set: PRECISE's *nutrient samples* (:func:`nutrient_samples`), selected by a rule,
not a list: the parent strain (``Strain Description`` is exactly "Escherichia coli K-12
MG1655" or "Escherichia coli BW25113": no deletion, no point mutation), not evolved, at 37 C
and pH 7, aerobic (O2), no antibiotic, in a minimal medium (M9 or W2) with a named carbon
source of :data:`CARBON_CLASS`, no supplement other than nutrients of
:data:`NUTRIENT_SUPPLEMENTS`, a batch culture with a measured growth rate > 0 (the growth
rate is an input). :func:`check_training_set` refuses any other sample (naming it and why):
a stress sample (temperature, pH, antibiotic, a non-nutrient supplement such as the iron
chelator DPD), a tier-4 held-out stress sample, a NaN target or input.

Inputs (:data:`INPUTS`, in this order): the culture's growth rate (1/h); the carbon source as
carbon-mole fractions of three classes (glucose; other glycolytic substrates; gluconeogenic
substrates, :data:`CARBON_CLASS`); the environment's stress inputs temperature (C), pH,
osmolarity (Osm/L) and oxidant (uM). PRECISE does not record osmolarity or oxidant: every
training sample is a minimal medium without a redox-cycling drug, so they are taken at the
reference (0.3 Osm/L, 0 uM). Temperature, pH, osmolarity and oxidant are constant over the
training set, so their standardised columns are zero and the ridge gives them weight exactly
zero: the model has learned no response to any stress and predicts none (tier 4 measures
what a data-only model trained on nutrients can say about stresses).

Model (:func:`fit`): PCA of the training samples' log2(TPM+1) (centred, ``components``
leading components) and a ridge regression (``alpha``, on standardised inputs) from the
inputs to the component scores; prediction = mean + scores @ components. Deterministic (SVD
and a linear solve: no random number is drawn). :func:`leave_one_condition_out` gives the
held-out error: each condition (``project`` + ``condition``, its replicates together) is
predicted by the model fitted to the others, against the training-fold mean's prediction.
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .networks import WEIGHTS_DIR
from ..grn.ecoli_expression import reference_expression
from ..wcm_hard.refdata import STRESS_CONTRASTS
from ..wcm_hard.tiers.t4_baselines import find_precise

__all__ = ["INPUTS", "STRESS_INPUT_NAMES", "TRAINING_STRESS", "CARBON_CLASS",
           "NUTRIENT_SUPPLEMENTS", "WEIGHTS_NAME", "nutrient_samples", "check_training_set", "training_inputs",
           "fit", "predict", "leave_one_condition_out", "save_weights", "load_weights",
           "read_precise", "train_expression"]

logger = logging.getLogger(__name__)

#: the shipped weights file (in neural/weights/)
WEIGHTS_NAME = "black_box_expression.npz"
#: the environment's stress inputs (config keys of ExpressionDataOnly), with their training
#: value (PRECISE's 37 C, pH 7; minimal media ~0.3 Osm/L and no oxidant, not recorded)
STRESS_INPUT_NAMES = ("temperature", "pH", "osmolarity", "oxidant")
TRAINING_STRESS = {"temperature": 37.0, "pH": 7.0, "osmolarity": 0.3, "oxidant": 0.0}
CARBON_CLASSES = ("glucose", "other_glycolytic", "gluconeogenic")
#: the model's inputs, in order (growth rate 1/h, carbon-mole fractions, stress inputs)
INPUTS = ("growth_rate", *(f"carbon_{c}" for c in CARBON_CLASSES), *STRESS_INPUT_NAMES)
#: where a carbon source enters central metabolism (sugars and polyols above the triose
#: phosphates: glycolytic; C2-C4 acids and sugar acids degraded to glycerate/pyruvate: they
#: need gluconeogenesis for hexoses) and its carbons per molecule (C-mol fractions)
CARBON_CLASS = {
    "glucose": ("glucose", 6), "fructose": ("other_glycolytic", 6),
    "galactose": ("other_glycolytic", 6), "xylose": ("other_glycolytic", 5),
    "d-ribose": ("other_glycolytic", 5), "d-arabinose": ("other_glycolytic", 5),
    "d-lyxose": ("other_glycolytic", 5), "d-2-deoxyribose": ("other_glycolytic", 5),
    "sorbitol": ("other_glycolytic", 6), "n-acetylglucosamine": ("other_glycolytic", 8),
    "gluconate": ("other_glycolytic", 6), "glycerol": ("other_glycolytic", 3),
    "lactose": ("other_glycolytic", 12),
    "acetate": ("gluconeogenic", 2), "pyruvate": ("gluconeogenic", 3),
    "fumarate": ("gluconeogenic", 4), "succinate": ("gluconeogenic", 4),
    "malate": ("gluconeogenic", 4), "m-tartrate": ("gluconeogenic", 4),
    "glucarate": ("gluconeogenic", 6),
}
#: supplements that are nutrients (amino acids, nucleobases/-sides, the vitamin and iron of a
#: defined-medium recipe); anything else (DPD, FeCl2 excess, glutathione, ...) is a stress
NUTRIENT_SUPPLEMENTS = {"glutamate", "glycine", "threonine", "l-tryptophan", "l-arginine",
                        "leucine", "methionine", "phenylalanine", "tyrosine", "adenine",
                        "uracil", "cytidine", "thiamine", "fecl3", "na-citrate"}
PARENT_STRAINS = {"Escherichia coli K-12 MG1655", "Escherichia coli BW25113"}
MINIMAL_MEDIA = {"M9", "W2"}
_FILES = ("precise_sample_table.csv", "precise_log_tpm.csv.gz")


def _names(cell) -> list[str]:
    """Lower-case component names of a 'name(amount), name (amount) + ...' cell."""
    if not isinstance(cell, str) or not cell.strip():
        return []
    return [re.sub(r"\s*\(.*", "", part).strip().lower()
            for part in re.split(r",|\+", cell) if part.strip()]


def _why_not(row: pd.Series) -> str | None:
    """Why a sample is not a nutrient sample (None when it is one)."""
    if row.get("Temperature (C)") != TRAINING_STRESS["temperature"]:
        return f"temperature {row.get('Temperature (C)')} C (stress: not 37 C)"
    if row.get("pH") != TRAINING_STRESS["pH"]:
        return f"pH {row.get('pH')} (stress: not 7)"
    if isinstance(row.get("Antibiotic"), str):
        return f"antibiotic {row['Antibiotic']} (stress)"
    stress = [s for s in _names(row.get("Supplement")) if s not in NUTRIENT_SUPPLEMENTS]
    if stress:
        return f"supplement {row['Supplement']!r} ({stress} not a nutrient: stress)"
    if row.get("Strain Description") not in PARENT_STRAINS:
        return f"strain {row.get('Strain Description')!r} (not the wild-type parent)"
    if row.get("Evolved Sample") != "No":
        return f"evolved sample ({row.get('Evolved Sample')})"
    if row.get("Electron Acceptor") != "O2":
        return f"electron acceptor {row.get('Electron Acceptor')!r} (not aerobic)"
    if row.get("Base Media") not in MINIMAL_MEDIA:
        return f"base medium {row.get('Base Media')!r} (not minimal M9/W2)"
    carbons = _names(row.get("Carbon Source (g/L)"))
    if not carbons or any(c not in CARBON_CLASS for c in carbons):
        return (f"carbon source {row.get('Carbon Source (g/L)')!r} (none, or not in "
                "CARBON_CLASS of neural/expression_data.py)")
    if row.get("Culture Type") != "Batch":
        return f"culture type {row.get('Culture Type')!r} (not batch)"
    rate = row.get("Growth Rate (1/hr)")
    if not (isinstance(rate, (int, float)) and np.isfinite(rate) and rate > 0):
        return f"growth rate {rate!r} 1/h (no measured growth rate > 0: an input is missing)"
    return None


def nutrient_samples(samples: pd.DataFrame) -> list[str]:
    """The PRECISE sample ids that are nutrient samples (see the module docstring)."""
    return [sid for sid, row in samples.iterrows() if _why_not(row) is None]


def check_training_set(samples: pd.DataFrame, log_tpm: pd.DataFrame, chosen) -> None:
    """Refuse a training set with a non-nutrient sample, a tier-4 held-out stress sample or a
    NaN target (ValueError naming the sample and why)."""

    held_out = {s: name for name, (stressed, _) in STRESS_CONTRASTS.items() for s in stressed}
    for sid in chosen:
        if sid in held_out:
            raise ValueError(f"training sample {sid!r} is tier 4's held-out {held_out[sid]} "
                             "stress sample; remove it from the training set")
        if sid not in samples.index or sid not in log_tpm.columns:
            raise ValueError(f"training sample {sid!r} is not in PRECISE's sample table and "
                             "log TPM; give ids of precise_sample_table.csv")
        why = _why_not(samples.loc[sid])
        if why:
            raise ValueError(f"training sample {sid!r} is not a nutrient sample: {why}; the "
                             "black-box transcriptome trains on nutrient samples only")
        target = log_tpm[sid].to_numpy(dtype=float)
        if not np.all(np.isfinite(target)):
            bad = log_tpm.index[~np.isfinite(target)][:3].tolist()
            raise ValueError(f"training sample {sid!r} has NaN/inf log2(TPM+1) at genes {bad}; "
                             "drop the sample or fix precise_log_tpm.csv.gz")


def _carbon_fractions(cell) -> np.ndarray:
    """C-mol fractions of the carbon classes of a 'name(g/L)' carbon source cell."""
    out = np.zeros(len(CARBON_CLASSES))
    for part in str(cell).split(","):
        name = _names(part)[0]
        grams = re.search(r"\(([\d.]+)\)", part)
        amount = float(grams.group(1)) if grams else 1.0
        klass, carbons = CARBON_CLASS[name]
        out[CARBON_CLASSES.index(klass)] += amount * carbons   # g/L x C: proportional weight
    return out / out.sum()


def training_inputs(samples: pd.DataFrame, chosen) -> np.ndarray:
    """(n_samples, len(INPUTS)) inputs of the chosen samples (see the module docstring)."""
    rows = []
    for sid in chosen:
        row = samples.loc[sid]
        stress = {**TRAINING_STRESS, "temperature": float(row["Temperature (C)"]),
                  "pH": float(row["pH"])}
        rows.append([float(row["Growth Rate (1/hr)"]),
                     *_carbon_fractions(row["Carbon Source (g/L)"]),
                     *(stress[k] for k in STRESS_INPUT_NAMES)])
    x = np.asarray(rows, dtype=float)
    if not np.all(np.isfinite(x)):
        bad = [sid for sid, r in zip(chosen, x) if not np.all(np.isfinite(r))]
        raise ValueError(f"training samples {bad} have NaN inputs; fix the sample table")
    return x


def fit(x: np.ndarray, y: np.ndarray, components: int = 10, alpha: float = 1.0) -> dict:
    """PCA of ``y`` (samples x genes) + ridge from standardised ``x`` to the scores.

    A column of ``x`` that does not vary (std 0) stays 0 after centring and gets weight 0."""
    x_mean, x_std = x.mean(axis=0), x.std(axis=0)
    constant = x_std <= 1e-9 * np.maximum(np.abs(x_mean), 1.0)   # rounding of a constant
    scale = np.where(constant, 1.0, x_std)
    x_mean = np.where(constant, x[0], x_mean)
    xs = (x - x_mean) / scale
    y_mean = y.mean(axis=0)
    _, _, vt = np.linalg.svd(y - y_mean, full_matrices=False)
    basis = vt[:min(components, vt.shape[0])]
    scores = (y - y_mean) @ basis.T
    coef = np.linalg.solve(xs.T @ xs + alpha * np.eye(xs.shape[1]), xs.T @ scores)
    return {"x_mean": x_mean, "x_scale": scale, "y_mean": y_mean, "basis": basis,
            "coef": coef}


def predict(model: dict, x: np.ndarray) -> np.ndarray:
    """log2(TPM+1), (n, genes), at inputs ``x`` (n, len(INPUTS))."""
    xs = (np.atleast_2d(x) - model["x_mean"]) / model["x_scale"]
    return model["y_mean"] + xs @ model["coef"] @ model["basis"]


def leave_one_condition_out(x, y, groups, components=10, alpha=1.0, progress=None) -> dict:
    """Held-out error per condition: the model fitted without it vs the training-fold mean.

    ``{'conditions': {group: {'rmse_model', 'rmse_mean', 'cosine'}}, 'rmse_model',
    'rmse_mean', 'beats_mean'}``; RMSE in log2(TPM+1) over genes and the condition's
    samples; cosine of the predicted and observed deviation from the training-fold mean."""
    groups = np.asarray(groups)
    out = {}
    for group in (progress or (lambda it: it))(list(dict.fromkeys(groups))):
        test = groups == group
        model = fit(x[~test], y[~test], components, alpha)
        pred = predict(model, x[test])
        base = model["y_mean"]
        dev_pred, dev_obs = (pred - base).ravel(), (y[test] - base).ravel()
        norm = np.linalg.norm(dev_pred) * np.linalg.norm(dev_obs)
        out[str(group)] = {
            "rmse_model": float(np.sqrt(np.mean((pred - y[test]) ** 2))),
            "rmse_mean": float(np.sqrt(np.mean((base - y[test]) ** 2))),
            "cosine": float(dev_pred @ dev_obs / norm) if norm > 0 else None}
    model_rmse = np.array([v["rmse_model"] for v in out.values()])
    mean_rmse = np.array([v["rmse_mean"] for v in out.values()])
    return {"conditions": out, "rmse_model": float(model_rmse.mean()),
            "rmse_mean": float(mean_rmse.mean()),
            "beats_mean": int(np.sum(model_rmse < mean_rmse)), "n_conditions": len(out)}


def save_weights(path, model: dict, genes, metadata: dict) -> Path:
    """Write the model, its gene order and ``metadata`` (JSON) to an ``.npz`` file."""
    path = Path(path)
    np.savez_compressed(path, **{k: np.asarray(v, dtype=np.float64) for k, v in model.items()},
                        genes=np.asarray(genes, dtype=str), inputs=np.asarray(INPUTS, dtype=str),
                        metadata=np.asarray(json.dumps(metadata)))
    return path


def load_weights(name, genes) -> tuple[dict, dict]:
    """``(model, metadata)`` of a weights file (a path or a file in neural/weights/), refused
    when it was trained for other genes (order included) or other inputs than :data:`INPUTS`."""
    path = Path(name)
    if not path.is_file():
        path = WEIGHTS_DIR / str(name)
    if not path.is_file():
        raise ValueError(f"expression weights {name!r} not found (as a path or in "
                         f"{WEIGHTS_DIR}); train them with `greybox train-black-box-expression`")
    with np.load(path, allow_pickle=False) as blob:
        data = {k: blob[k] for k in blob.files}
    missing = sorted({"genes", "inputs", "metadata", "x_mean", "x_scale", "y_mean", "basis",
                      "coef"} - set(data))
    if missing:
        raise ValueError(f"{path} is not a black-box expression weights file (no {missing}); "
                         "retrain with `greybox train-black-box-expression`")
    inputs = tuple(data["inputs"].tolist())
    if inputs != INPUTS:
        raise ValueError(f"{path} was trained for inputs {list(inputs)}, ExpressionDataOnly "
                         f"reads {list(INPUTS)}; retrain with `greybox "
                         "train-black-box-expression`")
    theirs, ours = data["genes"].astype(str), np.asarray(genes, dtype=str)
    if theirs.shape != ours.shape or np.any(theirs != ours):
        extra = sorted(map(str, set(theirs) - set(ours)))[:3]
        lacking = sorted(map(str, set(ours) - set(theirs)))[:3]
        detail = (f"{theirs.size} genes vs {ours.size}; not ours {extra}, missing {lacking}"
                  if extra or lacking else "same genes in another order")
        raise ValueError(f"{path} was trained for other genes than EcoliTranscriptome's PRECISE "
                         f"genes ({detail}); retrain with `greybox train-black-box-expression`")
    model = {k: data[k] for k in ("x_mean", "x_scale", "y_mean", "basis", "coef")}
    return model, json.loads(str(data["metadata"]))


def read_precise(shared=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRECISE's sample table and log2(TPM+1) (genes x samples) from the shared folder."""

    folder = find_precise(shared)
    if folder is None:
        raise ValueError(f"PRECISE's {list(_FILES)} not found under <shared>/refdata/"
                         "transcriptome; pass shared=<the project's shared folder>")
    samples = pd.read_csv(folder / _FILES[0], index_col=0)
    return samples, pd.read_csv(folder / _FILES[1], index_col=0)


def train_expression(out=None, shared=None, components: int = 10, alpha: float = 1.0,
                     samples_ids=None, progress: bool = True) -> dict:
    """Select the nutrient samples, report leave-one-condition-out CV, fit on all of them
    and write ``out`` (default the shipped ``neural/weights/black_box_expression.npz``).

    Returns the metadata written into the file (training samples, CV, command)."""
    from tqdm.auto import tqdm


    start = time.perf_counter()
    samples, log_tpm = read_precise(shared)
    chosen = list(samples_ids) if samples_ids is not None else nutrient_samples(samples)
    check_training_set(samples, log_tpm, chosen)
    genes = reference_expression().index.to_numpy(dtype=str)
    missing = sorted(set(genes) - set(log_tpm.index))
    if missing:
        raise ValueError(f"PRECISE's log TPM lacks genes {missing[:3]} of EcoliTranscriptome")
    y = log_tpm.loc[genes, chosen].to_numpy(dtype=float).T
    x = training_inputs(samples, chosen)
    groups = (samples.loc[chosen, "project"] + "__" + samples.loc[chosen, "condition"]).tolist()
    bar = (lambda it: tqdm(it, desc="leave-one-condition-out", unit="fold")) if progress \
        else None
    cv = leave_one_condition_out(x, y, groups, components, alpha, progress=bar)
    model = fit(x, y, components, alpha)
    constant = [n for n, col in zip(INPUTS, x.T) if np.all(col == col[0])]
    metadata = {
        "model": f"PCA ({model['basis'].shape[0]} components) + ridge (alpha {alpha}) on "
                 "standardised inputs; deterministic (no random draw)",
        "inputs": list(INPUTS), "units": {"growth_rate": "1/h", "carbon_*": "C-mol fraction",
                                          "temperature": "C", "pH": "", "osmolarity": "Osm/L",
                                          "oxidant": "uM", "output": "log2(TPM+1)"},
        "constant_in_training": constant,
        "training_samples": chosen, "training_conditions": sorted(set(groups)),
        "growth_range_per_h": [float(x[:, 0].min()), float(x[:, 0].max())],
        "cv_leave_one_condition_out": cv,
        "command": f"greybox train-black-box-expression --components {components} "
                   f"--alpha {alpha}",
        "data": "PRECISE precise_sample_table.csv + precise_log_tpm.csv.gz (shared refdata)",
    }
    path = Path(out) if out is not None else WEIGHTS_DIR / WEIGHTS_NAME
    save_weights(path, model, genes, metadata)
    metadata["file"] = str(path)
    metadata["wall_s"] = time.perf_counter() - start
    logger.info("black-box expression: %d samples, %d conditions, held-out RMSE %.3f (mean "
                "predictor %.3f) -> %s", len(chosen), cv["n_conditions"], cv["rmse_model"],
                cv["rmse_mean"], path)
    return metadata
