"""Reading an HTTP/1.1 response head (status line and header fields), with bounded sizes.

:func:`read_head` takes the bytes already received and a ``recv`` callable
for more, and returns the parsed :class:`Head` and the bytes after it (the
start of the body). Interim ``1xx`` answers (``100 Continue``, ``103 Early
Hints``) are skipped. Limits, as ``http.client`` sets them: a line is at most
:data:`MAX_LINE` bytes and a head at most :data:`MAX_HEADERS` fields. What
the server got wrong is raised as :class:`BadHead` (a phrase naming it, for
the caller to prefix with the URL); a connection closed before the head ends
is :class:`HeadCut`. Lines may end in CRLF or a bare LF; an obsolete folded
line continues the field before it.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the transport need not import typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MAX_LINE = 65536
MAX_HEADERS = 100
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class BadHead(Exception):
    """The response head is not valid HTTP/1.x; ``str()`` says what was wrong, in a phrase."""


class HeadCut(Exception):
    """The connection ended before the head did; ``started`` tells whether any of it had arrived."""

    def __init__(self, started: bool) -> None:
        super().__init__("the connection ended in the middle of the head" if started else "no answer")
        self.started = started


class Headers(Mapping[str, str]):
    """Header fields by case-insensitive name; a repeated field's values are joined with ``, ``."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str] | None = None) -> None:
        self._fields = fields if fields is not None else {}

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class Head:
    """A parsed status line and its header fields."""

    __slots__ = ("headers", "reason", "status", "version")

    def __init__(self, version: str, status: int, reason: str, headers: Headers) -> None:
        self.version, self.status, self.reason, self.headers = version, status, reason, headers


def read_head(recv: Callable[[], bytes], buf: bytes = b"") -> tuple[Head, bytes]:
    """The next final response head from ``buf`` and then ``recv()`` (``b""`` at the end), and the bytes after it."""
    got = bool(buf)
    pos = 0
    status_line: bytes | None = None
    lines: list[bytes] = []
    while True:
        nl = buf.find(b"\n", pos)
        if nl == -1:
            if status_line is None:
                _check_start(buf[pos:])
            if len(buf) - pos > MAX_LINE:
                raise BadHead(
                    f"{'a header line' if status_line is not None else 'a status line'} longer than {MAX_LINE} bytes"
                )
            data = recv()
            if not data:
                raise HeadCut(got)
            got = True
            buf = buf[pos:] + data if pos < len(buf) else data
            pos = 0
            continue
        if nl - pos > MAX_LINE:
            raise BadHead(
                f"{'a header line' if status_line is not None else 'a status line'} longer than {MAX_LINE} bytes"
            )
        line = buf[pos:nl]
        pos = nl + 1
        if line[-1:] == b"\r":
            line = line[:-1]
        if status_line is None:
            _check_start(line)
            status_line = line
            continue
        if line:
            if len(lines) >= MAX_HEADERS:
                raise BadHead(f"more than {MAX_HEADERS} header lines")
            lines.append(line)
            continue
        version, status, reason = parse_status_line(status_line)
        if 100 <= status < 200 and status != 101:  # an interim answer: the final one follows
            status_line, lines = None, []
            continue
        return Head(version, status, reason, parse_fields(lines)), buf[pos:]


def _check_start(start: bytes) -> None:
    """Fail at once when the first bytes cannot begin an HTTP/1.x status line (no need to wait for a line end)."""
    probe = start[:5]
    if probe and not b"HTTP/".startswith(probe):
        if probe[:1] == b"\x15" or probe[:1] == b"\x16":  # a TLS alert or handshake record
            raise BadHead("a TLS record, not HTTP (use an https:// URL)")
        raise BadHead(f"an answer that is not HTTP (it starts with {start[:40]!r})")


def parse_status_line(line: bytes) -> tuple[str, int, str]:
    """``HTTP/1.1 200 OK`` as ``("HTTP/1.1", 200, "OK")``; BadHead when it is not one."""
    version, _, rest = line.partition(b" ")
    code, _, reason = rest.lstrip(b" ").partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        if version.startswith(b"HTTP/"):
            raise BadHead(f"an HTTP version aish does not speak in its status line {line[:60]!r} (expected HTTP/1.x)")
        raise BadHead(f"a malformed status line {line[:60]!r}")
    if len(code) != 3 or not code.isdigit() or code[:1] == b"0":
        raise BadHead(f"a malformed status line {line[:60]!r} (no 3-digit status code)")
    return version.decode("ascii"), int(code), reason.strip().decode("latin-1")


def parse_fields(lines: list[bytes]) -> Headers:
    """Header lines as :class:`Headers`; BadHead naming the first malformed line."""
    fields: dict[str, str] = {}
    last = ""
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding: continues the field before
            if not last:
                raise BadHead(f"a malformed header line {line[:60]!r} (a continuation with nothing before it)")
            fields[last] = f"{fields[last]} {line.strip().decode('latin-1')}"
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t")
        if not colon or not name or not _TOKEN.issuperset(name):
            raise BadHead(f"a malformed header line {line[:60]!r}")
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in fields:
            if key == "content-length" and fields[key] != text:
                raise BadHead(f"two different Content-Length fields ({fields[key][:20]!r} and {text[:20]!r})")
            if key != "content-length":
                fields[key] = f"{fields[key]}, {text}"
        else:
            fields[key] = text
        last = key
    return Headers(fields)
