"""Canonical fields of the sample logs of every format, read by the real parsers."""

from __future__ import annotations

from typing import Any

from tests.events.sources import EXAMPLES, normalized, normalizer, parse_text, sample

SECURITY_4625 = (
    '{"EventID": 4625, "Channel": "Security", "Computer": "dc-01.corp.example",'
    ' "Keywords": "0x8010000000000000", "TargetUserName": "administrator",'
    ' "TargetDomainName": "CORP", "IpAddress": "198.51.100.7", "IpPort": "51000",'
    ' "LogonType": "3", "ProcessId": "0x2d4", "ProcessName": "-"}\n'
)


def _subset(row: dict[str, Any], **expected: str | None) -> dict[str, Any]:
    """The fields of ``expected`` (dots written as ``__``) as ``row`` has them."""
    return {key: row.get(key.replace("__", ".")) for key in expected}


def _check(row: dict[str, Any], **expected: str | None) -> None:
    assert _subset(row, **expected) == expected


def test_sysmon_process_creation_from_evtx() -> None:
    (row,) = normalized(sample("evtx", "sysmon_process_creation.evtx"), "evtx")
    _check(
        row,
        host__name="swachchhanda",
        process__executable="C:\\Windows\\System32\\bitsadmin.exe",
        process__name="bitsadmin.exe",
        process__pid="7732",
        process__parent__pid="14736",
        user__name="xodih",
        user__domain="swachchhanda",
        file__hash__sha256="6feb16602a2fd1158c6f7e56e3b05a5e9ac01e88089535978c890ec6954a5afa",
        file__hash__md5="4fcfe1d61e6d962f06ce2b61fc11bc0f",
        file__hash__sha1=None,
        event__code="1",
        event__action="process-created",
        event__category="process",
    )
    assert row["process.command_line"].startswith("bitsadmin  /transfer n https://")
    # Sysmon writes "-" for an unknown parent: no value, not the text "-"
    assert "process.parent.executable" not in row
    assert "process.parent.name" not in row
    assert row["ParentImage"] == "-"  # the original is kept as it was


def test_sysmon_and_security_examples() -> None:
    rows = normalized(EXAMPLES / "windows" / "sysmon-and-security.jsonl", "winlog-json")
    by_record = {row["EventRecordID"]: row for row in rows}
    _check(
        by_record["52011"],
        process__name="cmd.exe",
        process__parent__name="EXCEL.EXE",
        user__name="alice",
        user__domain="CORP",
        host__name="ws-fin-07.corp.example",
    )
    _check(
        by_record["52019"],
        source__ip="10.20.7.31",
        source__port="50122",
        destination__ip="203.0.113.77",
        destination__port="443",
        network__transport="tcp",
        event__category="network",
        event__action="network-connection",
    )
    _check(
        by_record["880240"],
        user__name="svc_backup",
        source__ip="10.20.1.5",
        event__code="4624",
        event__outcome="success",
        event__category="authentication",
        event__action="logged-in",
    )
    assert "file.path" in next(row for row in rows if row["EventID"] == "11")


def test_failed_logon() -> None:
    (row,) = normalizer().apply(parse_text(SECURITY_4625, "winlog-json")).to_dicts()
    _check(
        row,
        user__name="administrator",
        user__domain="CORP",
        source__ip="198.51.100.7",
        source__port="51000",
        event__outcome="failure",
        event__category="authentication",
        process__pid="724",  # 0x2d4, written in decimal
        process__executable=None,  # "-"
    )


def test_security_process_creation_from_nxlog() -> None:
    rows = normalized(sample("winlog-json", "nxlog.ndjson"), "winlog-json")
    _check(
        rows[0],
        process__executable="C:\\Windows\\System32\\whoami.exe",
        process__name="whoami.exe",
        process__command_line="whoami /all",
        event__category="process",
        event__outcome="success",  # from nxlog's decimal Keywords
    )


def test_ecs_columns_of_the_source_are_kept() -> None:
    rows = normalized(sample("winlog-json", "winlogbeat.ndjson"), "winlog-json")
    assert [row["host.name"] for row in rows] == ["ws01", "ws01", "ws01"]  # not Computer
    assert rows[0]["Computer"] == "ws01.corp.example.com"
    defend = normalized(sample("ecs-json", "defend.ndjson"), "ecs-json")
    assert defend[0]["event.category"] == '["process"]'
    assert defend[0]["process.name"] == "cmd.exe"
    assert defend[0]["process.parent.name"] == "explorer.exe"  # added: it had none
    assert defend[1]["network.transport"] == "tcp"
    # the third document is Sysmon under ECS: what it lacks is filled from the originals
    _check(defend[2], process__executable="C:\\x.exe", process__name="x.exe", event__code="1")


