"""Offline hunting: Sigma rules over log files, as ``watchkeeper hunt`` runs it."""

from watchkeeper.hunt.options import HuntOptions, select_rules
from watchkeeper.hunt.service import Hunt, HuntMatch
from watchkeeper.hunt.summary import HuntSummary

__all__ = ["Hunt", "HuntMatch", "HuntOptions", "HuntSummary", "select_rules"]
