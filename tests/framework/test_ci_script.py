"""`.ci/run` runs the README's test command, character for character.

The guide's promise to a new user: the command in the README is the one CI runs. A README
edited without `.ci/run` (or the other way round) fails here instead of drifting apart.
"""
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    commands = [b.strip() for b in blocks if 'pytest -m "not slow and not exhaustive"' in b]
    assert len(commands) == 1, "README.md must have exactly one block with the test command"
    return commands[0]


def _ci_test_command() -> str:
    script = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"^README_TESTS=(.*)$", script, flags=re.M)
    assert match, ".ci/run must define README_TESTS"
    (value,) = shlex.split(match.group(1))
    return value


def test_ci_runs_the_readme_test_command():
    assert _ci_test_command() == _readme_test_command()


def test_ci_runs_the_slow_stage_and_fails_on_it():
    script = (ROOT / ".ci" / "run").read_text()
    assert 'pytest -m "slow and not exhaustive"' in script
    assert script.rstrip().endswith('exit "$slow_status"')
    assert "set -euo pipefail" in script
