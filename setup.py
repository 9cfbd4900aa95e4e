"""Build hook of greybox-processes; the metadata and dependencies are in setup.cfg.

The bundled composite specs are kept once, in the repository's ``composites/``. The build
copies each ``composites/NAME.yaml`` into the package as
``greybox_processes/composite_specs/NAME.composite.yaml``, so that a wheel (a non-editable
install) carries them, ``greybox run NAME`` finds them, and process-bigraph's
``composite_discovery.discover_composites()`` (which collects ``*.composite.yaml`` inside the
installed packages that require bigraph-schema) lists them as
``greybox_processes.composite_specs.NAME``. MANIFEST.in puts ``composites/`` in the sdist.
"""
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: where the specs are kept (relative to the project root, where setuptools runs)
SOURCE = Path("composites")
#: where they go in the package, and their new ending: the same names as
#: greybox_processes.composites.PACKAGED_SPECS and PACKAGED_SUFFIX (a test checks the pair)
TARGET = ("greybox_processes", "composite_specs")
SUFFIX = ".composite.yaml"


class BuildPyWithComposites(build_py):
    """``build_py`` that also copies ``composites/*.yaml`` into the package, renamed."""

    def _composite_mapping(self) -> dict:
        """``{file in the build: file in composites/}``."""
        target = os.path.join(self.build_lib, *TARGET)
        return {os.path.join(target, source.stem + SUFFIX): str(source)
                for source in sorted(SOURCE.glob("*.yaml"))}

    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads composites/ itself
        mapping = self._composite_mapping()
        if not mapping:
            raise FileNotFoundError(f"no composites/*.yaml under {os.getcwd()}: build from the "
                                    "repository or from an sdist (MANIFEST.in grafts composites/)")
        for target, source in mapping.items():
            self.mkpath(os.path.dirname(target))
            self.copy_file(source, target)

    def get_output_mapping(self):
        return {**super().get_output_mapping(), **self._composite_mapping()}

    def get_outputs(self, include_bytecode=True):
        if self.editable_mode:
            return list(self.get_output_mapping())
        return [*super().get_outputs(include_bytecode), *self._composite_mapping()]


setup(cmdclass={"build_py": BuildPyWithComposites})
