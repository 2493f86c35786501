"""The normalization stage: what it adds, what it leaves alone, and the mapping files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.events.sources import normalizer, parse, sample
from watchkeeper.errors import MappingError, UsageError
from watchkeeper.events.model import DATASET
from watchkeeper.events.normalize import FieldMapping, Normalizer, canonical_fields

ROOT = Path(__file__).resolve().parents[2]
ECS_CATEGORIES = {
    "api", "authentication", "configuration", "database", "driver", "email", "file", "host",
    "iam", "intrusion_detection", "library", "malware", "network", "package", "process",
    "registry", "session", "threat", "vulnerability", "web",
}  # fmt: skip


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {k.replace("__", "."): v for k, v in columns.items()},
        schema_overrides={k.replace("__", "."): pl.String for k in columns},
    )


def test_canonical_fields_lists_what_the_stage_adds() -> None:
    fields = canonical_fields()
    assert fields[:2] == ["host.name", "host.ip"]
    for name in (
        "process.executable",
        "process.name",
        "file.hash.sha256",
        "event.outcome",
        "cloud.account.id",
        "url.domain",
        "dns.question.name",
        "registry.path",
    ):
        assert name in fields
    assert len(set(fields)) == len(fields)
    assert normalizer().fields == fields


def test_every_added_column_is_canonical_and_text() -> None:
    frames = [
        parse(sample("evtx", "sysmon_process_creation.evtx"), "evtx"),
        parse(sample("zeek", "mixed.json"), "zeek"),
        parse(sample("cloudtrail", "lines.jsonl"), "cloudtrail"),
        parse(sample("auditd", "audit.log"), "auditd"),
    ]
    for frame in frames:
        out = normalizer().apply(frame)
        added = [name for name in out.columns if name not in frame.columns]
        assert added
        assert set(added) <= set(canonical_fields())
        assert all(out.schema[name] == pl.String for name in added)
        assert out.select(frame.columns).equals(frame)  # originals untouched, rows in order


def test_a_value_the_event_has_is_never_replaced() -> None:
    frame = _frame(
        event__dataset=["windows.sysmon", "windows.sysmon"],
        Image=["C:\\a\\x.exe", "C:\\b\\y.exe"],
        process__executable=["D:\\own.exe", None],
    )
    out = normalizer().apply(frame)
    assert out["process.executable"].to_list() == ["D:\\own.exe", "C:\\b\\y.exe"]
    assert out["process.name"].to_list() == ["own.exe", "y.exe"]


def test_a_canonical_column_of_another_type_is_left_alone() -> None:
    frame = _frame(event__dataset=["windows.sysmon"], ProcessId=["42"]).with_columns(
        pl.lit(7, dtype=pl.Int64).alias("process.pid")
    )
    assert normalizer().apply(frame)["process.pid"].to_list() == [7]


def test_an_all_null_column_of_no_type_is_filled() -> None:
    frame = _frame(event__dataset=["windows.sysmon"], Image=["C:\\x.exe"]).with_columns(
        pl.lit(None).alias("process.executable")
    )
    out = normalizer().apply(frame)
    assert out["process.executable"].to_list() == ["C:\\x.exe"]
    assert out.schema["process.executable"] == pl.String


def test_events_without_originals_get_only_what_applies() -> None:
    empty = pl.DataFrame({"foo": ["x"], DATASET: ["windows.sysmon"]})
    assert normalizer().apply(empty).equals(empty)
    no_dataset = pl.DataFrame({"foo": ["x"]})
    assert normalizer().apply(no_dataset).equals(no_dataset)
    zeek = normalizer().apply(pl.DataFrame({DATASET: ["zeek.conn"]}))
    assert zeek.columns == [DATASET, "event.category"]  # a constant of the dataset
    assert zeek["event.category"].to_list() == ["network"]
    nothing = pl.DataFrame(schema={DATASET: pl.String, "Image": pl.String})
    assert normalizer().apply(nothing).height == 0


def test_without_a_dataset_only_the_general_sources_apply() -> None:
    out = normalizer().apply(_frame(Image=["/usr/bin/id"], hostname=["web01"]))
    assert out["process.name"].to_list() == ["id"]
    assert "host.name" not in out.columns  # `hostname` means the host for syslog only


def test_each_dataset_of_a_mixed_batch_reads_its_own_fields() -> None:
    syslog = parse(sample("syslog", "rfc3164.log"), "syslog").head(2)
    auditd = parse(sample("auditd", "audit.log"), "auditd")
    mixed = pl.concat([auditd, syslog, auditd.head(1)], how="diagonal")
    out = normalizer().apply(mixed)
    assert out.height == mixed.height
    assert out[DATASET].to_list() == mixed[DATASET].to_list()
    names = out.select("hostname", "host.name", "type").rows()
    for hostname, host, record in names:
        if record is None:  # syslog: the host is the hostname
            assert host == hostname == "web01"
        elif record == "USER_AUTH":  # auditd: hostname is the peer
            assert hostname == "203.0.113.45"
            assert host is None


def test_absent_placeholders_fall_through_to_the_next_source() -> None:
    frame = _frame(
        event__dataset=["windows.security", "windows.security", "linux.auditd"],
        TargetUserName=["-", "bob", None],
        SubjectUserName=["svc", "svc", None],
        addr=[None, None, "?"],
    )
    out = normalizer().apply(frame)
    assert out["user.name"].to_list() == ["svc", "bob", None]
    assert out["source.ip"].to_list() == [None, None, None]


def test_hashes_and_paths() -> None:
    frame = _frame(
        event__dataset=["windows.sysmon", "windows.sysmon", "windows.sysmon"],
        Hashes=["SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01", "sha256=99", None],
        Image=["C:\\dir\\a.exe", "/opt/bin/tool", "C:\\dir\\"],
        User=["CORP\\bob", "root", "CORP\\"],
    )
    out = normalizer().apply(frame)
    assert out["file.hash.sha256"].to_list() == ["ef", "99", None]
    assert out["file.hash.sha1"].to_list() == ["ab", None, None]
    assert out["file.hash.md5"].to_list() == ["cd", None, None]
    assert out["process.name"].to_list() == ["a.exe", "tool", None]
    assert out["user.name"].to_list() == ["bob", "root", None]
    assert out["user.domain"].to_list() == ["CORP", None, "CORP"]


def _results(field: str) -> set[str]:
    """Every value the built-in mapping can give ``field`` from a constant or a table."""
    mapping = FieldMapping.parse(yaml.safe_load(_ecs_yml()), "ecs.yml")
    values: set[str] = set()
    for entry in mapping.fields[field]:
        for source in entry.sources:
            if source.origin == "value":
                values.add(source.text)
            elif source.operation == "present":
                values.add(source.argument)
            elif source.operation == "map":
                values.update(source.argument.values())
            elif source.operation == "match":
                values.update(result for _, result in source.argument)
    return values


def test_categories_and_outcomes_are_ecs_values() -> None:
    categories = _results("event.category")
    assert {"process", "network", "authentication", "file", "registry", "api"} <= categories
    assert categories <= ECS_CATEGORIES
    assert _results("event.outcome") == {"success", "failure"}


def test_every_canonical_field_is_documented() -> None:
    text = (ROOT / "docs" / "normalization.md").read_text("utf-8")
    missing = [name for name in canonical_fields() if f"`{name}`" not in text]
    assert not missing


def _ecs_yml() -> str:
    return (ROOT / "src" / "watchkeeper" / "events" / "data" / "ecs.yml").read_text("utf-8")


# --- user mapping files ---


def _normalizer(tmp_path: Path, text: str) -> Normalizer:
    path = tmp_path / "mapping.yml"
    path.write_text(text, "utf-8")
    return Normalizer(path)


def test_a_user_mapping_adds_fields_and_comes_first(tmp_path: Path) -> None:
    custom = _normalizer(
        tmp_path,
        """
