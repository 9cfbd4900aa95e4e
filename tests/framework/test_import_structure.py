"""The package's modules import each other at module level only, without a cycle.

An import inside a function that names a greybox module is how an import
cycle is usually papered over (it was: framework.spec <-> interventions). It
hides the dependency order and fails at call time instead of import time.
Imports of third-party packages inside functions are fine (optional or heavy
dependencies such as distributed, vivarium or bigraph_viz).
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import greybox_processes

PACKAGE_DIR = Path(greybox_processes.__file__).parent
ROOT = PACKAGE_DIR.name

#: {module: {greybox module it imports inside a function}}, outside greybox_processes.framework:
#: lazy loads only, so that `import greybox_processes` and `greybox --help` stay fast and
#: cobra/torch/the reference tables load when a mechanism or tier first runs.
#: test_dependency_graph_has_no_cycle counts these imports too, so none of them hides a cycle.
#: New code must not add to it without that reason; remove an entry when its import moves up.
ALLOWED_IN_FUNCTIONS = {
    # the CLIs import their commands' modules lazily, so that `--help` starts fast
    "greybox_processes.cli": {
        "greybox_processes.composites", "greybox_processes.framework.base",
        "greybox_processes.framework.run", "greybox_processes.framework.spec",
        "greybox_processes.framework.wiring", "greybox_processes.plotting",
        "greybox_processes.ecoli.plot", "greybox_processes.framework.registry"},
    # the four E. coli cells import the torch networks' shapes: loaded on first use
    "greybox_processes.ecoli": {"greybox_processes.ecoli.cells"},
    "greybox_processes.neural.cli": {
        "greybox_processes.neural.networks", "greybox_processes.neural.train",
        "greybox_processes.neural.expression_data", "greybox_processes.ecoli.lag_learning",
        "greybox_processes.neural.lac_lag_learning"},
    "greybox_processes.wcm_hard.cli": {
        "greybox_processes.errors", "greybox_processes.framework.run",
        "greybox_processes.wcm_hard.certify", "greybox_processes.wcm_hard.report"},
    "greybox_processes.grn.network": {"greybox_processes.grn.datasets"},
    # metabolism: optional layers (thermodynamics, enzymes, expression) loaded on demand
    "greybox_processes.metabolism.dfba": {
        "greybox_processes.metabolism.enzymes", "greybox_processes.metabolism.tfa",
        "greybox_processes.metabolism.thermo"},
    "greybox_processes.metabolism.enzymes": {
        "greybox_processes.metabolism.errors", "greybox_processes.metabolism.expression",
        "greybox_processes.metabolism.models"},
    "greybox_processes.metabolism.lag": {
        "greybox_processes.framework.run", "greybox_processes.metabolism.composites"},
    "greybox_processes.metabolism.screen": {
        "greybox_processes.metabolism._worker", "greybox_processes.metabolism.expression",
        "greybox_processes.metabolism.translation"},
    "greybox_processes.metabolism.translation": {"greybox_processes.metabolism.enzymes"},
    "greybox_processes.metabolism.uptake": {"greybox_processes.metabolism.lac"},
    "greybox_processes.neural": {"greybox_processes.neural.train"},
    "greybox_processes.neural.conservation": {"greybox_processes.metabolism.models"},
    "greybox_processes.neural.train": {"greybox_processes.framework.run"},
    "greybox_processes.tissue.cell_size": {"greybox_processes.tissue.kernel"},
    # wcm_hard: each tier loads its reference data and models only when it runs
    "greybox_processes.wcm_hard.certify": {"greybox_processes.metabolism.screen"},
    "greybox_processes.wcm_hard.refdata": {
        "greybox_processes.metabolism.scoring", "greybox_processes.tissue.cell_size"},
    "greybox_processes.wcm_hard.report": {"greybox_processes.wcm_hard.tiers"},
    # every composite a tier runs goes through TierStep.run_composite (engine, no start-up cost)
    "greybox_processes.wcm_hard.tiers.base": {
        "greybox_processes.framework.run", "greybox_processes.metabolism.dfba",
        "greybox_processes.metabolism.population_process"},
    "greybox_processes.wcm_hard.tiers.population": {
        "greybox_processes.framework.run", "greybox_processes.metabolism.population_fba", "greybox_processes.metabolism.uptake",
        "greybox_processes.metabolism.population_process"},
    "greybox_processes.wcm_hard.tiers.t3_population": {"greybox_processes.ecoli.lag"},
    "greybox_processes.wcm_hard.tiers.t6_population": {"greybox_processes.cellcycle.process"},
    # the single-cell view of a population's LP: only the tiers need it
    "greybox_processes.metabolism.population_process": {
        "greybox_processes.metabolism.population_single_cell"},
    "greybox_processes.wcm_hard.tiers.t1_conservation": {
        "greybox_processes.metabolism.models",
        "greybox_processes.wcm_hard.tiers.base"},
    "greybox_processes.wcm_hard.tiers.t2_essentiality": {
        "greybox_processes.metabolism.scoring", "greybox_processes.metabolism.screen",
        "greybox_processes.wcm_hard.refdata",
        # the grey box's learned correction (torch controller, sklearn model, feature cache)
        "greybox_processes.neural.controller", "greybox_processes.neural.population_controller",
        "greybox_processes.metabolism.essentiality_features",
        "greybox_processes.neural.essentiality_model"},
    "greybox_processes.wcm_hard.tiers.t3_diauxie": {
        "greybox_processes.metabolism.lag",
        "greybox_processes.wcm_hard.refdata"},
    "greybox_processes.wcm_hard.tiers.t4_stress": {"greybox_processes.wcm_hard.refdata"},
    "greybox_processes.wcm_hard.tiers.t5_synergy": {
        "greybox_processes.neural.synergy_model", "greybox_processes.wcm_hard.refdata"},
    "greybox_processes.wcm_hard.tiers.dephasing_scores": {"greybox_processes.wcm_hard.refdata"},
    "greybox_processes.wcm_hard.tiers.t7_ablation": {
        "greybox_processes.wcm_hard.tiers.t1_conservation",
        "greybox_processes.wcm_hard.tiers.t3_diauxie"},
    "greybox_processes.wcm_hard.tiers.t8_robustness": {
        "greybox_processes.wcm_hard.tiers.t2_essentiality"},
}


def _modules():
    """``{dotted module name: (source path, is a package __init__)}`` of the package."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _targets(node, module, is_package):
    """Absolute names a (possibly relative) import statement imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[:len(package) - (node.level - 1)])
        if node.module:
            return [f"{base}.{node.module}"]
        return [f"{base}.{alias.name}" for alias in node.names]
    # `from pkg import submodule` imports the submodule too
    return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names
                            if f"{node.module}.{alias.name}" in MODULES]


def _ours(name):
    return name == ROOT or name.startswith(ROOT + ".")


def _in_function_imports(module, path, is_package):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(node, module, is_package):
                    if _ours(target):
                        found.add((target, node.lineno))
    return found


def _module_level_imports(module, path, is_package):
    """Greybox modules imported when ``module`` is imported (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if isinstance(node, ast.ClassDef):
                    visit(node.body)
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(t for t in _targets(node, module, is_package)
                             if t in MODULES and t != module)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [])

    visit(tree.body)
    return found


