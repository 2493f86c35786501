"""What the browser tests' server is seeded with (who signs in, what was sent to it), and
the rule for when those tests may run at all."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pytest

from tests.serverfixtures import ROOT
from tests.statefixtures import REQUIRE_ENV

ADMIN = ("admin", "correct horse battery staple")
VIEWER = ("viewer1", "viewer password 2026")
ANALYST = ("analyst1", "analyst password 2026")
RESPONDER = ("responder1", "responder password 2026")
WINDOWS_LOG = ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl"
EXPECTED_TITLES = {"Account Discovery With whoami", "PowerShell With An Encoded Command",
                   "Security Audit Log Cleared"}
RECENT_AGES_MIN = (50, 30, 5)
RECENT_PROCESSES = len(RECENT_AGES_MIN)


def unavailable(reason: str) -> NoReturn:
    """Skip (a developer without a browser), or fail where the browser is required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def recent_process_events(now: datetime | None = None) -> bytes:
    """Windows 4688 process creations from the last hour, which no example rule matches:
    the search tests find them in the default time range."""
    now = now or datetime.now(UTC)
    lines = [
        json.dumps({
            "@timestamp": (now - timedelta(minutes=age)).isoformat().replace("+00:00", "Z"),
            "EventID": 4688, "Channel": "Security", "Computer": "ws-hr-02.corp.example",
            "Provider_Name": "Microsoft-Windows-Security-Auditing", "EventRecordID": 9100 + n,
            "NewProcessName": "C:\\Windows\\System32\\notepad.exe",
            "CommandLine": f"notepad.exe report-{n}.txt", "SubjectUserName": "bob",
        })
        for n, age in enumerate(RECENT_AGES_MIN)
    ]
    return ("\n".join(lines) + "\n").encode()
