"""The four E. coli cells of WCM-Hard: glass, grey, mechanistic-only and black box.

Python builders of ``composites/ecoli_{glass_box,grey_box,mechanistic_only,black_box}.yaml``
(each gives the same document as its YAML). All four are the population of
:func:`~.composites.ecoli_population` (a batch culture on glucose + lactose of cells made of
separate processes sharing each cell's stores), on the genome-scale ``iJO1366`` by default,
``method: etfl``, one process swap apart:

* ``ecoli_glass_box``: :func:`~.composites.ecoli_population` itself: every process with its
  literature defaults, the lac operon regulated by its own Yildirim-Mackey repression
  (``lac.config.regulation: model``); nothing fitted.
* ``ecoli_mechanistic_only``: the glass box with ``lac.config.regulation: store``: the lac
  transcription reads the per-cell store ``cells/regulation``, which nothing writes, so it
  stays at its initial value, the lac model's own induction of the initial cells
  (:meth:`~greybox_processes.lac.process.LacOperon.initial_regulation`: YM's induction
  factor at their allolactose, ``1/K`` = 1.4e-4 for cells fresh from glucose). It is the
  grey box without its controller: the mechanism with regulation frozen where it starts.
* ``ecoli_grey_box``: the mechanistic-only cell plus ``controller``
  (:class:`~greybox_processes.neural.population_controller.PopulationController`): the
  grey box's latent Transformer (shipped ``grey_box_controller.pt``) writes each cell's
  ``cells/regulation`` every minute.
* ``ecoli_black_box``: the mechanistic-only cell with ``metabolism`` swapped for
  :class:`~greybox_processes.neural.population_blackbox.PopulationDataOnly` (shipped
  ``black_box_cell.pt``): growth and medium uptake predicted, no stoichiometry.

The glass, mechanistic-only and grey cells also carry the stress response of
``composites/ecoli_stress_response.yaml`` (``stress_response=False`` leaves it out):
``stress`` (:class:`~greybox_processes.ecoli.stress.RegulatorActivity`: regulator activities
from the stress inputs, its config ``temperature`` C, ``pH``, ``osmolarity`` Osm/L, ``oxidant``
uM, and from the cells' state) and ``transcriptome``
(:class:`~greybox_processes.grn.transcriptome_process.EcoliTranscriptome`: the population's
3923 PRECISE genes, log2(TPM+1), in the store ``expression``), what WCM-Hard tier 4 scores. Both
stores are the population's, not per cell. Its cost per 1-min step: ~20 ms (the transcriptome's
warm-started steady-state solve), about 1 % of a genome-scale step (~1.5 s with 4 cells).

Besides the swapped node, only the ``division`` step's list of per-cell stores changes (it
partitions every per-cell store, and the regulation, the controller's latent state and the
black box's latent state are per-cell stores; the black box has no ``exchange_rates``, the
LP fluxes PopulationMetabolism charges one interval later); the tests check this.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..neural.composites import BLACKBOX_WEIGHTS, CONTROLLER_WEIGHTS
from ..neural.controller import NETWORK_CONFIG
from ..neural.embedding import feature_names
from ..neural.expression_data import WEIGHTS_NAME
from ..neural.lac_lag_learning import learned_offset
from ..neural.population_blackbox import BLACKBOX_INPUTS
from ..neural.population_controller import CONTROLLER_INPUTS
from .composites import ecoli_population

__all__ = ["ecoli_glass_box", "ecoli_grey_box", "ecoli_mechanistic_only", "ecoli_black_box",
           "DEFAULT_MODEL", "DEFAULT_METHOD", "CELL_KINDS"]

#: The four cells, in order of how much of them is mechanism.
CELL_KINDS = ("glass_box", "grey_box", "mechanistic_only", "black_box")
#: Genome-scale with the ETFL-style layer by default (issue 16): protein from charged tRNAs,
#: growth capped by the pre-culture's ribosomes. Per update it costs about what plain FBA
#: costs on iJO1366 (both solve the same few LPs per distinct bound set); ``method='fba'``
#: drops the layer.
DEFAULT_MODEL = "iJO1366"
DEFAULT_METHOD = "etfl"
#: Per-cell stores of the networks' latent states and histories.
_CONTROLLER_STORES = ("latent", "history")
_BLACKBOX_STORES = {"latent": "metabolism_latent", "history": "metabolism_history"}
#: Per-cell stores of PopulationMetabolism only (its LP's fluxes, charged an interval later).
_LP_STORES = ("exchange_rates",)


def _network_shape(config: Mapping[str, Any], inputs) -> dict:
    """``{latent: [width], history: [history, n_features]}`` of a network process's config."""
    width = int(config.get("width", NETWORK_CONFIG["width"]["_default"]))
    history = int(config.get("history", NETWORK_CONFIG["history"]["_default"]))
    return {"latent": [width], "history": [history, len(feature_names(list(inputs)))]}


