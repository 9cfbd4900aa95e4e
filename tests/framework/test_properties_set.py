"""Property: any ``--set KEY=VALUE`` is read as a typed value or refused as a usage error.

``greybox run/show --set`` values go through :func:`greybox_processes.cli._parse_sets`:
numbers as Python reads them (``5e-3``, ``1.0e6``, ``-0``, ``inf``, ``nan``), else YAML
(lists, booleans, strings). Whatever the text, the result is a value or a
:class:`~greybox_processes.errors.SpecError` (which the CLI turns into exit 2), never a
raw traceback; on the command line a bad value exits 2 with a message before anything runs.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from greybox_processes.cli import _parse_sets, app
from greybox_processes.errors import SpecError

runner = CliRunner()


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


YAMLISH = st.text(alphabet="0123456789.eE+-:_[]{},'\"!&*#|>@`% naiftrux\\/T", max_size=12)
AWKWARD = st.sampled_from([
    "q=[1,2", "q={a: 1", "q='open", 'q="open', "q=2020-13-45", "q=!!int x", "q=!!float x",
    "q=!!timestamp x", "q=!!python/object:os.system", "q=*alias", "q=&a [*a]", "q={[1]: 2}",
    "q=" + "1" * 5000, "q=@x", "q=`x`", "q=%x", "=1", "q", " =2", "q==", "q=1=2", "q=-0",
    "q=inf", "q=-Infinity", "q=nan", "q=.inf", "q=1_000", "q=0x1F", "q=1:30", "q=~", "q=null",
])


@_settings(300)
@given(pairs=st.lists(st.one_of(st.text(max_size=12), YAMLISH.map(lambda v: "k=" + v),
                                st.text(max_size=6).map(lambda v: "a.b=" + v), AWKWARD),
                      max_size=3))
def test_any_set_text_parses_or_is_a_spec_error(pairs):
    try:
        values = _parse_sets(pairs)
    except SpecError as error:
        message = str(error)
        assert message.strip() and "--set" in message and "Fix:" in message, message
        assert len(message) < 1000, "the message repeats a huge value"
    else:
        assert isinstance(values, dict)
        assert all(isinstance(k, str) and k and k == k.strip() for k in values)


@_settings(200)
@given(number=st.floats(allow_nan=False, allow_infinity=True),
       style=st.sampled_from(["{!r}", "{:e}", "{:E}", "{:g}", "{:.3e}", "{:+}", " {} "]))
def test_a_float_is_read_as_that_float(number, style):
    text = style.format(number)
    value = _parse_sets([f"grn.config.dt={text}"])["grn.config.dt"]
    # a float is a float; '{:g}' writes 100.0 as '100', which is read as the int 100
    whole = text.strip().lstrip("+-").isdigit()
    assert isinstance(value, int if whole else float), (text, value)
    assert value == float(text.strip()), (text, value)


@_settings(100)
@given(number=st.integers(-10 ** 30, 10 ** 30))
def test_an_integer_is_read_as_an_int(number):
    value = _parse_sets([f"cells_per_type={number}"])["cells_per_type"]
    assert isinstance(value, int) and not isinstance(value, bool) and value == number


@_settings(50)
@given(numbers=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32),
                        max_size=4))
def test_a_list_of_numbers_is_read_as_a_list(numbers):
    text = "[" + ", ".join(f"{x:.6e}" if x else "0.0" for x in numbers) + "]"
    value = _parse_sets([f"tissue.config.diffusion={text}"])["tissue.config.diffusion"]
    assert isinstance(value, list) and len(value) == len(numbers)


@pytest.mark.parametrize("text,expected", [
    ("5e-3", 5e-3), ("1.0e6", 1e6), ("-0", 0), ("inf", math.inf), ("-inf", -math.inf),
    ("Infinity", math.inf), (".inf", math.inf), ("sp", "sp"), ("[1, 2]", [1, 2]),
    ("true", True), ("", ""),
])
def test_set_values_of_each_kind(text, expected):
    assert _parse_sets([f"q={text}"]) == {"q": expected}
    assert math.isnan(_parse_sets(["q=nan"])["q"])


@pytest.mark.parametrize("pair,words", [
    ("q=2020-13-45", ["cannot be read", "month"]),        # was a raw ValueError from PyYAML
    ("q=!!int x", ["cannot be read"]),                     # was a raw ValueError
    ("q=!!timestamp x", ["cannot be read"]),               # was a raw AttributeError
    ("q=" + "1" * 5000, ["number cannot be read", "..."]),  # was a raw ValueError (int digits)
])
def test_values_pyyaml_or_int_cannot_construct_are_spec_errors(pair, words):
    with pytest.raises(SpecError) as info:
        _parse_sets([pair])
    message = str(info.value)
    assert "Fix:" in message and len(message) < 1000, message
    for word in words:
        assert word in message, message


GARBAGE = st.one_of(
    st.sampled_from(["q=[1,2", "q={", "q=2020-13-45", "q=!!int x", "cells_per_tpye=1",
                     "nokey", "=3", "grn.config.nosie=sp", "grn..q=1", "cells.x.y=1"]),
    st.builds(lambda junk: f"{junk}_typo=1", st.text(alphabet="abcdefgh", min_size=1,
                                                    max_size=5)),
    st.builds(lambda junk: f"q=[{junk}", st.text(alphabet="0123456789,. ", max_size=5)),
)


@_settings(20)
@given(pair=GARBAGE)
def test_cli_run_with_garbage_set_exits_2_without_a_traceback(composites_dir, tmp_path, pair):
    out = tmp_path / "never.zarr"
    result = runner.invoke(app, ["run", str(composites_dir / "grn_cells.yaml"), "--time", "1",
                                 "--no-progress", "--out", str(out), "--set", pair])
    assert result.exit_code == 2, (pair, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), pair
    assert "error:" in result.output and "Traceback" not in result.output, result.output
    assert not out.exists(), "nothing may run on a usage error"
