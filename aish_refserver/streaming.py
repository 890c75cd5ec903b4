"""Writing one streamed reply, whatever its dialect: fast when well-behaved, faulty on request.

A :class:`Reply` is a dialect's events in order: a few opening events, one
per token, a few closing ones. :class:`Streamer` writes them to a connection:
unpaced replies in writes of about 64 KiB, paced ones on a deadline schedule,
and replies with faults (:mod:`aish_refserver.faults`) event by event, with
ids, drops, stalls, heartbeats, malformed events and drips as asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from .faults import Faults

BATCH_BYTES = 64 * 1024
"""With no pacing, events are gathered into writes of about this size."""

HEARTBEAT = b": ping\n\n"


class StreamAborted(Exception):
    """The server is stopping while a reply is being streamed."""


@dataclass
class Reply:
    """The events of one reply: ``head``, one ``content(token)`` per token, ``tail``."""

    head: list[bytes]
    content: Callable[[str], bytes]
    tokens: Callable[[], Iterator[str]]
    count: int
    tail: list[bytes]
    malformed: bytes = b'data: {"choices": [{"delta": \n\n'

    @property
    def total(self) -> int:
        """How many events the whole reply has."""
        return len(self.head) + self.count + len(self.tail)

    def events(self, start: int = 0) -> Iterator[tuple[int, bool, bytes]]:
        """``(index, is_content, event)`` from event ``start`` on."""
        head = len(self.head)
        for index in range(start, head):
            yield index, False, self.head[index]
        skip = max(0, start - head)
        content = self.content
        for index, token in enumerate(islice(self.tokens(), skip, None), head + skip):
            yield index, True, content(token)
        first_tail = head + self.count
        for index in range(max(start, first_tail), first_tail + len(self.tail)):
            yield index, False, self.tail[index - first_tail]


class Streamer:
    """Writes replies to one connection. ``frame`` wraps each write (chunked transfer coding)."""

    def __init__(self, write: Callable[[bytes], object], frame: Callable[[bytes], bytes], stopping: threading.Event):
        self.write = write
        self.frame = frame
        self.stopping = stopping

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.stopping.wait(seconds):
            raise StreamAborted

    def plain(self, reply: Reply, pace: float, end: bytes = b"") -> None:
        """A well-behaved reply: batched when unpaced, else one event per ``pace`` seconds; then ``end``."""
        frame, write = self.frame, self.write
        pending = [frame(e) for e in reply.head]
        if pace > 0:
            write(b"".join(pending))
            pending = []
            start = time.monotonic()
            for i, token in enumerate(reply.tokens(), 1):
                self._wait(start + i * pace - time.monotonic())
                if self.stopping.is_set():
                    raise StreamAborted
                write(frame(reply.content(token)))
        else:
            size = sum(map(len, pending))
            content = reply.content
            for token in reply.tokens():
                data = frame(content(token))
                pending.append(data)
                size += len(data)
                if size >= BATCH_BYTES:
                    if self.stopping.is_set():
                        raise StreamAborted
                    write(b"".join(pending))
                    pending.clear()
                    size = 0
        pending += [frame(e) for e in reply.tail]
        pending.append(end)
        write(b"".join(pending))

    def faulty(self, reply: Reply, pace: float, faults: Faults, *, start: int = 0, sid: str = "") -> bool:
        """Write ``reply`` from event ``start`` with ``faults``; False when it dropped the connection."""
        if faults.retry is not None:
            self._send(b"retry: %d\n\n" % faults.retry, faults)
        if faults.heartbeats > 0:
            until = time.monotonic() + faults.heartbeats
            while time.monotonic() < until:
                self._send(HEARTBEAT, faults)
                self._wait(min(faults.heartbeat_every, until - time.monotonic()))
        malformed = stalled = False
        began = time.monotonic()
        paced = 0
        tag = sid.encode()
        for written, (index, is_content, event) in enumerate(reply.events(start)):
            if faults.drop_after is not None and written >= faults.drop_after:
                return False
            if faults.malformed_after is not None and written >= faults.malformed_after and not malformed:
                self._send(reply.malformed, faults)
                malformed = True
            if faults.stall > 0 and written >= faults.stall_after and not stalled:
                self._wait(faults.stall)
                stalled = True
            if is_content and pace > 0:
                paced += 1
                self._wait(began + paced * pace - time.monotonic())
            if faults.tagged:
                event = b"id: %b:%d\n%b" % (tag, index, event)
            self._send(event, faults)
        return True

    def _send(self, data: bytes, faults: Faults) -> None:
        if self.stopping.is_set():
            raise StreamAborted
        if faults.drip <= 0:
            self.write(self.frame(data))
            return
        step = faults.drip_bytes
        for i in range(0, len(data), step):
            if i:
                self._wait(faults.drip)
            self.write(self.frame(data[i : i + step]))