def test_no_greybox_import_inside_a_function():
    # the framework is the base every other package builds on: it allows nothing of its own
    assert not {m for m in ALLOWED_IN_FUNCTIONS if m.startswith(f"{ROOT}.framework")}
    offending = []
    for module, (path, is_package) in MODULES.items():
        allowed = ALLOWED_IN_FUNCTIONS.get(module, set())
        for target, line in sorted(_in_function_imports(module, path, is_package)):
            if target not in allowed:
                offending.append(f"{path}:{line} imports {target} inside a function")
    assert not offending, (
        "move these imports to the top of their module (if that makes an import cycle, move "
        "the shared code into a module both can import):\n" + "\n".join(offending))


def test_dependency_graph_has_no_cycle():
    # every import inside a function counts, the allowed ones too: a cycle moved into a
    # function is still a cycle, only one that fails at call time instead of import time.
    # So each entry of ALLOWED_IN_FUNCTIONS is proven to be a lazy load (start-up time, a
    # heavy dependency), never an import cycle papered over.
    graph = {}
    for module, (path, is_package) in MODULES.items():
        inner = {t for t, _ in _in_function_imports(module, path, is_package)
                 if t in MODULES and t != module}
        graph[module] = _module_level_imports(module, path, is_package) | inner
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_spec_modules_import_in_dependency_order():
    graph = {m: _module_level_imports(m, *MODULES[m]) for m in MODULES}
    framework = f"{ROOT}.framework"
    # each layer imports only the ones before it
    order = ["document", "registry", "interventions", "validation", "loading", "spec"]
    for i, name in enumerate(order):
        later = {f"{framework}.{n}" for n in order[i + 1:]}
        assert not graph[f"{framework}.{name}"] & later, name


def _import_first(module):
    code = f"import importlib; importlib.import_module({module!r})"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, cwd=PACKAGE_DIR.parent, env=env, timeout=300)
    assert result.returncode == 0, f"importing {module} first fails:\n{result.stderr[-3000:]}"


FRAMEWORK = sorted(m for m in MODULES if m.startswith(f"{ROOT}.framework"))


@pytest.mark.parametrize("module", FRAMEWORK)
def test_each_framework_module_imports_first_in_a_fresh_interpreter(module):
    _import_first(module)


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(set(MODULES) - set(FRAMEWORK)))
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    _import_first(module)
