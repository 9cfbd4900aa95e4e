"""What every tier shares: its result record, its Step base class and spec helpers.

A tier is a process-bigraph ``Step`` (:class:`TierStep`) configured with the spec of the
composite under test. ``evaluate()`` builds and runs the composites the tier needs (the spec
with parameters overridden or processes swapped) in the engine of its ``engine`` config key
(``'pbg'``, process-bigraph, or ``'vivarium'``, vivarium-core; :meth:`TierStep.run_composite`),
observes their stores and returns a :class:`TierResult`; ``update(state)`` does the same and emits the score and the verdict as
store values, so a tier can also sit in a composite. Each tier module also has a pure scoring
function that takes arrays, not runs, and is tested on synthetic inputs.
"""
from __future__ import annotations

import math
import time as wallclock
from dataclasses import asdict, dataclass, field

import numpy as np

from ...framework.base import GreyboxStep
from ...errors import SpecError
from ...framework.document import edge_nodes, resolve_wire
from ...framework.loading import build_document, load_spec
from ...framework.registry import default_core, resolve_process_class

__all__ = ["TierResult", "TierStep", "PASS", "FAIL", "NOT_APPLICABLE", "ERROR",
           "process_nodes", "process_class", "dfba_node", "dfba_instance", "metabolism_node",
           "metabolism_instance", "is_population_metabolism", "initial_cell_lac"]

PASS, FAIL, NOT_APPLICABLE, ERROR = "pass", "fail", "not applicable", "error"


@dataclass
class TierResult:
    """Outcome of one tier on one composite.

    ``status`` is ``'pass'``, ``'fail'``, ``'not applicable'`` (the composite lacks what the
    tier needs; no score is made up) or ``'error'`` (the tier could not run). ``score`` is the
    tier's headline number (None when not applicable), ``criterion`` the pass rule in words,
    ``evidence`` numbers behind the score, ``figures`` PNG paths, ``notes`` caveats
    (quick-mode sampling included), ``engine`` the engine the tier ran composites in
    (``'pbg'`` or ``'vivarium'``; None when it ran none, e.g. a screen of LPs).
    """

    tier: int
    name: str
    status: str
    criterion: str
    score: float | None = None
    evidence: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    quick: bool = False
    wall_s: float = 0.0
    engine: str | None = None

    @property
    def passed(self) -> bool:
        """True when the tier's status is PASS."""
        return self.status == PASS

    def to_dict(self) -> dict:
        """The result as JSON-ready data."""
        return _json_ready(asdict(self))


def _json_ready(value):
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    return value if isinstance(value, (int, str, type(None))) else str(value)


