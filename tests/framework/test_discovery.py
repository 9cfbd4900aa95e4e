"""Installing the package is enough for process-bigraph to find its processes."""
import subprocess
import sys


def test_allocate_core_discovers_grn_in_a_fresh_interpreter():
    code = (
        "from process_bigraph import allocate_core\n"
        "core = allocate_core()\n"
        "cls = core.link_registry['GRN']\n"
        "print(cls.__module__ + '.' + cls.__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "greybox_processes.grn.process.GRN"


def test_every_greybox_process_has_a_description(base_core):
    from greybox_processes.framework.base import GreyboxProcess, GreyboxStep, describe

    found = {name: cls for name, cls in base_core.link_registry.items()
             if isinstance(name, str) and "." not in name
             and getattr(cls, "__module__", "").startswith("greybox_processes")
             and cls not in (GreyboxProcess, GreyboxStep)}
    assert "GRN" in found
    for name, cls in found.items():
        assert describe(cls), f"{name} has no one-line docstring"
