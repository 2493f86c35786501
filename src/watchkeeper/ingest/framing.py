"""Syslog framing: cutting a TCP (or TLS) byte stream into messages, and messages into lines.

Both framings of RFC 6587 are read on one connection, decided frame by frame by the
first byte: a digit starts octet counting (``<len> <msg>``, the framing of RFC 5425
over TLS), anything else is a message ended by ``\\n`` (a final ``\\r`` dropped).
Memory is bounded by ``max_message_bytes``: a longer frame is rejected, and its bytes
are thrown away as they arrive.

In the spool a chunk holds one message per line, so a message's own line breaks are
written as rsyslog writes control characters: ``#012`` for LF and ``#015`` for CR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_LF = 0x0A
_MAX_COUNT_DIGITS = 10
_DIGITS = frozenset(b"0123456789")

NOT_A_NUMBER = "octet count is not a number"
ZERO_COUNT = "octet count is zero"
TRUNCATED = "connection closed inside an octet-counted frame"


def too_long(limit: int) -> str:
    return f"message longer than {limit} bytes"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A frame that was not accepted: why, and its first bytes."""

    reason: str
    raw: bytes


@dataclass(slots=True)
class Decoded:
    """What one call to :meth:`FrameDecoder.feed` found, in stream order per kind."""

    messages: list[bytes] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def to_line(message: bytes) -> bytes:
    """A message as one spool line: trailing line ends and NULs dropped, inner LF and CR
    escaped as ``#012`` and ``#015``. Empty when nothing is left."""
    message = message.rstrip(b"\r\n\0")
    if b"\n" in message or b"\r" in message:
        message = message.replace(b"\n", b"#012").replace(b"\r", b"#015")
    return message


class FrameDecoder:
    """Incremental decoder of one connection's stream: :meth:`feed` bytes as they come,
    :meth:`finish` at end of stream."""

    def __init__(self, max_message_bytes: int = 64 << 10) -> None:
        self.max_message_bytes = max_message_bytes
        self._buf = bytearray()
        self._pos = 0  # start of the frame being decoded
        self._scan = 0  # where the search for the next LF resumes
        self._body = -1  # length of the octet-counted body being read, -1 when none
        self._skip = 0  # bytes still to throw away (an oversized octet-counted frame)
        self._discard = False  # throwing bytes away up to the next LF
        self._reason: str | None = None  # the frame being read is to be rejected, and why

    @property
    def buffered(self) -> int:
        """Bytes held, waiting for the rest of their frame (at most about the limit)."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> Decoded:
        out = Decoded()
        self._buf += data
        while self._step(out):
            pass
        if self._pos > 0:
            del self._buf[: self._pos]
            self._scan -= self._pos
            self._pos = 0
        return out

    def finish(self) -> Decoded:
        """End of stream: an unterminated last line is a message; a cut octet frame is not."""
        out = Decoded()
        rest = bytes(self._buf[self._pos :])
        if self._body >= 0 or (rest and self._reason is None and self._scan <= self._pos
                               and rest[0] in _DIGITS):
            out.rejected.append(Rejected(TRUNCATED, rest))
        elif self._reason is not None:
            out.rejected.append(Rejected(self._reason, rest))
        elif rest and not self._discard and self._skip == 0:
            self._emit(out, rest)
        self._buf.clear()
        self._pos = self._scan = self._skip = 0
        self._body = -1
        self._discard = False
        self._reason = None
        return out

    def _step(self, out: Decoded) -> bool:
        """Decode one frame (or throw bytes away); False when more input is needed."""
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if self._skip:
            taken = min(self._skip, available)
            self._skip -= taken
            self._pos += taken
            return self._skip == 0 and taken > 0
        if self._body >= 0:
            if available < self._body:
                return False
            self._emit(out, bytes(buf[pos : pos + self._body]))
            self._pos += self._body
            self._body = -1
            return True
        if available == 0:
            return False
        if self._discard:
            return self._discard_line()
        if self._reason is None and self._scan <= pos and buf[pos] in _DIGITS:
            return self._octet_count(out)
        return self._line(out)

    def _octet_count(self, out: Decoded) -> bool:
        buf, pos = self._buf, self._pos
        space = buf.find(b" ", pos, pos + _MAX_COUNT_DIGITS + 1)
        if space < 0:
            head = bytes(buf[pos : pos + _MAX_COUNT_DIGITS + 1])
            if len(head) <= _MAX_COUNT_DIGITS and all(byte in _DIGITS for byte in head):
                return False  # the count may go on in the next segment
            self._reason = NOT_A_NUMBER
            return True
        digits = bytes(buf[pos:space])
        if not digits.isdigit():
            self._reason = NOT_A_NUMBER
            return True
        count = int(digits)
        self._pos = space + 1
        self._scan = self._pos
        if count == 0:
            out.rejected.append(Rejected(ZERO_COUNT, digits + b" "))
        elif count > self.max_message_bytes:
            end = min(len(buf), self._pos + self.max_message_bytes)
            out.rejected.append(Rejected(too_long(self.max_message_bytes),
                                         bytes(buf[self._pos : end])))
            self._skip = count
        else:
            self._body = count
        return True

    def _line(self, out: Decoded) -> bool:
        buf, pos = self._buf, self._pos
        newline = buf.find(b"\n", max(pos, self._scan))
        if newline < 0:
            self._scan = len(buf)
            if len(buf) - pos <= self.max_message_bytes:
                return False
            out.rejected.append(Rejected(too_long(self.max_message_bytes),
                                         bytes(buf[pos : pos + self.max_message_bytes])))
            self._pos = self._scan = len(buf)
            self._reason = None
            self._discard = True
            return False
        frame = bytes(buf[pos:newline])
        self._pos = self._scan = newline + 1
        reason, self._reason = self._reason, None
        if len(frame) > self.max_message_bytes:
            out.rejected.append(Rejected(too_long(self.max_message_bytes),
                                         frame[: self.max_message_bytes]))
        elif reason is not None:
            out.rejected.append(Rejected(reason, frame))
        else:
            self._emit(out, frame)
        return True

    def _discard_line(self) -> bool:
        newline = self._buf.find(b"\n", self._pos)
        if newline < 0:
            self._pos = self._scan = len(self._buf)
            return False
        self._pos = self._scan = newline + 1
        self._discard = False
        return True

    @staticmethod
    def _emit(out: Decoded, message: bytes) -> None:
        line = to_line(message)
        if line:
            out.messages.append(line)