def _remove_division_stores(document: dict, names) -> None:
    """Make the Division stop partitioning the per-cell stores ``names`` (no process has them)."""
    division = document["state"]["division"]
    config = division["config"]
    config["stores"] = [name for name in config["stores"] if name not in names]
    config["trailing_shape"] = {k: v for k, v in config.get("trailing_shape", {}).items()
                                if k not in names}
    for direction in ("inputs", "outputs"):
        division[direction] = {k: v for k, v in division[direction].items() if k not in names}


def _add_division_stores(document: dict, shapes: Mapping[str, list]) -> None:
    """Make the Division partition the per-cell stores ``shapes`` ({store: trailing shape})."""
    division = document["state"]["division"]
    config = division["config"]
    config["stores"] = list(config["stores"]) + list(shapes)
    trailing = {**config.get("trailing_shape", {})}
    trailing.update({name: list(shape) for name, shape in shapes.items() if shape})
    config["trailing_shape"] = trailing
    for direction in ("inputs", "outputs"):
        division[direction] = {**division[direction],
                               **{name: ["cells", name] for name in shapes}}
    # keep the Division's control ports last, as ecoli_population writes them
    for direction in ("inputs", "outputs"):
        wires = division[direction]
        stores = {k: v for k, v in wires.items() if k in config["stores"]}
        division[direction] = {**stores, **{k: v for k, v in wires.items() if k not in stores}}


def _add_stress_response(document: dict) -> None:
    """Append the ``stress`` (RegulatorActivity) and ``transcriptome`` (EcoliTranscriptome)
    nodes of ``composites/ecoli_stress_response.yaml``: regulator activities from the stress
    inputs (config) and the cells' state, and the population's 3923-gene expression
    (log2(TPM+1)) they drive. Population-level stores (``regulators``, ``expression``): the
    Division does not partition them."""
    state = document["state"]
    metabolism = state["metabolism"]["config"]
    cell_inputs = ("alive", "growth_rate", "exchange_rates", "lac", "volume")
    state["stress"] = {
        "_type": "process", "address": "local:RegulatorActivity",
        "config": {"capacity": metabolism["capacity"],
                   "lac_species": list(metabolism["lac_species"])},
        "interval": state["lac"]["interval"],
        "inputs": {**{name: ["cells", name] for name in cell_inputs},
                   "regulators": ["regulators"]},
        "outputs": {"regulators": ["regulators"]},
    }
    state["transcriptome"] = {
        "_type": "process", "address": "local:EcoliTranscriptome",
        "interval": state["lac"]["interval"],
        "inputs": {"regulators": ["regulators"], "expression": ["expression"]},
        "outputs": {"expression": ["expression"]},
    }


def ecoli_glass_box(*, model: str = DEFAULT_MODEL, method: str = DEFAULT_METHOD,
                    metabolism_config: Mapping[str, Any] | None = None,
                    stress_response: bool = True, **kwargs) -> dict:
    """The glass-box E. coli population (see the module doc; kwargs: :func:`ecoli_population`);
    ``stress_response``: with the ``stress`` and ``transcriptome`` nodes."""
    document = ecoli_population(model=model,
                                metabolism_config={"method": method,
                                                   **(metabolism_config or {})},
                                **kwargs)
    if stress_response:
        _add_stress_response(document)
    return document


def ecoli_mechanistic_only(*, lac_config: Mapping[str, Any] | None = None, **kwargs) -> dict:
    """The glass box with the lac transcription read from ``cells/regulation`` (held)."""
    document = ecoli_glass_box(lac_config={"regulation": "store", **(lac_config or {})},
                               **kwargs)
    lac = document["state"]["lac"]
    lac["inputs"] = {**lac["inputs"], "regulation": ["cells", "regulation"]}
    _add_division_stores(document, {"regulation": []})
    return document


