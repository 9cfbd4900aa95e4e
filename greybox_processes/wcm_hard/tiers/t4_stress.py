"""Tier 4, out-of-distribution stress: predicted vs observed expression changes under heat and acid.

Pure score: :func:`cosine_similarity` of predicted and observed log fold-change vectors over
the genes both cover (each against its own control). A perfect predictor scores 1; a constant
prediction ``c`` scores ``sign(c) * sum(obs) / (sqrt(n) * ||obs||)``; pass when > 0.8 for every
stress (heat 42 C, pH 5.5; PRECISE, see :func:`..refdata.stress_log_fold_changes`).

Protocol (:func:`stress_protocol`): the composite needs a stress node, a process whose class
declares ``stress_inputs`` (the config keys it takes as stress inputs, e.g.
:class:`~greybox_processes.ecoli.stress.RegulatorActivity`: temperature, pH, osmolarity,
oxidant), and an expression store, the store wired to an ``expression`` output port (of the
stress node itself, or of a process downstream such as
:class:`~greybox_processes.grn.transcriptome_process.EcoliTranscriptome`: log2(TPM+1), a
``gene`` dimension of b-numbers); :func:`stress_nodes` finds both. The tier runs the composite
unstressed and under each stress of its ``stresses`` config (``{name: {input: value}}``, any
declared stress input; default :data:`DEFAULT_STRESSES`, the two with PRECISE data) for
``time`` minutes (the expression relaxes in minutes), and takes each stress's predicted log2
fold change at the end of the run against the unstressed run. Stresses with observed data are
scored (:func:`score_stresses`); the others are reported with their predicted change only. A
stress input the stress node does not declare is an error naming the node and its inputs.

The report shows, from the same run: the constant predictor's cosine, the growth-law reference
(:mod:`.t4_baselines`) and the black, glass and grey boxes (the ``ecoli_*_box.yaml`` next to the
certified spec, run with the same stresses and time; a box without the nodes is listed as not
applicable, with the reason). The tier's pass/fail is the certified composite's own score. In
quick mode every composite runs a small population (at most :data:`QUICK_CAPACITY` slots and
:data:`QUICK_INITIAL_CELLS` cells) for :data:`QUICK_RUN_TIME` minutes; its own model is kept.
A composite without the nodes is not applicable (and the boxes are then not run).
"""
from __future__ import annotations

import logging
import time as wallclock
from pathlib import Path

import numpy as np
import pandas as pd

from ...ecoli.stress import RegulatorActivity
from ...framework.document import resolve_wire
from ...framework.registry import default_core
from ...grn.ecoli_trn import read_name_tables
from .base import PASS, FAIL, TierStep, process_class, process_nodes
# the cosine lives with the growth-law reference, which needs it; re-exported here
from .t4_baselines import (BOXES, comparison_notes, cosine_similarity, growth_law_cosines,
                           sibling_boxes)

__all__ = ["cosine_similarity", "constant_prediction_cosine", "score_stresses", "StressTier",
           "THRESHOLD", "DEFAULT_STRESSES", "stress_nodes", "stress_inputs_of",
           "check_stresses", "stress_protocol", "regulator_coverage", "quick_overrides"]

logger = logging.getLogger(__name__)

THRESHOLD = 0.8
#: stress name -> stress inputs (the stresses PRECISE has data for)
DEFAULT_STRESSES = {"heat_42C": {"temperature": 42.0}, "acid_pH5.5": {"pH": 5.5}}
#: minutes each composite runs (5 mRNA half-lives: the expression is within 3 % of its
#: steady state) and in quick mode
RUN_TIME, QUICK_RUN_TIME = 25.0, 10.0
#: quick mode's population: at most this many slots and initial cells in every composite (the
#: transcriptome is the population's mean; a few cells give its state, not its noise)
QUICK_CAPACITY, QUICK_INITIAL_CELLS = 16, 4
#: the glass box's calibration samples (grn/ecoli_expression.py): nothing else is trained on
TRAINING_SAMPLES = ["control__wt_glc__1", "control__wt_glc__2"]


def constant_prediction_cosine(observed, constant: float = 1.0) -> float:
    """What a prediction of the same change for every gene scores (closed form)."""
    o = np.asarray(observed, dtype=float)
    return float(np.sign(constant) * o.sum() / (np.sqrt(o.size) * np.linalg.norm(o)))


