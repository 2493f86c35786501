"""Taking input in: the write-ahead spool and the receivers that fill it.

    spool = Spool(data_dir / "spool")
    seq = spool.append("syslog", "file:/var/log/syslog", b"<13>Jan  1 00:00:00 h a: x\\n")
    for chunk in spool.read(after=0, max_bytes=1 << 20): ...
    spool.release(seq)                     # the events of chunks <= seq are stored

Receivers append raw input (``SyslogServer`` over UDP, TCP and TLS; ``FileTailer``
for log files; the HTTP ingest route) and acknowledge it only once the spool has it
on disk. The pipeline reads the spool in order and releases what it has stored. See
``docs/receivers.md``.
"""

from watchkeeper.ingest.counters import (
    DeadLetter,
    DeadLetterSink,
    MemoryDeadLetters,
    ReceiverCounters,
)
from watchkeeper.ingest.framing import FrameDecoder, to_line
from watchkeeper.ingest.spool import Chunk, Spool
from watchkeeper.ingest.syslog import BoundPorts, SyslogServer, server_tls_context
from watchkeeper.ingest.tail import FileTailer, TailSource

__all__ = [
    "BoundPorts",
    "Chunk",
    "DeadLetter",
    "DeadLetterSink",
    "FileTailer",
    "FrameDecoder",
    "MemoryDeadLetters",
    "ReceiverCounters",
    "Spool",
    "SyslogServer",
    "TailSource",
    "server_tls_context",
    "to_line",
]
