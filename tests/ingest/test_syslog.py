from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.ingest.counters import MemoryDeadLetters
from watchkeeper.ingest.framing import too_long
from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.syslog import BoundPorts, SyslogServer

from .helpers import lines_of, read_all, wait_lines

Scenario = Callable[[SyslogServer, BoundPorts], Awaitable[None]]


def run(spool: Spool, scenario: Scenario, **options: object) -> SyslogServer:
    """Start a server on free ports, play the scenario against it, stop it."""
    server = SyslogServer(spool, udp_port=0, tcp_port=0, **options)  # type: ignore[arg-type]

    async def main() -> None:
        ports = await server.start()
        try:
            await scenario(server, ports)
        finally:
            await server.stop()

    asyncio.run(main())
    return server


async def connect(port: int | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


def test_udp_datagrams_land_in_the_spool(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        assert ports.udp is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.0.1", 0))
            origin = f"syslog+udp://127.0.0.1:{sender.getsockname()[1]}"
            for message in (b"<13>first\n", b"<13>two\nlines", b"<13>caf\xe9"):
                sender.sendto(message, ("127.0.0.1", ports.udp))
            lines = await wait_lines(spool, 3)
        assert lines == [b"<13>first", b"<13>two#012lines", b"<13>caf\xe9"]
        chunk = read_all(spool)[0]
        assert (chunk.source_type, chunk.origin) == ("syslog", origin)

    server = run(spool, scenario)
    counters = server.counters["syslog-udp"]
    assert (counters.received, counters.accepted, counters.dropped) == (3, 3, 0)
    assert counters.bytes == len(b"<13>first\n<13>two\nlines<13>caf\xe9")


def test_udp_senders_get_chunks_of_their_own(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        assert ports.udp is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as one, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as two:
            for n in range(30):
                (one if n % 3 else two).sendto(b"<13>n%d" % n, ("127.0.0.1", ports.udp))
            await wait_lines(spool, 30)
            names = {f"syslog+udp://127.0.0.1:{s.getsockname()[1]}": s for s in (one, two)}
        chunks = read_all(spool)
        assert {chunk.origin for chunk in chunks} == set(names)
        for chunk in chunks:
            from_one = names[chunk.origin] is one
            numbers = [int(line[5:]) for line in chunk.payload.split(b"\n")[:-1]]
            assert all((n % 3 != 0) is from_one for n in numbers)
        assert max(chunk.payload.count(b"\n") for chunk in chunks) <= 8

    server = run(spool, scenario, chunk_messages=8)
    assert server.counters["syslog-udp"].accepted == 30


def test_tcp_framings_mixed_and_cut_at_awkward_places(spool: Spool) -> None:
    stream = (b"<13>newline one\n17 <13>octet\ncounted"
              b"<14>crlf\r\n" + b"25 <165>1 - h a - - - split\n")
    cuts = [1, 2, 17, 21, 24, 30, len(stream) - 5]

    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        _, writer = await connect(ports.tcp)
        start = 0
        for cut in [*cuts, len(stream)]:
            writer.write(stream[start:cut])
            await writer.drain()
            await asyncio.sleep(0.02)
            start = cut
        lines = await wait_lines(spool, 4)
        assert lines == [b"<13>newline one", b"<13>octet#012counted", b"<14>crlf",
                         b"<165>1 - h a - - - split"]
        chunk = read_all(spool)[0]
        peer = writer.get_extra_info("sockname")
        assert chunk.origin == f"syslog+tcp://127.0.0.1:{peer[1]}"
        await close(writer)

    server = run(spool, scenario)
    counters = server.counters["syslog-tcp"]
    assert (counters.received, counters.accepted, counters.rejected) == (4, 4, 0)
    assert counters.bytes == len(stream)
    assert counters.connections == 1
    assert counters.open_connections == 0


def test_messages_are_batched_into_chunks(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        _, writer = await connect(ports.tcp)
        writer.write(b"".join(b"<13>message %d\n" % n for n in range(250)))
        await writer.drain()
        assert len(await wait_lines(spool, 250)) == 250
        await close(writer)

    run(spool, scenario, chunk_messages=100)
    chunks = read_all(spool)
    assert [chunk.payload.count(b"\n") for chunk in chunks][:2] == [100, 100]
    assert lines_of(chunks) == [b"<13>message %d" % n for n in range(250)]


def test_a_trickling_sender_is_written_within_the_flush_delay(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        _, writer = await connect(ports.tcp)
        sent = 0
        while not read_all(spool) and sent < 300:  # a message every 10 ms, for 3 s at most
            writer.write(b"<13>tick %d\n" % sent)
            await writer.drain()
            sent += 1
            await asyncio.sleep(0.01)
        assert read_all(spool), "nothing written while the sender kept sending"
        assert sent < 300
        await close(writer)

    run(spool, scenario, flush_delay=0.05)
    assert lines_of(read_all(spool))[0] == b"<13>tick 0"


def test_an_oversized_frame_goes_to_dead_letters_and_the_connection_survives(
        spool: Spool) -> None:
    dead = MemoryDeadLetters()

    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        _, writer = await connect(ports.tcp)
        writer.write(b"<13>" + b"A" * 2000 + b"\n<13>after\n600 <13>" + b"B" * 596
                     + b"1x <13>bad count\n<13>still here\n")
        await writer.drain()
        assert await wait_lines(spool, 2) == [b"<13>after", b"<13>still here"]
        await close(writer)

    server = run(spool, scenario, dead_letters=dead, max_message_bytes=512)
    assert [(d.receiver, d.reason) for d in dead.letters] == [
        ("syslog-tcp", too_long(512)), ("syslog-tcp", too_long(512)),
        ("syslog-tcp", "octet count is not a number")]
    assert dead.letters[0].origin.startswith("syslog+tcp://127.0.0.1:")
    assert dead.letters[0].raw.startswith(b"<13>AAAA")
    counters = server.counters["syslog-tcp"]
    assert (counters.received, counters.accepted, counters.rejected) == (5, 2, 3)


def test_stop_writes_what_was_taken_off_the_sockets(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        _, writer = await connect(ports.tcp)
        writer.write(b"<13>pending one\n<13>pending two\n")
        await writer.drain()
        counters = server.counters["syslog-tcp"]
        while counters.received < 2:
            await asyncio.sleep(0.01)
        assert read_all(spool) == []  # the flush delay has not passed yet
        await server.stop()  # the connection is still open
        await close(writer)

    run(spool, scenario, flush_delay=60.0)
    assert lines_of(read_all(spool)) == [b"<13>pending one", b"<13>pending two"]


def test_udp_drops_and_counts_while_the_spool_is_full(tmp_path: Path) -> None:
    with Spool(tmp_path, max_backlog_bytes=100) as spool:
        spool.append("syslog", "filler", b"x" * 200 + b"\n")

        async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
            port = ports.udp
            assert port is not None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for n in range(5):
                    sender.sendto(b"<13>dropped %d" % n, ("127.0.0.1", port))
                counters = server.counters["syslog-udp"]
                while counters.received < 5:
                    await asyncio.sleep(0.01)
            spool.release(1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.sendto(b"<13>kept", ("127.0.0.1", port))
                assert (await wait_lines(spool, 2))[-1] == b"<13>kept"

        server = run(spool, scenario)
    counters = server.counters["syslog-udp"]
    assert (counters.received, counters.dropped, counters.accepted) == (6, 5, 1)


def test_connections_over_the_limit_are_refused(spool: Spool) -> None:
    async def scenario(server: SyslogServer, ports: BoundPorts) -> None:
        port = ports.tcp
        _, first = await connect(port)
        first.write(b"<13>from the first\n")
        await first.drain()
        await wait_lines(spool, 1)
        second_reader, second = await connect(port)
        assert await asyncio.wait_for(second_reader.read(), 5) == b""  # closed by the server
        await close(second)
        await close(first)

    server = run(spool, scenario, max_connections=1)
    counters = server.counters["syslog-tcp"]
    assert (counters.connections, counters.refused_connections) == (1, 1)


def test_a_tls_port_needs_a_context(spool: Spool) -> None:
    with pytest.raises(UsageError, match="certificate"):
        SyslogServer(spool, tls_port=0)