def score_stresses(predicted: dict, observed) -> dict:
    """``{stress: cosine}`` over the genes both cover; ``observed`` is genes x stresses."""
    scores = {}
    for stress, values in predicted.items():
        values = values.reindex(observed.index).dropna()
        scores[stress] = cosine_similarity(values.to_numpy(), observed.loc[values.index, stress])
    return scores


# -- finding the nodes ---------------------------------------------------------------------
def stress_inputs_of(cls) -> tuple:
    """The stress inputs a process class declares (its ``stress_inputs`` class attribute: the
    config keys it takes as stress inputs), ``()`` when it declares none."""
    declared = getattr(cls, "stress_inputs", ()) if isinstance(cls, type) else ()
    return tuple(str(name) for name in (declared or ()))


def _node_class(node, core):
    if core is None:
        return process_class(node)
    name = str(node.get("address", "")).split(":")[-1]
    return core.link_registry.get(name) if name in core.link_registry else None


def _stores(path, wires) -> set:
    return {tuple(resolve_wire(path, wire)) for wire in (wires or {}).values()}


def stress_nodes(spec, overrides=None, core=None):
    """``(stress_path, expression_store)`` of a composite; ``(None, None)`` without a stress
    node, ``(stress_path, None)`` without an expression store.

    The stress node is the process whose class declares ``stress_inputs``; the expression
    store is the store (a path tuple) wired to an ``expression`` output port: the stress
    node's own if it has one (a data-only model predicting expression from the stresses), else
    another process's, preferring one that reads a store the stress node writes. ``core``
    resolves the node classes (default: every installed process). Two stress nodes, or two
    candidate expression stores with no way to choose, are an error naming them.
    """
    nodes = process_nodes(spec, overrides)
    found = [path for path, node in nodes.items() if stress_inputs_of(_node_class(node, core))]
    if not found:
        return None, None
    if len(found) > 1:
        raise ValueError(f"the composite has {len(found)} stress nodes "
                         f"{['.'.join(map(str, p)) for p in found]} (processes declaring "
                         "stress_inputs); tier 4 sets the stresses on one: remove the others")
    stress_path = found[0]
    writes = _stores(stress_path, nodes[stress_path].get("outputs"))
    candidates, downstream = [], []
    for path, node in nodes.items():
        wire = (node.get("outputs") or {}).get("expression")
        if wire is None:
            continue
        store = tuple(resolve_wire(path, wire))
        if path == stress_path:
            return stress_path, store
        candidates.append(store)
        if _stores(path, node.get("inputs")) & writes:
            downstream.append(store)
    for choice in (set(downstream), set(candidates)):
        if len(choice) == 1:
            return stress_path, next(iter(choice))
        if len(choice) > 1:
            raise ValueError(f"processes write {len(choice)} expression stores "
                             f"{sorted('.'.join(map(str, c)) for c in choice)}; tier 4 scores "
                             "one: wire a single 'expression' output")
    return stress_path, None


def regulator_coverage(node) -> dict:
    """Which of E. coli's TRN regulators (``trn.csv``) the RegulatorActivity ``node`` sets
    (``set``) and which no mechanism sets (``not_set``: they stay at the reference, 1)."""
    process = RegulatorActivity(dict(node.get("config") or {}), default_core())
    written = sorted(process.activities())
    regulators, _ = read_name_tables()
    not_set = sorted(set(regulators.index) - set(written))
    return {"set": written, "not_set_count": len(not_set), "not_set": not_set}


# -- the protocol --------------------------------------------------------------------------
def check_stresses(stresses: dict, accepted, node: str = "stress") -> None:
    """Each stress must be a non-empty ``{input: value}`` of inputs the stress node declares
    (``accepted``, its ``stress_inputs``); else a ValueError naming the node and its inputs."""
    for name, inputs in stresses.items():
        unknown = sorted(set(inputs) - set(accepted))
        if not inputs or unknown:
            raise ValueError(f"stress {name!r}: inputs {sorted(inputs)} must be a non-empty map "
                             f"of the stress node {node!r}'s stress_inputs {list(accepted)} to "
                             f"values ({unknown} not declared by it)")


def quick_overrides(spec, overrides=None) -> dict:
    """Dotted overrides capping ``capacity`` / ``initial_cells`` of every node that has them
    at :data:`QUICK_CAPACITY` / :data:`QUICK_INITIAL_CELLS` (per-cell stores must agree)."""
    out = {}
    for path, node in process_nodes(spec, overrides).items():
        config = node.get("config") or {}
        where = ".".join(map(str, path)) + ".config"
        for key, cap in (("capacity", QUICK_CAPACITY), ("initial_cells", QUICK_INITIAL_CELLS)):
            if isinstance(config.get(key), (int, float)) and config[key] > cap:
                out[f"{where}.{key}"] = cap
    return out


