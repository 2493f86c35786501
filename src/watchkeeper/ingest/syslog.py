"""The syslog receivers: UDP, TCP and TLS servers writing to the spool.

They run in the event loop of the web server. Messages of one connection (of one
sender, for UDP) are gathered into chunks of ``source_type="syslog"``, one message a
line, and appended to the spool when ``chunk_messages`` or ``chunk_bytes`` is reached,
or ``flush_delay`` after the first one. Syslog has no acknowledgement: a message is
safe once its chunk is in the spool. While the spool is full a TCP connection is not
read, so the sender's window closes and it slows down; UDP drops and counts.

    server = SyslogServer(spool, udp_port=5514, tcp_port=5514)
    ports = await server.start()      # port 0 picks a free one
    ...
    await server.stop()               # writes what was taken off the sockets
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.errors import UsageError
from watchkeeper.ingest.batching import LineBatch, room, store
from watchkeeper.ingest.counters import DeadLetterSink, MemoryDeadLetters, ReceiverCounters
from watchkeeper.ingest.framing import Decoded, FrameDecoder
from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.udp import RECEIVER as UDP_RECEIVER
from watchkeeper.ingest.udp import UdpReceiver, peer_text

logger = logging.getLogger(__name__)

READ_BYTES = 64 << 10
CLOSE_TIMEOUT = 2.0
UDP_RECEIVE_BUFFER = 8 << 20


@dataclass(frozen=True, slots=True)
class BoundPorts:
    """The ports the receivers listen on (None: that receiver is off)."""

    udp: int | None = None
    tcp: int | None = None
    tls: int | None = None


def server_tls_context(cert_file: Path, key_file: Path, *,
                       client_ca_file: Path | None = None) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2 or later) from PEM files; with
    ``client_ca_file``, clients must present a certificate signed by that CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca_file is not None:
        context.load_verify_locations(client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class SyslogServer:
    """UDP, TCP and TLS syslog receivers on one address; a port of None turns one off."""

    def __init__(self, spool: Spool, *, host: str = "127.0.0.1", udp_port: int | None = None,
                 tcp_port: int | None = None, tls_port: int | None = None,
                 tls: ssl.SSLContext | None = None, dead_letters: DeadLetterSink | None = None,
                 max_message_bytes: int = 64 << 10, chunk_messages: int = 1000,
                 chunk_bytes: int = 1 << 20, flush_delay: float = 0.05,
                 max_connections: int = 1024) -> None:
        if tls_port is not None and tls is None:
            raise UsageError("a syslog TLS port needs a certificate and key")
        self.spool = spool
        self.host = host
        self.dead_letters: DeadLetterSink = dead_letters or MemoryDeadLetters()
        self.max_message_bytes = max_message_bytes
        self.chunk_messages = chunk_messages
        self.chunk_bytes = chunk_bytes
        self.flush_delay = flush_delay
        self.max_connections = max_connections
        self.counters = {name: ReceiverCounters()
                         for name in (UDP_RECEIVER, "syslog-tcp", "syslog-tls")}
        """Totals per receiver: ``syslog-udp``, ``syslog-tcp``, ``syslog-tls``."""
        self._ports = (udp_port, tcp_port, tls_port)
        self._tls = tls
        self._stopping = asyncio.Event()
        self._servers: list[asyncio.Server] = []
        self._udp: tuple[asyncio.DatagramTransport, UdpReceiver] | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._reading: set[asyncio.Task[Any]] = set()

    async def start(self) -> BoundPorts:
        """Bind and listen; returns the ports bound."""
        udp_port, tcp_port, tls_port = self._ports
        bound: dict[str, int] = {}
        try:
            if udp_port is not None:
                bound["udp"] = await self._start_udp(udp_port)
            if tcp_port is not None:
                bound["tcp"] = await self._start_stream("tcp", tcp_port, None)
            if tls_port is not None:
                bound["tls"] = await self._start_stream("tls", tls_port, self._tls)
        except BaseException:
            await self.stop()
            raise
        logger.info("syslog receivers listening on %s: %s", self.host, bound)
        return BoundPorts(**bound)

    async def stop(self) -> None:
        """Stop listening and reading, then write every message already taken to the spool."""
        self._stopping.set()
        for server in self._servers:
            server.close()
        for task in list(self._reading):
            task.cancel()
        while self._connections:
            await asyncio.wait(list(self._connections))
        if self._udp is not None:
            transport, receiver = self._udp
            transport.close()
            await receiver.drain()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _start_udp(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        receiver = UdpReceiver(self.spool, self.counters[UDP_RECEIVER], self.dead_letters,
                               self._stopping, max_message_bytes=self.max_message_bytes,
                               chunk_messages=self.chunk_messages, chunk_bytes=self.chunk_bytes,
                               flush_delay=self.flush_delay)
        transport, _ = await loop.create_datagram_endpoint(lambda: receiver,
                                                           local_addr=(self.host, port))
        self._udp = (transport, receiver)
        sock = transport.get_extra_info("socket")
        try:  # room for bursts; the kernel caps it at net.core.rmem_max
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
        except OSError as error:
            logger.debug("could not enlarge the syslog UDP receive buffer: %s", error)
        return int(transport.get_extra_info("sockname")[1])

    async def _start_stream(self, kind: str, port: int, context: ssl.SSLContext | None) -> int:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._serve(kind, reader, writer)

        server = await asyncio.start_server(serve, self.host, port, ssl=context,
                                            limit=READ_BYTES)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def _serve(self, kind: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        """One connection: read, decode, batch, store; not read while the spool is full."""
        receiver = f"syslog-{kind}"
        counters = self.counters[receiver]
        origin = f"syslog+{kind}://{peer_text(writer.get_extra_info('peername'))}"
        if self._stopping.is_set() or counters.open_connections >= self.max_connections:
            counters.refused_connections += 1
            await _close(writer)
            return
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - asyncio always runs callbacks in a task
            raise RuntimeError("a syslog connection must be served in a task")
        self._connections.add(task)
        counters.connections += 1
        counters.open_connections += 1
        decoder = FrameDecoder(self.max_message_bytes)
        batch = LineBatch(self.chunk_messages, self.chunk_bytes)
        loop = asyncio.get_running_loop()
        due = 0.0  # when the oldest message of the batch must be written
        try:
            while not self._stopping.is_set():
                await room(self.spool, self._stopping)
                wait = max(0.0, due - loop.time()) if batch else None
                data = await self._read(task, reader, timeout=wait)
                if data is None:  # the batch is old enough, or the server is stopping
                    await self._store(origin, batch, counters)
                    continue
                if not batch:
                    due = loop.time() + self.flush_delay
                if not data:
                    self._take(decoder.finish(), batch, receiver, origin, counters)
                    break
                counters.bytes += len(data)
                self._take(decoder.feed(data), batch, receiver, origin, counters)
                if batch.full:
                    await self._store(origin, batch, counters, full_only=True)
                if batch and loop.time() >= due:
                    await self._store(origin, batch, counters)
        except (ConnectionError, ssl.SSLError) as error:
            logger.debug("%s: connection lost: %s", origin, error)
        finally:
            await self._store(origin, batch, counters)
            counters.open_connections -= 1
            self._connections.discard(task)
            await _close(writer)

    async def _read(self, task: asyncio.Task[Any], reader: asyncio.StreamReader, *,
                    timeout: float | None) -> bytes | None:
        """The next bytes (b"" at end of stream), or None on timeout or when stopped."""
        if self._stopping.is_set():
            return None
        self._reading.add(task)
        try:
            async with asyncio.timeout(timeout):
                return await reader.read(READ_BYTES)
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            task.uncancel()
            return None
        finally:
            self._reading.discard(task)

    async def _store(self, origin: str, batch: LineBatch, counters: ReceiverCounters, *,
                     full_only: bool = False) -> None:
        await store(self.spool, "syslog", origin, batch, counters, wait=True,
                    stopping=self._stopping, full_only=full_only)

    def _take(self, decoded: Decoded, batch: LineBatch, receiver: str, origin: str,
              counters: ReceiverCounters) -> None:
        counters.received += len(decoded.messages) + len(decoded.rejected)
        for line in decoded.messages:
            batch.add(line)
        for rejected in decoded.rejected:
            counters.rejected += 1
            self.dead_letters.put(receiver, origin, rejected.reason, rejected.raw)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (OSError, ssl.SSLError, TimeoutError) as error:
        logger.debug("closing a syslog connection: %s", error)
