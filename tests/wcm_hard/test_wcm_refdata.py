"""The vendored reference data load, and a missing file says how to fix it."""
import pytest

from greybox_processes.wcm_hard import refdata


def test_vendored_tables():
    assert refdata.essentiality()["essential"].sum() > 0
    assert refdata.diauxic_lags().loc["MG1655", "diauxic_lag_min"] == 41
    pairs = refdata.drug_pairs()
    assert len(pairs) == 105 and set(pairs.columns) >= {"Drug_1", "Drug_2", "Score"}
    lfc = refdata.stress_log_fold_changes()
    assert set(lfc.columns) == {"acid_pH5.5", "heat_42C"} and lfc.shape[0] == 3923


def test_missing_file_names_the_fix():
    with pytest.raises(refdata.RefDataError, match="Fix: reinstall"):
        refdata.refdata_path("no_such_file.csv")


def test_every_drug_has_a_target():
    from greybox_processes.wcm_hard.tiers.t5_synergy import DRUG_TARGETS

    pairs = refdata.drug_pairs()
    assert set(pairs.Drug_1) | set(pairs.Drug_2) <= set(DRUG_TARGETS)
