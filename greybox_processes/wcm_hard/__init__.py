"""WCM-Hard: the eight benchmark tiers of seed 000 (section 6.1) and Algorithm 1 (section 6.2).

* :mod:`.tiers` - one module per tier: a pure scoring function and a ``TierStep``.
* :func:`certify` - the tiers in order, stopping at the first failure unless ``run_all``.
* :func:`write_report` - ``report.json`` and ``report.md`` with the plots.
* :func:`compare_reports` - two certifications of one spec compared tier by tier (e.g. under
  both engines; ``greybox compare-reports A B``).
* :mod:`.refdata` - the vendored reference measurements.
"""
from .certify import Certification, certify
from .report import ReportComparison, compare_reports, markdown, summary_table, write_report
from .tiers import TIERS, TierResult, TierStep

__all__ = ["certify", "Certification", "write_report", "markdown", "summary_table",
           "compare_reports", "ReportComparison", "TIERS", "TierResult", "TierStep"]
