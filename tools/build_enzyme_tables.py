"""Build the vendored enzyme tables (offline, run once by a developer; see SOURCES.md).

Two tables in ``greybox_processes/data/enzymes/``:

* ``protein_length_aa.csv.gz``: amino acids per polypeptide chain of each E. coli K-12 MG1655
  gene (b-number), from the coding lengths of the PRECISE gene table (Sastry et al. 2019, Nat
  Commun 10:5536; ``../shared/refdata/transcriptome/precise_gene_table.csv``): ``length / 3 - 1``
  (the stop codon is no residue). The 28 entries whose length is not a multiple of 3 (RNA
  genes, split pseudogenes) are left out.
* ``heckmann2020_kapp.csv.gz``: in-vivo apparent turnover numbers per polypeptide chain
  (1/s) of E. coli reactions (BiGG ids of iML1515) from Heckmann et al. 2020, PNAS 117:23182
  ("Kinetic profiling of metabolic specialists demonstrates stability and consistency of in
  vivo enzyme turnover numbers"): ``k_appmax``, the largest apparent turnover over their
  conditions, per direction, as parsed in the repository of the iCH360 model paper (Corrao et al., github
  marco-corrao/iCH360_paper, ``heckman_et_al_2020_parsed_kapp_kappmax.csv``).

    python tools/build_enzyme_tables.py SHARED_REFDATA_DIR HECKMANN_PARSED.csv
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

__all__ = ["derive_protein_lengths", "derive_kapp_table", "DATA_DIR"]

# a developer tool beside the package, not installed with it: it writes into the package
DATA_DIR = Path(__file__).resolve().parents[1] / "greybox_processes" / "data" / "enzymes"


def derive_protein_lengths(refdata_dir, out_dir=DATA_DIR) -> Path:
    """``protein_length_aa.csv.gz`` (gene, length_aa) from the PRECISE gene table."""
    table = pd.read_csv(Path(refdata_dir) / "transcriptome" / "precise_gene_table.csv",
                        index_col=0)
    coding = table[(table["length"] % 3 == 0) & (table["length"] >= 6)]
    lengths = (coding["length"] // 3 - 1).astype(int).rename("length_aa")
    lengths.index.name = "gene"
    out = Path(out_dir) / "protein_length_aa.csv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    lengths.sort_index().to_csv(out, compression={"method": "gzip", "mtime": 0})
    return out


def derive_kapp_table(parsed_csv, out_dir=DATA_DIR) -> Path:
    """``heckmann2020_kapp.csv.gz`` (reaction, direction, kapp_per_s) from the parsed CSV."""
    raw = pd.read_csv(parsed_csv)
    expected = {"reaction_id", "direction", "value", "par_type", "unit"}
    if not expected <= set(raw.columns):
        raise ValueError(f"{parsed_csv}: expected columns {sorted(expected)}, got "
                         f"{list(raw.columns)}")
    if set(raw["unit"]) != {"s-1"}:
        raise ValueError(f"{parsed_csv}: expected every value in s-1, got units "
                         f"{sorted(set(raw['unit']))}")
    keep = raw[raw["par_type"] == "k_appmax"]
    table = pd.DataFrame({"reaction": keep["reaction_id"],
                          "direction": keep["direction"].map({"fwd": "forward",
                                                              "bwd": "reverse"}),
                          "kapp_per_s": keep["value"].astype(float)})
    if table["direction"].isna().any() or not (table["kapp_per_s"] > 0).all():
        raise ValueError(f"{parsed_csv}: directions must be fwd/bwd and values positive")
    # one value per (reaction, direction): the file has none twice, keep it that way
    table = table.drop_duplicates(["reaction", "direction"])
    out = Path(out_dir) / "heckmann2020_kapp.csv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values(["reaction", "direction"]).to_csv(
        out, index=False, compression={"method": "gzip", "mtime": 0})
    return out


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    derive_protein_lengths(sys.argv[1])
    derive_kapp_table(sys.argv[2])