class TierStep(GreyboxStep):
    """Base of the WCM-Hard tiers: runs what a tier needs on a spec and emits its verdict."""

    #: tier number and short name (class attributes of each tier)
    tier = 0
    title = ""
    criterion = ""

    config_schema = {
        "spec": {"_type": "string", "_default": ""},
        "quick": {"_type": "boolean", "_default": False},
        "out_dir": {"_type": "string", "_default": ""},
        # the engine of the composite runs: 'pbg' (process-bigraph) or 'vivarium'
        "engine": {"_type": "string", "_default": "pbg"},
        # spec parameters for every composite the tier runs ({'seed': 3, 'lac_bias': 2.0}): a
        # replicate of the tier; each name must be a parameter the spec declares
        "parameters": {"_type": "node", "_default": {}},
    }

    def initialize(self, config):
        from ...framework.run import ENGINES

        if not self.config["spec"]:
            raise ValueError(f"tier {self.tier} needs 'spec': the path of the composite spec "
                             "to certify (e.g. composites/diauxie.yaml)")
        if self.config["engine"] not in ENGINES:
            raise ValueError(f"tier {self.tier}: engine must be one of {', '.join(ENGINES)}, "
                             f"got {self.config['engine']!r}")
        self._check_parameters()
        self.result: TierResult | None = None
        #: the engine of the composites this evaluation ran (None until it runs one)
        self.engine_used: str | None = None

    def _check_parameters(self):
        given = self.config["parameters"] or {}
        if not isinstance(given, dict):
            raise ValueError(f"tier {self.tier}: 'parameters' maps spec parameter names to "
                             f"values (e.g. {{seed: 3}}), got {type(given).__name__}")
        if not given:
            return
        declared = load_spec(self.config["spec"]).parameters or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(f"tier {self.tier}: {self.config['spec']} declares no parameter "
                             f"{unknown}; it declares {sorted(declared)}")

    def spec_parameters(self) -> dict:
        """The spec parameters this tier's runs use (config ``parameters``; {} for defaults)."""
        return dict(self.config["parameters"] or {})

    def inputs(self):
        return {}

    def outputs(self):
        return {"score": "float", "passed": "float"}

    def evaluate(self, client=None) -> TierResult:
        """Run the tier on ``config['spec']``; never raises for a model that fails."""
        started = wallclock.perf_counter()
        self.engine_used = None
        try:
            result = self._evaluate(client)
        except Exception as error:  # noqa: BLE001 - recorded, not hidden
            result = self.make(ERROR, notes=[f"{type(error).__name__}: {error}"])
        result.quick = bool(self.config["quick"])
        result.wall_s = wallclock.perf_counter() - started
        result.engine = self.engine_used
        if self.spec_parameters():
            result.evidence.setdefault("parameters", self.spec_parameters())
        if self.engine_used is None and self.config["engine"] != "pbg":
            result.notes.append(f"engine {self.config['engine']!r} not used: this evaluation "
                                "ran no composite")
        self.result = result
        return result

    def run_composite(self, spec, time: float, **kwargs):
        """:func:`~...framework.run.run` of ``spec`` for ``time`` in this tier's engine
        (config ``engine``) with its spec ``parameters``, without a progress bar; ``kwargs``
        go to ``run`` (``overrides``, ...). Every composite a tier runs goes through here, so that the result records
        the engine (:attr:`TierResult.engine`)."""
        from ...framework.run import run

        self.engine_used = self.config["engine"]
        params = {**self.spec_parameters(), **(kwargs.pop("params", None) or {})}
        return run(spec, time, engine=self.config["engine"], progress=False,
                   params=params or None, **kwargs)

    def _evaluate(self, client) -> TierResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def make(self, status, score=None, **kwargs) -> TierResult:
        """A TierResult of this tier with ``status`` and ``score``."""
        return TierResult(self.tier, self.title, status, self.criterion, score=score, **kwargs)

    def not_applicable(self, why: str, **kwargs) -> TierResult:
        """A NOT_APPLICABLE result saying ``why``."""
        return self.make(NOT_APPLICABLE, notes=[f"not applicable: {why}"], **kwargs)

    def update(self, state):
        result = self.evaluate()
        score = result.score if result.score is not None else float("nan")
        verdict = {PASS: 1.0, FAIL: 0.0}.get(result.status, float("nan"))
        return {"score": float(score), "passed": verdict}

    def figure_path(self, name: str):
        """Where to write a figure of this tier (None when no ``out_dir`` is configured)."""
        from pathlib import Path

        if not self.config["out_dir"]:
            return None
        folder = Path(self.config["out_dir"])
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"tier{self.tier}_{name}.png"

    def plot(self, name: str, draw, figsize=(5, 3.2)) -> list:
        """Draw ``draw(ax)`` into ``<out_dir>/tier<N>_<name>.png``; ``[path]``, or ``[]``
        when no ``out_dir`` is configured."""
        path = self.figure_path(name)
        if path is None:
            return []
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize)
        try:
            draw(ax)
            fig.tight_layout()
            fig.savefig(path, dpi=100)
        finally:
            plt.close(fig)
        return [str(path)]