def test_syslog_host_and_ssh_logins() -> None:
    rows = normalized(sample("syslog", "rfc3164.log"), "syslog")
    assert {row["host.name"] for row in rows} == {"web01"}
    _check(
        rows[1],
        process__name="sshd",
        process__pid="41830",
        user__name="admin",
        source__ip="203.0.113.45",
        source__port="52814",
        event__category="authentication",
        event__outcome="failure",
    )
    assert "user.name" not in rows[2]  # "Connection closed by invalid user admin" says no login
    rfc5424 = normalized(sample("syslog", "rfc5424.log"), "syslog")
    _check(rfc5424[1], host__name="192.0.2.1", host__ip="192.0.2.1")
    _check(rfc5424[0], host__name="mymachine.example.com", host__ip=None)
    _check(rfc5424[4], user__name="alice", event__outcome="success")


def test_auth_log_example() -> None:
    rows = normalized(EXAMPLES / "linux" / "auth.log", "syslog")
    outcomes = [(row.get("user.name"), row.get("event.outcome")) for row in rows[:4]]
    assert outcomes == [
        ("deploy", "success"),
        ("admin", "failure"),
        ("admin", "failure"),
        ("root", "failure"),
    ]


def test_zeek_conn_and_dns() -> None:
    conn = normalized(sample("zeek", "conn.log"), "zeek")
    _check(
        conn[0],
        source__ip="10.0.0.5",
        source__port="51234",
        destination__ip="203.0.113.7",
        destination__port="443",
        network__transport="tcp",
        event__category="network",
    )
    assert conn[1]["network.transport"] == "udp"
    dns = normalized(sample("zeek", "dns.log"), "zeek")
    assert dns[0]["dns.question.name"] == "evil-c2.example"


def test_zeek_http_and_files() -> None:
    rows = normalized(sample("zeek", "mixed.json"), "zeek")
    http = next(row for row in rows if row["event.dataset"] == "zeek.http")
    _check(
        http,
        url__full="http://203.0.113.80/payload.ps1",
        url__domain="203.0.113.80",
        event__category="web",
    )
    assert http["user_agent.original"].endswith("WindowsPowerShell/5.1.19041.3570")
    files = next(row for row in rows if row["event.dataset"] == "zeek.files")
    _check(files, file__hash__md5="0f343b0931126a20f133d67c2b018a3b", event__category="file")


def test_suricata() -> None:
    rows = normalized(sample("suricata", "eve.json"), "suricata")
    _check(
        rows[0],
        source__ip="10.0.0.5",
        destination__port="80",
        network__transport="tcp",  # EVE writes TCP
        url__domain="203.0.113.80",
        event__category="intrusion_detection",
    )
    assert rows[1]["dns.question.name"] == "evil-c2.example"


def test_cloudtrail() -> None:
    rows = normalized(sample("cloudtrail", "lines.jsonl"), "cloudtrail")
    _check(
        rows[0],
        cloud__account__id="123456789012",
        cloud__region="us-east-1",
        cloud__provider="aws",
        source__ip="198.51.100.23",
        user__name="alice",
        event__action="ConsoleLogin",
        event__category="authentication",
        event__outcome="success",
    )
    _check(rows[1], user__name="mallory", event__action="StopLogging", event__category="api")
    _check(
        rows[3],
        event__action="PutBucketPolicy",
        event__outcome="failure",  # errorCode AccessDenied
        source__ip=None,  # lambda.amazonaws.com is no address
        user_agent__original="lambda.amazonaws.com",
    )


def test_auditd() -> None:
    rows = normalized(sample("auditd", "audit.log"), "auditd")
    _check(
        rows[0],
        process__executable="/usr/bin/bash",
        process__name="bash",
        process__pid="2230",
        process__parent__pid="2201",
        event__category="process",
        event__outcome="success",
    )
    login = next(row for row in rows if row["type"] == "USER_AUTH")
    _check(
        login,
        user__name="root",
        source__ip="203.0.113.45",
        event__outcome="failure",
        event__category="authentication",
        host__name=None,  # the record's hostname is the peer's, not this host's
    )
    enriched = normalized(sample("auditd", "enriched.log"), "auditd")
    _check(enriched[0], user__name="alice", process__name="whoami")
    _check(enriched[3], user__name="alice", event__outcome="success")


def test_sysmon_for_linux() -> None:
    rows = normalized(sample("sysmon-linux", "syslog.log"), "sysmon-linux")
    _check(
        rows[0],
        host__name="web01",
        user__name="root",
        user__domain=None,
        process__name="curl",
        process__parent__name="bash",
    )
    _check(rows[2], file__path="/tmp/a.sh & b", event__category="file")
