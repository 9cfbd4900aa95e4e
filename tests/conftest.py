"""Shared fixtures. JAX runs in float64 with strict dtype promotion (as diffrax's tests do)."""
from __future__ import annotations

from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")

REPO = Path(__file__).resolve().parent.parent
COMPOSITES = REPO / "composites"


@pytest.fixture(scope="session")
def base_core():
    """One strict core per session (discovery is slow); tests get isolated copies.

    Greybox's own core, so ``local:Division`` is greybox's even when another installed
    package (spatio-flux) has a class of that name.
    """
    from greybox_processes.framework.registry import default_core

    return default_core()


@pytest.fixture()
def core(base_core):
    """An isolated strict core: registering a test process here does not leak."""
    from bigraph_schema.core import _isolated_copy

    copy = _isolated_copy(base_core)
    copy.strict_config = True
    return copy


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def composites_dir() -> Path:
    return COMPOSITES