def stress_protocol(spec, stresses: dict, time: float, run, stress_path, expression_store,
                    overrides=None, core=None) -> dict:
    """Predicted log2 fold changes ``{stress: pd.Series over genes}`` of a composite.

    ``run(spec, time, overrides=...)`` runs the composite (a tier's ``run_composite``); each
    stress ``{input: value}`` sets ``<stress_path>.config.<input>`` on top of ``overrides``.
    The change is the expression store at the end of the stressed run minus the unstressed
    run's (log2(TPM+1), so a log2 fold change of TPM+1). A stress input the stress node's
    class does not declare (``stress_inputs``) is an error naming the node and the inputs it
    accepts, raised before anything runs (``core`` resolves the class; default: installed).
    """
    prefix = ".".join(map(str, stress_path))
    node = process_nodes(spec, overrides).get(tuple(stress_path))
    if node is None:
        raise ValueError(f"the composite has no node {prefix!r} (the stress node)")
    check_stresses(stresses, stress_inputs_of(_node_class(node, core)), prefix)
    base = dict(overrides or {})
    variable = ".".join(map(str, expression_store))

    def final_expression(extra):
        ds = run(spec, time, overrides={**base, **extra})
        data = ds[variable]
        genes = data.coords[data.dims[-1]].values
        return pd.Series(np.asarray(data.isel(time=-1).values, dtype=float),
                         index=pd.Index(genes.astype(str), name="gene"))

    control = final_expression({})
    return {name: final_expression({f"{prefix}.config.{k}": float(v)
                                    for k, v in inputs.items()}) - control
            for name, inputs in stresses.items()}


def _missing_nodes(stress_path) -> str:
    if stress_path is None:
        return "no stress node (no process declares stress_inputs)"
    return (f"no process writes an 'expression' store (stress node "
            f"{'.'.join(map(str, stress_path))})")


