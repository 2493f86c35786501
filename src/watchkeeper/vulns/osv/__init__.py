"""OSV: records parsed into typed objects, OSV's range evaluation, a local SQLite copy
of the data, and matching of packages against it.

Errors: :class:`OsvError` (an ``InputError``, with the file or zip member and the
record id) for a broken record; ``InvalidVersion`` for a version the rules cannot read.
"""

from watchkeeper.vulns.osv.match import match_records
from watchkeeper.vulns.osv.model import (
    Affected,
    Event,
    OsvPackage,
    Range,
    Record,
    Reference,
    SeverityScore,
)
from watchkeeper.vulns.osv.names import ecosystems_meet, normalize_name
from watchkeeper.vulns.osv.parse import OsvError, load_record, parse_record
from watchkeeper.vulns.osv.ranges import CompiledAffected, affected, compile_affected
from watchkeeper.vulns.osv.severity import Rating, rate
from watchkeeper.vulns.osv.store import ImportReport, OsvStore

__all__ = [
    "Affected",
    "CompiledAffected",
    "Event",
    "ImportReport",
    "OsvError",
    "OsvPackage",
    "OsvStore",
    "Range",
    "Rating",
    "Record",
    "Reference",
    "SeverityScore",
    "affected",
    "compile_affected",
    "ecosystems_meet",
    "load_record",
    "match_records",
    "normalize_name",
    "parse_record",
    "rate",
]
