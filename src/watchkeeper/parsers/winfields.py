"""Windows event fields: one flattening for every rendering of an event.

An event read from EVTX, from Windows event XML or from nested EVTX-JSON must give
the same original fields, because Sigma rules for Windows address them by name
(``EventID``, ``Channel``, ``Image``…). The two flatteners below (``flatten_json``
for the layout of the ``evtx`` package and ``evtx_dump``, ``flatten_xml`` for
``<Event>`` elements) follow the same rules, written once here:

* System: ``EventID`` (the number, Qualifiers dropped), ``Channel``, ``Computer``,
  ``Provider_Name``, ``Provider_Guid``, ``EventRecordID``, ``Level``, ``Task``,
  ``Opcode``, ``Keywords``, ``Version``, ``ProcessID``, ``ThreadID``, ``UserID``;
  the time comes from ``TimeCreated/@SystemTime``.
* EventData: ``<Data Name="X">`` becomes field ``X``; unnamed ``<Data>`` values become
  ``Data``, joined with a newline; other children (``<Binary>``) keep their tag.
* UserData: leaf elements (and attributes other than ``xmlns``) under their local
  names, the first one winning.
* An element that is present but empty gives ``""``; whitespace-only text that holds
  a newline is taken as pretty-printing, i.e. empty.
* A System field is never overwritten by an EventData/UserData field of the same name.
* RenderingInfo (the display text ``wevtutil /f:RenderedXml`` adds) is not an original
  field: EVTX does not hold it, and the same event must give the same fields.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from watchkeeper.events.model import stringify

_SYSTEM_TEXT = frozenset({"EventID", "Version", "Level", "Task", "Opcode", "Keywords",
                          "EventRecordID", "Channel", "Computer"})
_SYSTEM_ATTRS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "Provider": (("Name", "Provider_Name"), ("Guid", "Provider_Guid")),
    "Execution": (("ProcessID", "ProcessID"), ("ThreadID", "ThreadID")),
    "Security": (("UserID", "UserID"), ("UserId", "UserID")),
})
"""System elements whose attributes are fields: attribute → field name."""
_TEXT_AND_ATTRIBUTES = frozenset({"#text", "#attributes"})


class FlatEvent(NamedTuple):
    """The original fields of one event and its ``SystemTime`` text (None when absent)."""

    fields: dict[str, str]
    time: str | None


def _clean(value: Any) -> str:
    """The text of a present element: empty for null or pretty-printing whitespace."""
    if type(value) is str:
        return value if "\n" not in value or value.strip() else ""
    return "" if value is None else (stringify(value) or "")


# --- the JSON layout of evtx / evtx_dump: {"Event": {"System": {...}, "EventData": {...}}} ---


def _json_text(value: Any) -> Any:
    return value.get("#text") if isinstance(value, dict) else value


def _json_event_data(data: Mapping[str, Any], fields: dict[str, str]) -> None:
    unnamed: list[str] = []

    def add_data(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                add_data(item)
            return
        if isinstance(value, dict):
            name = (value.get("#attributes") or {}).get("Name")
            text = value.get("#text")
            if name is not None:
                fields.setdefault(str(name), _clean(text))
                return
            if isinstance(text, list):
                unnamed.extend(_clean(item) for item in text)
                return
            value = text
        unnamed.append(_clean(value))

    for key, value in data.items():  # the hot loop of EVTX reading: plain type tests
        if key == "#attributes":
            continue
        if key == "Data":
            add_data(value)
            continue
        kind = type(value)
        if kind is str:
            text = value if "\n" not in value or value.strip() else ""
        elif kind is int:
            text = str(value)
        elif kind is dict:
            if not value.keys() <= _TEXT_AND_ATTRIBUTES:
                _json_leaves(value, fields)
                continue
            text = _clean(value.get("#text"))
        else:
            text = _clean(value)
        if key not in fields:
            fields[key] = text
    if unnamed:
        fields.setdefault("Data", "\n".join(unnamed))


def _json_leaves(node: Mapping[str, Any], fields: dict[str, str]) -> None:
    for key, value in node.items():
        if key == "#attributes":
            for attr, attr_value in (value or {}).items():
                if not attr.startswith("xmlns"):
                    fields.setdefault(attr, _clean(attr_value))
        elif key == "#text":
            continue
        elif isinstance(value, list):
            first = value[0] if value else None
            _json_leaves({key: first}, fields)
        elif isinstance(value, dict) and not value.keys() <= _TEXT_AND_ATTRIBUTES:
            _json_leaves(value, fields)
        else:
            if isinstance(value, dict):
                _json_leaves({"#attributes": value.get("#attributes") or {}}, fields)
            fields.setdefault(key, _clean(_json_text(value)))


def flatten_json(document: Mapping[str, Any]) -> FlatEvent:
    """Flatten an event in the nested EVTX-JSON layout (with or without the ``Event`` key)."""
    event = document.get("Event", document)
    if not isinstance(event, dict):
        raise ValueError("the Event member is not an object")
    system = event.get("System")
    if not isinstance(system, dict):
        raise ValueError("the event has no System object")
    fields: dict[str, str] = {}
    time: str | None = None
    for key, value in system.items():
        if key in _SYSTEM_TEXT:
            text = value.get("#text") if type(value) is dict else value
            if isinstance(text, str):
                fields[key] = text.strip()
            else:
                fields[key] = str(text) if type(text) is int else (stringify(text) or "")
            continue
        if key.endswith("_attributes"):  # evtx_dump --separate-json-attributes
            key, attributes = key[: -len("_attributes")], value
        else:
            attributes = value.get("#attributes") if type(value) is dict else None
        if type(attributes) is not dict:
            continue
        if key == "TimeCreated":
            time = stringify(attributes.get("SystemTime"))
        for attr, field in _SYSTEM_ATTRS.get(key, ()):
            attr_value = attributes.get(attr)
            if attr_value is not None and field not in fields:
                fields[field] = str(attr_value) if type(attr_value) is int else _clean(attr_value)
    event_data = event.get("EventData")
    if isinstance(event_data, dict):
        _json_event_data(event_data, fields)
    user_data = event.get("UserData")
    if isinstance(user_data, dict):
        _json_leaves(user_data, fields)
    return FlatEvent(fields, time)


# --- Windows event XML: <Event xmlns=...><System>...</System><EventData>...</EventData></Event> ---


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attr(element: ET.Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _xml_leaves(element: ET.Element, fields: dict[str, str]) -> None:
    for key, value in element.attrib.items():
        if not key.startswith("xmlns"):
            fields.setdefault(_local(key), _clean(value))
    children = list(element)
    if not children:
        fields.setdefault(_local(element.tag), _clean(element.text))
    for child in children:
        _xml_leaves(child, fields)


def flatten_xml(event: ET.Element) -> FlatEvent:
    """Flatten one ``<Event>`` element (namespaced or not) by the rules of this module."""
    fields: dict[str, str] = {}
    time: str | None = None
    sections = {_local(child.tag): child for child in event}
    system = sections.get("System")
    if system is None:
        raise ValueError("the event has no System element")
    for child in system:
        name = _local(child.tag)
        if name in _SYSTEM_TEXT:
            fields[name] = (child.text or "").strip()
        elif name == "TimeCreated":
            time = _attr(child, "SystemTime")
        for attr, field in _SYSTEM_ATTRS.get(name, ()):
            value = _attr(child, attr)
            if value is not None:
                fields.setdefault(field, value)
    event_data = sections.get("EventData")
    if event_data is not None:
        unnamed: list[str] = []
        for child in event_data:
            tag = _local(child.tag)
            data_name = child.get("Name")
            if tag == "Data" and data_name is None:
                unnamed.append(_clean(child.text))
            elif tag == "Data" or not len(child):
                fields.setdefault(data_name if tag == "Data" and data_name else tag,
                                  _clean(child.text))
            else:
                _xml_leaves(child, fields)
        if unnamed:
            fields.setdefault("Data", "\n".join(unnamed))
    user_data = sections.get("UserData")
    if user_data is not None:
        for child in user_data:
            _xml_leaves(child, fields)
    return FlatEvent(fields, time)


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PRIVATE_BASE = 0xF700
_FROM_PRIVATE = {_PRIVATE_BASE + code: code for code in range(32)}


def _to_private(match: re.Match[bytes]) -> bytes:
    return chr(_PRIVATE_BASE + match[0][0]).encode()


def _fromstring(data: bytes) -> ET.Element:
    # A CR written as a character reference survives XML end-of-line normalization.
    if b"\r" in data:
        try:
            return ET.fromstring(data.replace(b"\r", b"&#13;"))  # noqa: S314 (see xml_event)
        except ET.ParseError:
            pass  # a CR inside a tag, where a reference is not allowed: parse as written
    return ET.fromstring(data)  # noqa: S314 (a lone element: no DTD, see xml_event)


def xml_event(data: bytes) -> FlatEvent:
    """Parse and flatten one ``<Event>`` element given as bytes; ValueError says why not.

    The element is parsed on its own, so no DTD can precede it: entity expansion
    (billion laughs, XXE) is impossible, and a DTD smuggled inside is refused.
    Control characters, which XML 1.0 forbids but EVTX renderers write raw, are
    carried through the parser in the private use area and restored.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError("DTDs and entity declarations are refused")
    restore = _CONTROL.search(data) is not None
    if restore:
        data = _CONTROL.sub(_to_private, data)
    try:
        element = _fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML element: {exc}") from None
    if _local(element.tag) != "Event":
        raise ValueError(f"expected an <Event> element, found <{_local(element.tag)}>")
    flat = flatten_xml(element)
    if restore:
        fields = {key: value.translate(_FROM_PRIVATE) for key, value in flat.fields.items()}
        flat = FlatEvent(fields, flat.time)
    return flat
