"""The outbound client: which addresses it refuses, what it sends, how it fails."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.response.conftest import ApiServer, FakeContext, Reply
from watchkeeper.errors import UsageError
from watchkeeper.response.actions.base import ActionFailed, Connector
from watchkeeper.response.outbound import Outbound, forbidden_reason, pinned_address


class Guard(httpx.BaseTransport):
    """Stands where the network would be: records anything that gets past the checks."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, json={})


def conn(allow_private: bool = False, **secrets: str) -> Connector:
    return Connector("probe", "webhook", {}, secrets, allow_private)


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("10.0.0.1", "private"), ("192.168.1.20", "private"),
    ("172.16.5.4", "private"), ("169.254.169.254", "link-local"), ("::1", "loopback"),
    ("fe80::1", "link-local"), ("fc00::5", "private"), ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"), ("100.64.0.1", "routable"),
    ("::ffff:10.0.0.1", "embedding 10.0.0.1"), ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ("2002:0a00:0001::1", "embedding 10.0.0.1"),
])
def test_non_public_addresses_are_named(address: str, reason: str) -> None:
    found = forbidden_reason(address)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "http://10.0.0.1/api", "http://169.254.169.254/latest/meta-data",
    "http://[::1]:9/", "https://[::ffff:127.0.0.1]/",
])
def test_private_targets_are_refused_before_any_request(url: str) -> None:
    guard = Guard()
    outbound = Outbound(transport=guard)
    with pytest.raises(ActionFailed, match="refused to connect") as caught:
        outbound.request(FakeContext(), conn(), "POST", url, json_body={"a": 1})
    assert caught.value.retryable is False
    assert "allow_private" in str(caught.value)
    assert guard.sent == []


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    guard = Guard()
    outbound = Outbound(resolve=lambda host, port: ["10.1.2.3"], transport=guard)
    with pytest.raises(ActionFailed, match=r"'intranet.example.com' \(10.1.2.3\).*private"):
        outbound.request(FakeContext(), conn(), "GET", "https://intranet.example.com/")
    assert guard.sent == []


def test_one_private_address_among_public_ones_refuses_the_lot() -> None:
    with pytest.raises(ActionFailed, match=r"10\.0\.0\.9"):
        pinned_address(conn(), "mixed.example", 443, lambda h, p: ["93.184.216.34", "10.0.0.9"])


def test_a_real_loopback_server_gets_nothing_without_allow_private(api: ApiServer) -> None:
    with pytest.raises(ActionFailed, match="loopback"):
        Outbound().request(FakeContext(), conn(), "GET", api.url + "/ping")
    assert api.requests == []


def test_the_checked_address_is_the_one_connected_to() -> None:
    guard = Guard()
    outbound = Outbound(resolve=lambda host, port: ["93.184.216.34"], transport=guard)
    outbound.request(FakeContext(), conn(), "POST", "https://api.example.com:8443/v1/x?q=1",
                     json_body={"a": 1})
    (sent,) = guard.sent
    assert sent.url.host == "93.184.216.34"
    assert sent.url.port == 8443
    assert sent.url.path == "/v1/x"
    assert sent.url.query == b"q=1"
    assert sent.headers["host"] == "api.example.com:8443"
    assert sent.extensions["sni_hostname"] == "api.example.com"
    assert sent.headers["idempotency-key"] == "run-7.step-block"


def test_only_http_and_https() -> None:
    with pytest.raises(UsageError, match="only http and https"):
        Outbound(transport=Guard()).request(FakeContext(), conn(True), "GET", "file:///etc/passwd")


def test_request_carries_the_idempotency_key(api: ApiServer) -> None:
    response = Outbound().request(FakeContext(), conn(True), "POST", api.url + "/hook",
                                  json_body={"text": "hi"})
    assert response.status == 200
    (seen,) = api.requests
    assert (seen.method, seen.path, seen.json()) == ("POST", "/hook", {"text": "hi"})
    assert seen.headers["idempotency-key"] == "run-7.step-block"


def test_a_redirect_is_not_followed(api: ApiServer) -> None:
    api.routes[("GET", "/go")] = Reply(302, headers={"Location": "http://10.0.0.1/admin"})
    with pytest.raises(ActionFailed, match=r"redirect to 10\.0\.0\.1; redirects are not followed"
                       ) as caught:
        Outbound().request(FakeContext(), conn(True), "GET", api.url + "/go")
    assert caught.value.retryable is False
    assert [r.path for r in api.requests] == ["/go"]


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True),
                                                   (400, False), (404, False), (403, False)])
def test_status_decides_whether_to_retry(api: ApiServer, status: int, retryable: bool) -> None:
    api.routes[("POST", "/x")] = Reply(status, {"error": "no"})
    with pytest.raises(ActionFailed, match=f"answered {status}") as caught:
        Outbound().request(FakeContext(), conn(True), "POST", api.url + "/x")
    assert caught.value.retryable is retryable


def test_a_slow_server_times_out_and_may_be_retried(api: ApiServer) -> None:
    api.routes[("GET", "/slow")] = Reply(delay_s=2.0)
    with pytest.raises(ActionFailed, match=r"timed out after 0.3s") as caught:
        Outbound().request(FakeContext(timeout_s=0.3), conn(True), "GET", api.url + "/slow")
    assert caught.value.retryable is True


def test_the_connector_timeout_applies_when_shorter(api: ApiServer) -> None:
    api.routes[("GET", "/slow")] = Reply(delay_s=2.0)
    connector = Connector("probe", "webhook", {"timeout_s": 0.2}, {}, True)
    with pytest.raises(ActionFailed, match=r"after 0.2s"):
        Outbound().request(FakeContext(timeout_s=30), connector, "GET", api.url + "/slow")


def test_a_large_response_is_refused(api: ApiServer) -> None:
    api.routes[("GET", "/big")] = Reply(body=b"x" * 5000)
    with pytest.raises(ActionFailed, match="over the 1000-byte cap"):
        Outbound(max_response_bytes=1000).request(FakeContext(), conn(True), "GET",
                                                  api.url + "/big")


def test_connection_refused_is_retryable() -> None:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ActionFailed, match="connection failed") as caught:
        Outbound().request(FakeContext(), conn(True), "GET", f"http://127.0.0.1:{port}/")
    assert caught.value.retryable is True


def test_secrets_stay_out_of_errors_reprs_and_logs(api: ApiServer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    token = "hook-token-5f3a9c"
    connector = conn(True, url=f"{api.url}/services/{token}")
    api.routes[("POST", f"/services/{token}")] = Reply(500)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ActionFailed) as caught:
        Outbound().request(FakeContext(), connector, "POST", connector.secrets["url"],
                           headers={"Authorization": f"Bearer {token}"})
    assert token not in str(caught.value)
    assert token not in repr(connector)
    assert "answered 500" in caplog.text
    assert token not in caplog.text
    refused = conn(False, url=f"http://10.0.0.1/services/{token}")
    with pytest.raises(ActionFailed) as caught:
        Outbound(transport=Guard()).request(FakeContext(), refused, "POST",
                                            refused.secrets["url"])
    assert token not in str(caught.value)
