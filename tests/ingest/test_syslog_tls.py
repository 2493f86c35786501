"""Syslog over TLS (RFC 5425): octet-counted frames over a TLS connection."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.syslog import SyslogServer, server_tls_context

from .helpers import lines_of, read_all, wait_lines


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


def test_tls_messages_land_in_the_spool(spool: Spool, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server = SyslogServer(spool, tls_port=0, tls=server_tls_context(cert, key))
    client = ssl.create_default_context(cafile=str(cert))
    messages = [b"<165>1 2024-05-01T12:00:00Z host app - - - over tls",
                b"<13>two\nlines"]

    async def main() -> None:
        ports = await server.start()
        assert ports.tls is not None
        assert (ports.tcp, ports.udp) == (None, None)
        try:
            # a client speaking plain TCP to the TLS port fails its handshake alone
            _, plain = await asyncio.open_connection("127.0.0.1", ports.tls)
            plain.write(b"<13>not tls\n")
            await plain.drain()
            plain.close()

            _, writer = await asyncio.open_connection("127.0.0.1", ports.tls, ssl=client,
                                                      server_hostname="127.0.0.1")
            for message in messages:
                writer.write(b"%d %s" % (len(message), message))
            await writer.drain()
            lines = await wait_lines(spool, 2)
            assert lines == [messages[0], b"<13>two#012lines"]
            local = writer.get_extra_info("sockname")
            assert read_all(spool)[0].origin == f"syslog+tls://127.0.0.1:{local[1]}"
            writer.close()
            await writer.wait_closed()
        finally:
            await server.stop()

    asyncio.run(main())
    counters = server.counters["syslog-tls"]
    assert counters.accepted == 2
    assert server.counters["syslog-tcp"].accepted == 0


def test_client_certificates_when_a_client_ca_is_given(
        spool: Spool, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = server_tls_context(cert, key, client_ca_file=cert)
    server = SyslogServer(spool, tls_port=0, tls=context)
    anonymous = ssl.create_default_context(cafile=str(cert))
    known = ssl.create_default_context(cafile=str(cert))
    known.load_cert_chain(cert, key)

    async def send(port: int, client: ssl.SSLContext, message: bytes) -> bytes:
        """Send one message; what the server answered before closing (nothing, normally)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client,
                                                       server_hostname="127.0.0.1")
        writer.write(b"%d %s" % (len(message), message))
        try:
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 0.5)
        except (ssl.SSLError, ConnectionError):
            return b""
        except TimeoutError:
            return b"still open"
        finally:
            writer.close()
            with contextlib.suppress(ssl.SSLError, ConnectionError):
                await writer.wait_closed()

    async def main() -> None:
        ports = await server.start()
        assert ports.tls is not None
        try:
            assert await send(ports.tls, anonymous, b"<13>who am i") == b""  # closed
            assert await send(ports.tls, known, b"<13>known client") == b"still open"
            assert await wait_lines(spool, 1) == [b"<13>known client"]
        finally:
            await server.stop()

    asyncio.run(main())
    assert server.counters["syslog-tls"].accepted == 1
    assert lines_of(read_all(spool)) == [b"<13>known client"]
