"""Reading SERGIO network files: the shipped data sets and every malformed case."""
import numpy as np
import pytest

from greybox_processes.errors import NetworkFormatError
from greybox_processes.grn import GRNNetwork, dataset_path, read_sergio


@pytest.mark.parametrize("name,n_genes,n_types", [("DS1", 100, 9), ("DS2", 400, 9),
                                                   ("DS3", 1200, 9), ("DS6", 100, 6)])
def test_datasets_parse(name, n_genes, n_types):
    net = read_sergio(name)
    assert net.n_genes == n_genes and net.n_cell_types == n_types
    # SERGIO's ids are exactly 0..G-1, so gene index == id.
    np.testing.assert_array_equal(net.gene_ids, np.arange(n_genes))
    # Every gene is either a master regulator or a target, not both.
    targets = np.unique(net.edge_target)
    assert np.intersect1d(targets, net.master_regulators).size == 0
    assert targets.size + net.master_regulators.size == n_genes
    # Levels are a topological order: a regulator's level exceeds its target's.
    assert np.all(net.level[net.edge_regulator] > net.level[net.edge_target])
    assert np.all(net.basal[:, targets] == 0)
    assert np.all(net.basal[:, net.master_regulators] > 0)
    same = read_sergio(*dataset_path(name)[:2])
    np.testing.assert_array_equal(same.edge_k, net.edge_k)


def test_shared_coop_state_overrides_hill():
    net = read_sergio("DS1", shared_coop_state=3)
    assert np.all(net.edge_hill == 3.0)


def _write(tmp_path, inter, regs):
    ip, rp = tmp_path / "Interaction.txt", tmp_path / "Regs.txt"
    ip.write_text(inter)
    rp.write_text(regs)
    return ip, rp


GOOD_INTER = "2.0,2.0,0.0,1.0,1.5,-2.0,2.0,2.0\n3.0,1.0,2.0,3.0,2.0\n"
GOOD_REGS = "0.0,1.0,2.0\n1.0,0.5,0.7\n"


def test_small_good_files(tmp_path):
    net = read_sergio(*_write(tmp_path, GOOD_INTER, GOOD_REGS))
    assert net.n_genes == 4 and net.n_cell_types == 2 and net.n_edges == 3
    np.testing.assert_array_equal(net.master_regulators, [0, 1])
    np.testing.assert_array_equal(net.level, [2, 2, 1, 0])


# (interactions, regs, file that is wrong, line, words in the message)
BAD = {
    "column count": ("2.0,2.0,0.0,1.0,1.5,-2.0,2.0\n", GOOD_REGS, "inter", 1, "needs 8 fields"),
    "unknown regulator": ("2.0,1.0,7.0,1.0,2.0\n", GOOD_REGS, "inter", 1, "regulator 7"),
    "mr is target": (GOOD_INTER, GOOD_REGS + "3.0,1.0,1.0\n", "regs", 3, "also a target"),
    "cycle": ("2.0,1.0,0.0,1.0,2.0\n3.0,2.0,2.0,4.0,1.0,1.0,2.0,2.0\n4.0,1.0,3.0,1.0,2.0\n",
              GOOD_REGS, "inter", 2, "cycle"),
    "non numeric": ("2.0,1.0,0.0,abc,2.0\n", GOOD_REGS, "inter", 1, "not a number"),
    "non numeric regs": (GOOD_INTER, "0.0,1.0,2.0\n1.0,x,0.7\n", "regs", 2, "not a number"),
    "cell types": (GOOD_INTER, "0.0,1.0,2.0\n1.0,0.5\n", "regs", 2, "cell types"),
    "zero regs": ("2.0,0.0\n", GOOD_REGS, "inter", 1, "positive integer"),
    "fractional id": ("2.5,1.0,0.0,1.0,2.0\n", GOOD_REGS, "inter", 1, "integer"),
    "duplicate target": (GOOD_INTER + "3.0,1.0,0.0,1.0,2.0\n", GOOD_REGS, "inter", 3,
                         "already has a row"),
    "self loop": ("2.0,1.0,2.0,1.0,2.0\n", GOOD_REGS, "inter", 1, "regulates itself"),
    "negative basal": (GOOD_INTER, "0.0,1.0,2.0\n1.0,-0.5,0.7\n", "regs", 2, ">= 0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_files_name_file_and_line(tmp_path, case):
    inter, regs, which, line, words = BAD[case]
    ip, rp = _write(tmp_path, inter, regs)
    with pytest.raises(NetworkFormatError) as exc:
        read_sergio(ip, rp)
    err = exc.value
    assert err.file == str(ip if which == "inter" else rp)
    assert err.line == line
    assert words in str(err)
    assert f"line {line}" in str(err) and err.fix


def test_crlf_and_blank_lines(tmp_path):
    ip, rp = _write(tmp_path, GOOD_INTER.replace("\n", "\r\n") + "\r\n", GOOD_REGS)
    assert read_sergio(ip, rp).n_genes == 4


def test_missing_file_and_unknown_dataset(tmp_path):
    with pytest.raises(NetworkFormatError):
        read_sergio(tmp_path / "nope.txt", tmp_path / "nope2.txt")
    with pytest.raises(ValueError, match="unknown SERGIO data set"):
        dataset_path("DS99")


def test_from_arrays_rejects_cycle():
    with pytest.raises(ValueError, match="cycle"):
        GRNNetwork.from_arrays([[1.0, 0.0]], [0, 1], [1, 0], [1.0, 1.0], [2.0, 2.0])
