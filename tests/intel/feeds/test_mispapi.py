from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.intel.feeds.golden import DATA, as_data, parse
from watchkeeper.errors import InputError
from watchkeeper.intel.feeds import pull_misp_api

KEY = "s3cr3t-api-key-0123456789"
EVENTS = [json.loads(path.read_bytes()) for path in sorted((DATA / "misp").glob("5f*.json"))
          if not path.name.endswith(".expected.json")]


class FakeMisp:
    """Stands in for PyMISP: records how it was made and asked, answers from pages."""

    def __init__(self, pages: list[Any]) -> None:
        self.pages = pages
        self.made: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.searches: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> FakeMisp:
        self.made = (args, kwargs)
        return self

    def search(self, *args: Any, **kwargs: Any) -> Any:
        assert not args
        self.searches.append(kwargs)
        answer = self.pages[len(self.searches) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_client_is_made_and_asked_as_expected() -> None:
    fake = FakeMisp([EVENTS])
    pull_misp_api("https://misp.example.org", KEY, since=1709000000, verify_tls=False,
                  timeout=12, client_factory=fake)
    assert fake.made == (("https://misp.example.org", KEY), {"ssl": False, "timeout": 12})
    assert fake.searches == [{"controller": "events", "return_format": "json",
                              "timestamp": 1709000000, "limit": 100, "page": 1,
                              "pythonify": False}]


def test_events_map_exactly_as_feed_files() -> None:
    result = pull_misp_api("https://misp.example.org", KEY, since=None,
                           client_factory=FakeMisp([EVENTS]), source="example-misp")
    first, second = (parse(f"misp/{event['Event']['uuid']}.json") for event in EVENTS)
    assert {indicator.source for indicator in result.indicators} == {"example-misp"}
    assert [replace(indicator, source="") for indicator in result.indicators] == [
        replace(indicator, source="") for indicator in first.indicators + second.indicators]
    assert result.withdrawn == first.withdrawn + second.withdrawn
    assert [p.reason for p in result.problems] == [p.reason for p in
                                                   first.problems + second.problems]
    assert result.cursor == "1709546400"


def test_pages_until_a_short_one() -> None:
    fake = FakeMisp([EVENTS[:1], EVENTS[1:], []])
    result = pull_misp_api("https://m.example", KEY, since=None, client_factory=fake,
                           page_size=1)
    assert [search["page"] for search in fake.searches] == [1, 2, 3]
    assert len(result.indicators) == len(as_data(parse(
        "misp/5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e01.json"))["indicators"]) + 4


def test_nothing_new_keeps_the_cursor() -> None:
    result = pull_misp_api("https://m.example", KEY, since=1709546400,
                           client_factory=FakeMisp([[]]))
    assert (result.indicators, result.cursor) == ([], "1709546400")


@pytest.mark.parametrize("answer", [
    {"errors": [403, {"message": "Authentication failed."}]},
    "<html>",
    ConnectionError("refused"),
])
def test_failures_raise_without_the_key(answer: Any) -> None:
    with pytest.raises(InputError) as raised:
        pull_misp_api("https://m.example", KEY, since=None, client_factory=FakeMisp([answer]))
    assert KEY not in str(raised.value)
    assert raised.value.location == "https://m.example"


def test_a_bad_event_is_a_problem() -> None:
    result = pull_misp_api("https://m.example", KEY, since=None,
                           client_factory=FakeMisp([["x", {"Event": []}]]))
    assert [p.where for p in result.problems] == ["https://m.example: page 1, event 0",
                                                  "https://m.example: page 1, event 1"]
