"""One rule, one event: the same result whether the event comes as EVTX, XML or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import evtx
import orjson

from tests.cli.test_hunt_cli import ROOT, jsonl, run

EVTX_FILE = ROOT / "tests" / "data" / "evtx" / "sysmon_process_creation.evtx"
RULE = """\
title: BITS transfer from the command line
id: 7b0c2f4e-1d3a-4e5b-9c6d-8e7f0a1b2c3d
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\bitsadmin.exe'
    CommandLine|contains|all: [' /transfer ', 'http']
  filter:
    ParentImage|endswith: '\\svchost.exe'
  condition: selection and not filter
level: medium
"""


def renderings(folder: Path) -> dict[str, Path]:
    """The test EVTX file, and the same records as event XML, EVTX-JSON and flat JSON."""
    xml = "\n".join(
        record["data"].split("?>", 1)[1] for record in evtx.PyEvtxParser(str(EVTX_FILE)).records()
    )
    nested = [
        orjson.loads(record["data"])
        for record in evtx.PyEvtxParser(str(EVTX_FILE)).records_json()
    ]
    flat = []
    for document in nested:
        event = document["Event"]
        system = event["System"]
        flat.append(
            {
                "EventID": system["EventID"],
                "Channel": system["Channel"],
                "Computer": system["Computer"],
                "EventRecordID": system["EventRecordID"],
                **event["EventData"],
            }
        )
    files = {
        "evtx": EVTX_FILE,
        "winxml": folder / "events.xml",
        "evtx-json": folder / "events.json",
        "winlog-json": folder / "flat.jsonl",
    }
    files["winxml"].write_text(f"<Events>{xml}</Events>")
    files["evtx-json"].write_bytes(b"\n".join(orjson.dumps(d) for d in nested))
    files["winlog-json"].write_bytes(b"\n".join(orjson.dumps(d) for d in flat))
    return files


def test_same_match_from_every_rendering(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yml"
    rule.write_text(RULE)
    results = {}
    for expected_format, path in renderings(tmp_path).items():
        summary = tmp_path / f"{expected_format}.summary.json"
        code, out, _ = run(
            "hunt", str(path), "--rules", str(rule), "--format", "jsonl",
            "--summary-json", str(summary), "--no-summary",
        )
        assert code == 1, expected_format
        assert json.loads(summary.read_text())["skipped"]["total"] == 0
        (match,) = jsonl(out)
        event = match["event"]
        assert isinstance(event, dict)
        results[expected_format] = (
            match["rule_id"], match["record_id"], event["Image"], event["CommandLine"]
        )
    assert len(set(results.values())) == 1, results