class StressTier(TierStep):
    """WCM-Hard tier 4: cosine of predicted vs observed log fold changes under unseen stresses."""

    tier = 4
    title = "out-of-distribution stress"
    criterion = (f"cosine(predicted, observed log2 FC) > {THRESHOLD} for every stress with data "
                 "(heat 42 C, pH 5.5)")

    config_schema = {
        **TierStep.config_schema,
        # stress name -> {stress input: value}; empty: DEFAULT_STRESSES
        "stresses": {"_type": "map[map[float]]", "_default": {}},
        # minutes per run (0: RUN_TIME, QUICK_RUN_TIME in quick mode)
        "time": {"_type": "float", "_default": 0.0},
        # the project's shared folder, for the growth-law reference ('' : the usual places)
        "shared": {"_type": "string", "_default": ""},
        # also run the black, glass and grey boxes next to the spec (BOXES) for the report
        "compare_boxes": {"_type": "boolean", "_default": True},
    }

    def _box(self, spec, stresses, time, observed, *, certified) -> dict:
        """One composite's run of the protocol: ``{'cosine': {stress: c}, ...}`` or
        ``{'not_applicable': why}``. For the certified spec, an undeclared stress input is
        an error; for a box it makes the box not applicable."""
        stress_path, expression = stress_nodes(spec)
        if stress_path is None or expression is None:
            return {"not_applicable": _missing_nodes(stress_path)}
        node = process_nodes(spec)[stress_path]
        accepted = stress_inputs_of(process_class(node))
        undeclared = sorted({k for inputs in stresses.values() for k in inputs} - set(accepted))
        if undeclared and not certified:
            return {"not_applicable": f"its stress node {'.'.join(map(str, stress_path))!r} "
                                      f"does not take {undeclared} (takes {list(accepted)})"}
        overrides = quick_overrides(spec) if self.config["quick"] else {}
        started = wallclock.perf_counter()
        predicted = stress_protocol(spec, stresses, time, self.run_composite, stress_path,
                                    expression, overrides=overrides)
        scored = {k: v for k, v in predicted.items() if k in observed.columns}
        # a box that predicts no change at all has no direction: no cosine, listed as such
        flat = sorted(k for k, v in scored.items()
                      if not np.any(v.reindex(observed.index).fillna(0.0).to_numpy()))
        cosine = score_stresses({k: v for k, v in scored.items() if k not in flat}, observed)
        entry = {"cosine": {**cosine, **{k: None for k in flat}}, "no_change": flat,
                 "stress_node": ".".join(map(str, stress_path)),
                 "stress_node_class": getattr(process_class(node), "__name__", None),
                 "expression_store": ".".join(map(str, expression)),
                 "predicted_lfc_norm": {k: float(np.linalg.norm(v))
                                        for k, v in predicted.items()},
                 "overrides": overrides, "wall_s": wallclock.perf_counter() - started}
        if isinstance(process_class(node), type) and issubclass(process_class(node),
                                                                 RegulatorActivity):
            entry["regulators"] = regulator_coverage(node)
        return entry

    def _boxes(self, stresses, time, observed, own: dict) -> dict:
        """``{label: entry}`` of :data:`BOXES` (the certified spec's own entry where it is one)."""
        spec = self.config["spec"]
        own_path = Path(spec).resolve() if Path(spec).is_file() else None
        out = {}
        for label, path in sibling_boxes(spec).items():
            if path is None:
                out[label] = {"not_applicable": f"{BOXES[label]} is not next to the spec"}
            elif own_path is not None and Path(path) == own_path:
                out[label] = {**own, "certified": True}
            else:
                try:
                    out[label] = {"spec": path, **self._box(path, stresses, time, observed,
                                                            certified=False)}
                except Exception as error:  # noqa: BLE001 - a broken box is listed, not fatal
                    logger.warning("tier 4: box %s (%s) failed: %s", label, path, error)
                    out[label] = {"spec": path, "not_applicable":
                                  f"its run failed: {type(error).__name__}: {error}"}
        return out

    def _evaluate(self, client):
        from .. import refdata

        observed = refdata.stress_log_fold_changes()
        stresses = dict(self.config["stresses"]) or DEFAULT_STRESSES
        constant = {s: constant_prediction_cosine(observed[s]) for s in observed.columns}
        growth_law = growth_law_cosines(self.config["shared"] or None)
        time = self.config["time"] or (QUICK_RUN_TIME if self.config["quick"] else RUN_TIME)
        own = self._box(self.config["spec"], stresses, time, observed, certified=True)
        evidence = {"composite_cosine": own.get("cosine"), "boxes": {},
                    "stresses": {k: dict(v) for k, v in stresses.items()},
                    "run_minutes": time, "observed_genes": int(observed.shape[0]),
                    "constant_predictor_cosine": constant, "growth_law_reference": growth_law}
        if "not_applicable" in own:
            return self.not_applicable(own["not_applicable"] + "; a genome-wide expression "
                                       "store driven by stress inputs is needed to predict log "
                                       "fold changes (the boxes are not run)", evidence=evidence)
        boxes = self._boxes(stresses, time, observed, own) if self.config["compare_boxes"] else {}
        evidence["boxes"] = {label: {k: v for k, v in entry.items() if k != "regulators"}
                             for label, entry in boxes.items()}
        scores = own["cosine"]
        evidence.update({
            "training_samples": {"composite": TRAINING_SAMPLES,
                                 "note": "the glass box's expression model is calibrated on "
                                         "these two M9-glucose wild-type samples only; a "
                                         "data-only stress node lists its own in its weights"},
            "predicted_lfc_norm": own["predicted_lfc_norm"],
            "unscored_stresses": sorted(set(stresses) - set(scores)),
            "regulators": own.get("regulators"),
        })
        if not any(entry.get("certified") for entry in boxes.values()):
            boxes = {f"certified ({Path(str(self.config['spec'])).stem})": own, **boxes}
        notes = comparison_notes(list(observed.columns), constant, growth_law, boxes)
        if self.config["quick"]:
            notes.append(f"quick mode: every composite at most {QUICK_CAPACITY} slots, "
                         f"{QUICK_INITIAL_CELLS} initial cells, {time:g} min per run")
        notes += [f"stress {k!r} has no observed data: its prediction is reported, not scored"
                  for k in evidence["unscored_stresses"]]
        if not scores:
            result = self.not_applicable("none of the stresses has observed data "
                                         f"({list(observed.columns)})", evidence=evidence)
            result.notes.extend(notes)
            return result
        if own["no_change"]:
            notes.append(f"the composite predicts no change under {own['no_change']}: no "
                         f"direction, no cosine, so not > {THRESHOLD}")
            return self.make(FAIL, score=None, evidence=evidence, notes=notes)
        score = min(scores.values())
        return self.make(PASS if score > THRESHOLD else FAIL, score=score, evidence=evidence,
                         notes=notes)