# -- spec helpers -------------------------------------------------------------------------
def process_nodes(spec, overrides=None) -> dict:
    """``{path: node}`` of every process/step of a spec's document (no validation)."""
    document = build_document(spec, overrides=overrides, validate=False)
    return edge_nodes(document["state"])


def process_class(node):
    """The class a spec node addresses (None when the address is unknown)."""

    try:
        return resolve_process_class(str(node.get("address", "")), default_core())
    except SpecError:
        return None


def is_population_metabolism(node) -> bool:
    """True for a node of :class:`~...metabolism.population_process.PopulationMetabolism`
    (or a subclass): the metabolism of a cell population in a shared medium."""
    from ...metabolism.population_process import PopulationMetabolism

    cls = process_class(node) if node else None
    return isinstance(cls, type) and issubclass(cls, PopulationMetabolism)


def dfba_node(spec, overrides=None):
    """``(path, node)`` of the spec's dynamic-FBA process (``DynamicFBA`` or a subclass such as
    ``RegulatedDynamicFBA``), or ``(None, None)``."""
    for path, node in process_nodes(spec, overrides).items():
        if str(node.get("address", "")).split(":")[-1].endswith("DynamicFBA"):
            return path, node
    return None, None


def metabolism_node(spec, overrides=None):
    """``(path, node)`` of the spec's genome-scale metabolism: a dynamic-FBA culture
    (:func:`dfba_node`) or a population's ``PopulationMetabolism``; ``(None, None)`` when it
    has neither (e.g. a data-only cell). Recognised by the process class, not by names."""
    path, node = dfba_node(spec, overrides)
    if node is not None:
        return path, node
    for path, node in process_nodes(spec, overrides).items():
        if is_population_metabolism(node):
            return path, node
    return None, None


def dfba_instance(node, **config_changes):
    """The process a spec node addresses (a :class:`DynamicFBA`), with ``config_changes``."""
    from ...metabolism.dfba import DynamicFBA

    core = default_core()
    name = str(node.get("address", "")).split(":")[-1]
    cls = core.link_registry.get(name) or DynamicFBA
    config = {**dict(node.get("config") or {}), **config_changes}
    return cls(config, core)


def initial_cell_lac(spec, path, node, overrides=None):
    """The lac counts (the metabolism's ``lac_species`` order) of the population's first cell
    at ``t = 0``, from the initial state of the process that writes the store the
    metabolism's ``lac`` port reads; None when no process writes it (then no LacY)."""

    wire = (node.get("inputs") or {}).get("lac")
    if wire is None:
        return None
    target = tuple(resolve_wire(path, wire))
    for other_path, other in process_nodes(spec, overrides).items():
        outputs = other.get("outputs") or {}
        for port, other_wire in outputs.items():
            if other_path == path or tuple(resolve_wire(other_path, other_wire)) != target:
                continue
            cls = process_class(other)
            if cls is None or not hasattr(cls, "initial_state"):
                continue
            state = cls(dict(other.get("config") or {}), default_core()).initial_state()
            if port in state:
                return np.asarray(state[port], dtype=float)[0]
    return None


def metabolism_instance(node, *, lac=None, **config_changes):
    """A :class:`DynamicFBA` with the LP of the node's cell at its initial conditions.

    A dynamic-FBA node: its process (:func:`dfba_instance`). A ``PopulationMetabolism``
    node: one of its cells at ``t = 0`` (``single_cell_dfba``, with the first cell's ``lac``
    counts, e.g. from :func:`initial_cell_lac`); ``config_changes`` then use the population's
    config keys (``model``, ``glucose_km``, ``kcat_lacy``, ...).
    """
    if not is_population_metabolism(node):
        return dfba_instance(node, **config_changes)
    cls = process_class(node)
    config = {**dict(node.get("config") or {}), **config_changes}
    return cls(config, default_core()).single_cell_dfba(lac=lac)