def _default_bias(weights: str) -> float:
    """The lac bias learned for ``weights`` (refused for weights it was not learned on); random
    weights (``''``) have learned nothing, so no bias."""
    return learned_offset(weights=weights) if weights else 0.0


def ecoli_grey_box(*, weights: str = CONTROLLER_WEIGHTS, lac_bias: float | None = None,
                   controller_address: str = "local:PopulationController",
                   controller_config: Mapping[str, Any] | None = None, **kwargs) -> dict:
    """The mechanistic-only cell plus the PopulationController writing ``cells/regulation``.

    ``lac_bias``: the controller's ``induction_offset`` (its decoder's lac bias, logit),
    default the one learned from Julou et al.'s measured lags
    (:func:`greybox_processes.neural.lac_lag_learning.learned_offset`, which refuses it for
    weights it was not learned on); 0 for the pre-trained weights alone; random weights
    (``weights=''``) get 0 unless given.
    """
    document = ecoli_mechanistic_only(**kwargs)
    state = document["state"]
    config = {"capacity": state["lac"]["config"]["capacity"], "weights": weights,
              "induction_offset": _default_bias(weights) if lac_bias is None else float(lac_bias),
              **(controller_config or {})}
    own = {name: ["cells", name] for name in (*_CONTROLLER_STORES, "regulation")}
    controller = {
        "_type": "process", "address": controller_address, "config": config,
        "interval": state["lac"]["interval"],
        "inputs": {**{p: ["cells", p] for p in ("alive", "volume", "lac", "growth_rate")},
                   "glucose": ["medium", "glucose"], "lactose": ["medium", "lactose"], **own},
        "outputs": dict(own),
    }
    # the controller next to the lac operon it regulates
    document["state"] = {}
    for key, node in state.items():
        document["state"][key] = node
        if key == "lac":
            document["state"]["controller"] = controller
    _add_division_stores(document, _network_shape(config, CONTROLLER_INPUTS))
    return document


def ecoli_black_box(*, weights: str = BLACKBOX_WEIGHTS,
                    metabolism_address: str = "local:PopulationDataOnly",
                    metabolism_config: Mapping[str, Any] | None = None,
                    expression_weights: str | None = None, **kwargs) -> dict:
    """The mechanistic-only cell with its metabolism swapped for the data-only network, and
    its ``stress`` + ``transcriptome`` nodes for one data-only ``transcriptome``
    (:class:`~greybox_processes.neural.expression_blackbox.ExpressionDataOnly`, weights
    ``expression_weights``, default the shipped ``black_box_expression.npz``: the stress
    inputs are its config) writing the same ``expression`` store."""
    document = ecoli_mechanistic_only(**kwargs)
    node = document["state"]["metabolism"]
    old = node["config"]
    config = {key: old[key] for key in ("capacity", "initial_cells", "initial_glucose",
                                        "initial_lactose", "initial_biomass", "lac_species")}
    config.update({"weights": weights, **(metabolism_config or {})})
    own = {port: ["cells", store] for port, store in _BLACKBOX_STORES.items()}
    # the network predicts this interval's uptake itself: no pending LP fluxes to carry
    kept = {direction: {k: v for k, v in node[direction].items() if k not in _LP_STORES}
            for direction in ("inputs", "outputs")}
    node.update({"address": metabolism_address, "config": config,
                 "inputs": {**kept["inputs"], **own}, "outputs": {**kept["outputs"], **own}})
    _remove_division_stores(document, _LP_STORES)
    shapes = _network_shape(config, BLACKBOX_INPUTS)
    _add_division_stores(document, {_BLACKBOX_STORES[k]: v for k, v in shapes.items()})
    # no regulatory network in a data-only cell: RegulatorActivity (which reads the LP's
    # exchange_rates) goes; the transcriptome is learned from data, stress inputs its config
    state = document["state"]
    state.pop("stress", None)
    if "transcriptome" in state:
        state["transcriptome"] = {
            "_type": "process", "address": "local:ExpressionDataOnly",
            "config": {"capacity": config["capacity"],
                       "weights": expression_weights or WEIGHTS_NAME},
            "interval": state["lac"]["interval"],
            "inputs": {**{name: ["cells", name] for name in ("alive", "volume", "growth_rate")},
                       "glucose": ["medium", "glucose"], "lactose": ["medium", "lactose"],
                       "expression": ["expression"]},
            "outputs": {"expression": ["expression"]},
        }
    return document