fields:
  service.name:
    myapp: [svc]
  host.name:
    myapp: [{from: node_fqdn, lower: true}]
    windows.*: [{template: "{Computer}.corp"}]
  event.category:
    myapp: [{from: kind, match: {"^log(in|out)$": authentication}}]
absent: ["n/a"]
""",
    )
    assert custom.fields[-1] == "service.name"
    assert custom.fields[:-1] == canonical_fields()
    frame = _frame(
        event__dataset=["myapp", "myapp", "windows.security"],
        svc=["billing", "n/a", None],
        node_fqdn=["APP1.Example", None, None],
        kind=["login", "crash", None],
        Computer=[None, None, "dc01"],
    )
    out = custom.apply(frame)
    assert out["service.name"].to_list() == ["billing", None, None]
    assert out["host.name"].to_list() == ["app1.example", None, "dc01.corp"]
    assert out["event.category"].to_list() == ["authentication", None, None]


def test_a_user_mapping_may_read_columns_that_are_not_text(tmp_path: Path) -> None:
    custom = _normalizer(tmp_path, "fields:\n  log.number:\n    '*': [log.line]\n")
    out = custom.apply(pl.DataFrame({"log.line": [3, None]}))
    assert out["log.number"].to_list() == ["3", None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fields: [a, b]", "a `fields` table"),
        ("- a\n- b", "a `fields` table"),
        ("fields:\n  x.y: {'*': []}", "a list of sources"),
        ("fields:\n  x.y: []", "a table of datasets"),
        (
            "fields:\n  x.y: {'*': [{from: a, basename: true, lower: yes, colour: red}]}",
            "unknown keys",
        ),
        ("fields:\n  x.y: {'*': [{from: a, map: {1: b}, basename: true}]}", "at most one"),
        ("fields:\n  x.y: {'*': [{basename: true}]}", "one of from/template/value"),
        ("fields:\n  x.y: {'*': [{from: a, extract: '(?<=x)y'}]}", "bad regular expression"),
        ("fields:\n  x.y: {'*': [{from: a, extract: 'xy'}]}", "needs a group"),
        ("fields:\n  x.y: {'*': [{from: a, match: {'[': z}}]}", "bad regular expression"),
        ("fields:\n  x.y: {'*': [{from: a, pair: 'a=b'}]}", "pair:"),
        ("fields:\n  x.y: {'*': [{value: a, lower: true, map: {1: b}}]}", "needs a column"),
        ("fields:\n  x.y: {'*': [{template: 'no columns'}]}", "names columns in braces"),
        ("fields:\n  x.y: {'*': [{from: a, lower: 'yes'}]}", "true or false"),
        ("fields:\n  x.y: {'*': [7]}", "a column name or a mapping"),
        ("fields: {}\nextra: 1", "unknown keys"),
        ("fields: {}\nabsent: 3", "absent"),
        ("fields:\n  a.b: {'*': [{from: c.d}]}\n  c.d: {'*': [{from: a.b}]}", "each other"),
        ("fields: {x: [unclosed", "not YAML"),
    ],
)
def test_a_broken_mapping_is_refused_with_the_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(MappingError, match=message) as caught:
        _normalizer(tmp_path, text)
    assert "mapping.yml" in str(caught.value)


def test_a_missing_mapping_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the field mapping"):
        Normalizer(tmp_path / "absent.yml")
