"""Fixtures of the metabolism tests: bundled models loaded once per session, copied per test."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def textbook_session():
    from greybox_processes.metabolism import load_model

    return load_model("textbook")


@pytest.fixture()
def textbook(textbook_session):
    """A fresh copy of e_coli_core per test (cobrapy's pattern)."""
    return textbook_session.copy()


@pytest.fixture(scope="session")
def ijo1366_session():
    from greybox_processes.metabolism import load_model

    return load_model("iJO1366")


@pytest.fixture()
def ijo1366(ijo1366_session):
    return ijo1366_session.copy()


@pytest.fixture(scope="session")
def dask_client():
    """A small in-process Dask cluster (threads, one worker) shared by the screen tests."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                           dashboard_address=":0")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture()
def metabolism_core(core):
    """The isolated strict core with DynamicFBA registered (discovery normally does this)."""
    from greybox_processes.metabolism import DynamicFBA

    core.register_link("DynamicFBA", DynamicFBA)
    return core
