"""Long RDME intervals advance in chunks of kernel steps, so a signal is seen within seconds.

Before the change one update ran all its steps in a single jitted call: an interval of
millions of steps (a huge D with automatic dt) could not be interrupted by Ctrl-C or SIGTERM.
The chunks must not change the trajectory: the same seed gives the same lattice bit for bit
whatever the chunk size.
"""
import os
import signal
import threading
import time

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.framework.run import RunInterrupted, sigterm_as_interrupt
from greybox_processes.rdme.composites import b1_model, rdme_bimolecular
from greybox_processes.rdme.process import RDME, STEP_OVERHEAD_WORK, WORK_PER_CALL

DT = 2.0 ** -7        # below B1's stable step on a 4^3 lattice (2^-5 s); exact in binary
N_STEPS = 23          # per interval: prime, so chunks of 5 do not divide it


def _process(core, method, max_steps_per_call, dt=DT):
    config = {"model": b1_model(4), "dt": dt, "method": method, "n_replicas": 2, "seed": 11,
              "max_steps_per_call": max_steps_per_call}
    return RDME(config, core=core)


def _count_calls(process):
    """Wrap the cached kernel's ``step`` so the test sees how many jitted calls were made."""
    calls = []
    (key, kernel), = process._kernels.items()

    def step(state, n_steps, *args, **kwargs):
        calls.append(n_steps)
        return kernel.step(state, n_steps, *args, **kwargs)

    process._kernels[key] = kernel._replace(step=step)
    return calls


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_chunked_advance_is_bit_identical(core, method):
    whole, chunked = _process(core, method, N_STEPS), _process(core, method, 5)
    whole_calls, chunk_calls = _count_calls(whole), _count_calls(chunked)
    store = whole.initial_state()["region_counts"]
    np.testing.assert_array_equal(store, chunked.initial_state()["region_counts"])
    stores = {"whole": store.copy(), "chunked": store.copy()}
    for _ in range(2):   # two intervals: chunk boundaries across updates are invisible too
        for name, process in (("whole", whole), ("chunked", chunked)):
            delta = process.update({"region_counts": stores[name]}, N_STEPS * DT)
            stores[name] = stores[name] + delta["region_counts"]
        np.testing.assert_array_equal(stores["whole"], stores["chunked"])
        np.testing.assert_array_equal(np.asarray(whole._state.counts),
                                      np.asarray(chunked._state.counts))
        np.testing.assert_array_equal(np.asarray(whole._state.key),
                                      np.asarray(chunked._state.key))
    assert int(chunked._state.steps) == int(whole._state.steps) == 2 * N_STEPS
    assert whole_calls == [N_STEPS] * 2
    assert chunk_calls == [5, 5, 5, 5, 3] * 2
    # the lattice did change: the comparison above is not between two frozen states
    assert not np.array_equal(stores["whole"], store)


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_max_steps_per_call_is_validated(core, bad):
    with pytest.raises(ValueError, match="max_steps_per_call must be a whole number >= 0"):
        _process(core, "lattice", bad)


def test_automatic_chunk_scales_with_the_work_per_step(core):
    small = _process(core, "lattice", 0)
    kernel = next(iter(small._kernels.values()))
    per_call = small._steps_per_call(kernel, small._state)
    work = 2 * 3 * 4 ** 3   # replicas x species x sites
    assert per_call == WORK_PER_CALL // (work + STEP_OVERHEAD_WORK)


# -- interruption -------------------------------------------------------------------------
#: 2^22 steps of DT in one interval: about 40 minutes of work on a CPU, in chunks of a
#: fraction of a second (the automatic chunk). Same model, dt and seed as ``_process``, so
#: the kernel compiled for the tests above (the jit cache is keyed on the step plan) serves.
LONG_INTERVAL = 2.0 ** 22 * DT


@pytest.fixture(scope="module")
def warm(base_core):
    """A process whose kernel is compiled, so that the timings measure the advance only."""
    process = _process(base_core, "lattice", 0)
    process.update(process.initial_state(), DT)
    return process


@pytest.fixture()
def interrupt_inside_the_interval(monkeypatch):
    """Send a signal to this process 0.5 s after a long advance starts (not while the run is
    being set up: an interrupt there is not the RDME's to handle). Yields ``(fired, send)``:
    ``fired[0]`` the time it was sent, ``send[0]`` the signal (SIGINT unless the test sets it)."""
    fired, send, timers = [], [signal.SIGINT], []
    advance = RDME._advance

    def send_signal():
        fired.append(time.perf_counter())
        os.kill(os.getpid(), send[0])

    def arm_then_advance(self, kernel, state, n_steps):
        if n_steps > 1000 and not timers:
            timers.append(threading.Timer(0.5, send_signal))
            timers[0].daemon = True
            timers[0].start()
        return advance(self, kernel, state, n_steps)

    monkeypatch.setattr(RDME, "_advance", arm_then_advance)
    # a process started in the background by a non-interactive shell (`cmd &`) inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler: the signal would be
    # dropped and the 40-minute interval run to its end. The test is about the RDME, not how
    # the suite was launched, so it sets Python's default handler for its duration.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield fired, send
    finally:
        for timer in timers:   # a test that failed before the signal must not get it later
            timer.cancel()
        signal.signal(signal.SIGINT, previous)


def _seconds_since_signal(fired):
    assert fired, "the signal was never sent"
    return time.perf_counter() - fired[0]


def test_interrupt_inside_a_long_interval_is_seen_within_seconds(warm,
                                                                  interrupt_inside_the_interval):
    fired, _ = interrupt_inside_the_interval
    before = int(warm._state.steps)
    with pytest.raises(KeyboardInterrupt):
        warm.update({"region_counts": warm._written.copy()}, LONG_INTERVAL)
    assert _seconds_since_signal(fired) < 5.0
    # the interrupted interval is not half-applied: the process is as after its last update
    assert int(warm._state.steps) == before


def _long_run_document():
    return rdme_bimolecular(size=4, n_replicas=2, dt=DT, interval=LONG_INTERVAL, seed=11,
                            method="lattice")


def test_interrupted_run_keeps_what_was_emitted(core, warm, interrupt_inside_the_interval):
    fired, _ = interrupt_inside_the_interval
    with pytest.raises(RunInterrupted) as caught:
        gb.run(_long_run_document(), 2 * LONG_INTERVAL, core=core, progress=False)
    assert _seconds_since_signal(fired) < 5.0
    assert caught.value.signal_name == "SIGINT"
    partial = caught.value.partial
    assert partial["time"].values.tolist() == [0.0]         # the initial state was emitted
    np.testing.assert_array_equal(
        partial["lattice.region_counts"].sel(species="A").values[0].sum(axis=-1), 1000)


def test_sigterm_inside_a_long_interval_stops_the_run(core, warm, interrupt_inside_the_interval):
    fired, send = interrupt_inside_the_interval
    send[0] = signal.SIGTERM
    with sigterm_as_interrupt():
        with pytest.raises(RunInterrupted) as caught:
            gb.run(_long_run_document(), 2 * LONG_INTERVAL, core=core, progress=False)
    assert _seconds_since_signal(fired) < 5.0
    assert caught.value.signal_name == "SIGTERM"
