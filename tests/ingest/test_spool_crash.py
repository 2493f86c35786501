"""kill -9 in the middle of appends loses no acknowledged chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from watchkeeper.ingest.spool import Spool

from .helpers import read_all

WRITER = """
import sys, threading
from pathlib import Path
from watchkeeper.ingest.spool import Spool

spool = Spool(Path(sys.argv[1]), segment_bytes=16 << 10)
out = threading.Lock()

def produce(thread):
    index = 0
    while True:
        payload = b"thread %d message %d\\n" % (thread, index)
        seq = spool.append("syslog", "crash-test", payload * (1 + index % 7))
        with out:
            sys.stdout.write(f"{seq} {thread} {index}\\n")
            sys.stdout.flush()
        index += 1

for thread in range(4):
    threading.Thread(target=produce, args=(thread,), daemon=True).start()
threading.Event().wait()
"""


def test_every_acknowledged_chunk_survives_kill_9(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)],
                             stdout=subprocess.PIPE)
    assert child.stdout is not None
    acknowledged: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while len(acknowledged) < 1500 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    acknowledged.extend(line + b"\n" for line in rest.split(b"\n")[:-1])  # whole lines only
    assert len(acknowledged) >= 1500

    with Spool(folder) as spool:
        found = {chunk.seq: chunk.payload for chunk in read_all(spool)}
        next_seq = spool.append("syslog", "after", b"x")
    for line in acknowledged:
        seq, thread, index = (int(part) for part in line.split())
        payload = b"thread %d message %d\n" % (thread, index)
        assert found.get(seq) == payload * (1 + index % 7), f"acknowledged seq {seq} lost"
    assert next_seq > max(found)
