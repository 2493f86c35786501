"""The Windows flattening rules, one by one, in the JSON and the XML layout alike."""

from __future__ import annotations

import polars as pl
import pytest

from watchkeeper.parsers.times import parse_times
from watchkeeper.parsers.windows import dataset_for_channel, datasets
from watchkeeper.parsers.winfields import flatten_json, xml_event

NS = 'xmlns="http://schemas.microsoft.com/win/2004/08/events/event"'
SYSTEM_XML = (
    "<System><Provider Name='P' Guid='{G}'/><EventID Qualifiers='16384'>7036</EventID>"
    "<TimeCreated SystemTime='2024-01-01T00:00:00.5Z'/><Execution ProcessID='4' ThreadID='8'/>"
    "<Channel>System</Channel><Computer>host</Computer><Security UserID='S-1-5-18'/></System>"
)
SYSTEM_JSON = {
    "Provider": {"#attributes": {"Name": "P", "Guid": "{G}"}},
    "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036},
    "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00.5Z"}},
    "Execution": {"#attributes": {"ProcessID": 4, "ThreadID": 8}},
    "Channel": "System",
    "Computer": "host",
    "Security": {"#attributes": {"UserID": "S-1-5-18"}},
}
SYSTEM_FIELDS = {
    "Provider_Name": "P", "Provider_Guid": "{G}", "EventID": "7036", "ProcessID": "4",
    "ThreadID": "8", "Channel": "System", "Computer": "host", "UserID": "S-1-5-18",
}


@pytest.mark.parametrize(
    ("channel", "dataset"),
    [
        ("Microsoft-Windows-Sysmon/Operational", "windows.sysmon"),
        ("Security", "windows.security"),
        ("System", "windows.system"),
        ("Application", "windows.application"),
        ("Microsoft-Windows-PowerShell/Operational", "windows.powershell"),
        ("Windows PowerShell", "windows.powershell_classic"),
        ("Microsoft-Windows-Windows Defender/Operational",
         "windows.microsoft_windows_windows_defender_operational"),
        ("ForwardedEvents", "windows.forwardedevents"),
        (None, "windows"),
    ],
)
def test_dataset_for_channel(channel: str | None, dataset: str) -> None:
    assert dataset_for_channel(channel) == dataset


def test_datasets_over_a_column() -> None:
    column = pl.Series(["Security", None, "A b", "Security"])
    assert datasets(column).to_list() == [
        "windows.security", None, "windows.a_b", "windows.security",
    ]


@pytest.mark.parametrize(
    ("event_data_xml", "event_data_json", "expected"),
    [
        ("<Data Name='A'>1</Data><Data Name='B'></Data>", {"A": 1, "B": None}, {"A": "1", "B": ""}),
        ("<Data>x</Data>", {"Data": "x"}, {"Data": "x"}),
        ("<Data>x</Data>", {"Data": {"#text": "x"}}, {"Data": "x"}),
        ("<Data>x</Data><Data>y</Data><Data/>", {"Data": {"#text": ["x", "y", ""]}},
         {"Data": "x\ny\n"}),
        ("<Data>x</Data><Data>y</Data>", {"Data": ["x", "y"]}, {"Data": "x\ny"}),
        ("<Data Name='N'>v</Data>", {"Data": {"#attributes": {"Name": "N"}, "#text": "v"}},
         {"N": "v"}),
        ("<Data>\n    </Data><Binary>00FF</Binary>", {"Data": {"#text": ""}, "Binary": "00FF"},
         {"Data": "", "Binary": "00FF"}),
        ("<Data Name='Channel'>not the system one</Data>", {"Channel": "not the system one"}, {}),
        ("<Data Name='T'>true</Data>", {"T": True}, {"T": "true"}),
    ],
)
def test_event_data_rules_in_both_layouts(
    event_data_xml: str, event_data_json: dict[str, object], expected: dict[str, str]
) -> None:
    from_xml = xml_event(f"<Event {NS}>{SYSTEM_XML}<EventData>{event_data_xml}</EventData></Event>"
                         .encode())
    from_json = flatten_json({"Event": {"System": SYSTEM_JSON, "EventData": event_data_json}})
    assert from_xml == from_json
    assert from_json.fields == SYSTEM_FIELDS | expected
    assert from_json.time == "2024-01-01T00:00:00.5Z"


def test_user_data_leaves_first_one_wins_in_both_layouts() -> None:
    xml = (
        f"<Event {NS}>{SYSTEM_XML}<UserData><Root xmlns='urn:x' Kind='k'><A>1</A><Inner><A>2</A>"
        "<B Attr='x'>3</B></Inner><Empty/></Root></UserData></Event>"
    )
    json_layout = {
        "Root": {
            "#attributes": {"xmlns": "urn:x", "Kind": "k"},
            "A": 1,
            "Inner": {"A": 2, "B": {"#attributes": {"Attr": "x"}, "#text": 3}},
            "Empty": None,
        }
    }
    from_json = flatten_json({"Event": {"System": SYSTEM_JSON, "UserData": json_layout}})
    assert xml_event(xml.encode()) == from_json
    assert from_json.fields == SYSTEM_FIELDS | {
        "Kind": "k", "A": "1", "Attr": "x", "B": "3", "Empty": "",
    }


def test_control_characters_and_carriage_returns_survive_xml() -> None:
    data = "<EventData><Data Name='V'>a\x03b\r\nc</Data></EventData>"
    xml = f"<Event {NS}>{SYSTEM_XML}{data}</Event>"
    assert xml_event(xml.encode()).fields["V"] == "a\x03b\r\nc"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<Event><System></Event>", "malformed XML element"),
        (b"<Events/>", "expected an <Event> element"),
        (b"<Event><EventData/></Event>", "no System element"),
        (b"<Event><!DOCTYPE x><System/></Event>", "DTDs and entity declarations are refused"),
    ],
)
def test_bad_xml_events_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        xml_event(data)


@pytest.mark.parametrize(
    ("document", "reason"),
    [({"Event": "x"}, "not an object"), ({"Event": {"EventData": {}}}, "no System object")],
)
def test_bad_json_events_say_why(document: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        flatten_json(document)


def test_parse_times_accepts_the_forms_windows_tools_write() -> None:
    texts = pl.Series([
        "2024-01-01T00:00:00.1234567Z", "2024-01-01 00:00:00.123", "2024-01-01T02:00:00+02:00",
        "2024-01-01T00:00:00", "garbage", None,
    ])
    assert [value.isoformat() if value else None for value in parse_times(texts).to_list()] == [
        "2024-01-01T00:00:00.123456+00:00", "2024-01-01T00:00:00.123000+00:00",
        "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00", None, None,
    ]
