"""MkDocs hooks: pages made from the repository rather than typed into docs/.

* ``composites.md``: one section per spec of ``composites/``, from its own ``name``,
  ``description`` and ``parameters`` (so the page cannot drift from the specs);
* ``notebooks/*.ipynb``: every notebook (also listed in the nav), the notebooks as the test suite executed them
  (``build/executed_notebooks/``, written by ``tests/test_notebooks.py``), or the source
  notebook where no executed copy exists. The docs build never executes a notebook.
"""
from __future__ import annotations

import logging
from pathlib import Path

import yaml
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.greybox")

ROOT = Path(__file__).resolve().parent.parent
COMPOSITES = ROOT / "composites"
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed_notebooks"


def on_config(config):
    """Fill the nav's empty ``Notebooks`` section with every notebook, in file order."""
    notebooks = [f"notebooks/{path.name}" for path in sorted(NOTEBOOKS.glob("*.ipynb"))]
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and entry.get("Notebooks") == []:
            entry["Notebooks"] = notebooks
    return config


def _cell(text) -> str:
    """A value fit for a Markdown table cell (pipes escaped, one line)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def composites_page() -> str:
    """The Markdown of the composites page, from the specs in ``composites/``."""
    lines = ["# Composites", "",
             "The YAML composites in `composites/`, installed with the package. Each runs by name "
             "(`greybox run NAME`, `gb.run(\"NAME\")`); `--set KEY=VALUE` changes a parameter. "
             "This page is generated from each spec's `name`, `description` and `parameters`.", ""]
    for path in sorted(COMPOSITES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        if not isinstance(spec, dict) or "name" not in spec:
            raise ValueError(f"{path}: a composite spec needs a top-level 'name' "
                             "(and 'description', 'parameters') for the docs page")
        lines += [f"## {spec['name']}", "", f"`composites/{path.name}`", "",
                  spec.get("description") or "(no description)", ""]
        parameters = spec.get("parameters") or {}
        if parameters:
            lines += ["| parameter | type | default |", "|---|---|---|"]
            for key, declared in parameters.items():
                declared = declared if isinstance(declared, dict) else {"default": declared}
                lines.append(f"| `{key}` | {_cell(declared.get('type', ''))} | "
                             f"`{_cell(declared.get('default', ''))}` |")
            lines.append("")
    return "\n".join(lines) + "\n"


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the .ipynb files
def add_generated_files(files, config):
    """Add the generated composites page and the notebooks to the site's files."""
    files.append(File.generated(config, "composites.md", content=composites_page()))
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        executed = EXECUTED / source.name
        if executed.is_file() and executed.stat().st_mtime >= source.stat().st_mtime:
            notebook = executed
        else:
            notebook = source
            log.info("rendering %s without outputs: no executed copy newer than it in %s "
                     "(run tests/test_notebooks.py)", source.name, EXECUTED)
        files.append(File.generated(config, f"notebooks/{source.name}", abs_src_path=str(notebook)))
    return files


@event_priority(-100)  # after mkdocs-jupyter has wrapped the notebooks
def point_notebooks_at_files(files, config):
    """Give mkdocs-jupyter's wrappers of the added notebooks their file on disk.

    Its wrapper recomputes ``abs_src_path`` from ``src_dir``, which a generated file
    (one outside ``docs/``) does not have; the wrapped file knows the path.
    """
    for file in files:
        inner = getattr(file, "file", None)
        if isinstance(inner, File) and inner.abs_src_path and file.abs_src_path is None:
            file.abs_src_path = inner.abs_src_path
    return files


on_files = CombinedEvent(add_generated_files, point_notebooks_at_files)
