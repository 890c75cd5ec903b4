"""Bytes through programs, files and aish's output, unchanged; text only where an agent takes it.

Found in a tour: ``aish -c 'head -c 3000 bin.dat | wc -c'`` said 5462. Every
program's output was decoded as UTF-8 (U+FFFD for each bad byte) and encoded
again, between programs and into ``> FILE``, and ``< FILE`` and ``cat FILE``
were read as text. Real processes, real files and real pipes here.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from aish.app import App
from aish.pipeline.progress import Progress
from aish.runner import Runner
from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]

# every byte value, \r and \r\n (text mode would turn them into \n) and lone continuation bytes among them
DATA = bytes(range(256)) + b"a\r\nb\rc\xc3\xa9\xff\xfe\x80" + random.Random(7).randbytes(20_000)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "bin.dat").write_bytes(DATA)
    return tmp_path


def aish(line: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``aish -c LINE`` in a process of its own, its output a real pipe."""
    return subprocess.run(
        [sys.executable, "-m", "aish", "-c", line],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode() + b"  -\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("head -c 3000 bin.dat | sha256sum", sha(DATA[:3000])),
        ("head -c 3000 bin.dat | wc -c", b"3000\n"),
        ("head -c 3000 bin.dat | tail -c 1000 | sha256sum", sha(DATA[2000:3000])),  # three programs
        ("sha256sum < bin.dat", sha(DATA)),
        ("cat bin.dat | sha256sum", sha(DATA)),
        ("cat bin.dat bin.dat | sha256sum", sha(DATA + DATA)),
        ("cat < bin.dat | cat | sha256sum", sha(DATA)),
        ("cat bin.dat", DATA),  # to aish's own output, a pipe
        ("head -c 3000 bin.dat", DATA[:3000]),
        ("!cat bin.dat", DATA),
    ],
)
def test_bytes_pass_through_programs_files_and_pipes_unchanged(line: str, expected: bytes, data_dir: Path) -> None:
    done = aish(line, data_dir)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == expected


@pytest.mark.parametrize(
    "line",
    [
        "head -c 100000 bin.dat > copy.dat",
        "cat bin.dat > copy.dat",
        "cat < bin.dat > copy.dat",
        "tr x x < bin.dat > copy.dat",
    ],
)
def test_a_programs_bytes_into_a_file(line: str, data_dir: Path) -> None:
    (data_dir / "copy.dat").write_bytes(b"old")
    done = aish(line, data_dir)
    assert (done.returncode, done.stderr) == (0, b"")
    assert (data_dir / "copy.dat").read_bytes() == DATA


def test_a_programs_bytes_appended_to_a_file(data_dir: Path) -> None:
    done = aish("head -c 1000 bin.dat > copy.dat; tail -c +1001 bin.dat >> copy.dat", data_dir)
    assert (done.returncode, done.stderr) == (0, b"")
    assert (data_dir / "copy.dat").read_bytes() == DATA


def test_a_program_that_stops_reading_ends_the_one_before(data_dir: Path) -> None:
    """An OS pipe between them: ``yes`` gets SIGPIPE when ``head`` exits; the status is head's."""
    done = aish("yes | head -c 4", data_dir)
    assert (done.returncode, done.stdout) == (0, b"y\ny\n")
    cut = subprocess.run(  # the pipeline's own output closed early: it ends as under a shell
        f"{sys.executable} -m aish -c 'yes' | head -c 4", shell=True, capture_output=True, cwd=data_dir, timeout=60
    )
    assert cut.stdout == b"y\ny\n"


def test_in_process_output_to_a_real_file(make_app: Callable[..., App], tmp_path: Path) -> None:
    (tmp_path / "bin.dat").write_bytes(DATA)
    with open(tmp_path / "out.dat", "w", encoding="utf-8") as out:
        out.write("before\n")  # text aish wrote first stays first
        runner = Runner(make_app(), out=out, err=io.StringIO())
        assert runner.run_source(f"head -c 100000 {tmp_path / 'bin.dat'}") == 0
        assert runner.run_source(f"cat {tmp_path / 'bin.dat'}") == 0
    assert (tmp_path / "out.dat").read_bytes() == b"before\n" + DATA + DATA


def test_a_program_into_an_agent_is_text_with_one_warning(
    run_line: Run, refserver: RefServer, agents_toml: str
) -> None:
    result = run_line(r"printf 'caf\351 \303\251t\303\251' | athena", agents_toml)
    assert result.status == 0, result.err
    assert refserver.requests[0].body["messages"][-1]["content"] == "caf\ufffd \xe9t\xe9"
    warning = "aish: warning: the output of printf is not UTF-8 (first bad byte at offset 3); shown as U+FFFD\n"
    assert result.err == warning


def test_a_character_split_between_two_reads_is_kept_whole(
    run_line: Run, refserver: RefServer, agents_toml: str, tmp_path: Path
) -> None:
    probe = tmp_path / "split.py"
    probe.write_text(
        "import sys, time\nout = sys.stdout.buffer\nout.write(b'caf\\xc3'); out.flush(); time.sleep(0.2)\n"
        "out.write(b'\\xa9 ok'); out.flush()\n"
    )
    result = run_line(f"{sys.executable} {probe} | athena", agents_toml)
    assert (result.status, result.err) == (0, "")
    assert refserver.requests[0].body["messages"][-1]["content"] == "caf\xe9 ok"


def test_a_file_into_an_agent_is_still_its_text(
    run_line: Run, refserver: RefServer, agents_toml: str, tmp_path: Path
) -> None:
    (tmp_path / "t.txt").write_bytes(b"line one\r\nline two\n")
    result = run_line(f"athena < {tmp_path / 't.txt'}; cat {tmp_path / 't.txt'} | athena", agents_toml)
    assert result.status == 0, result.err
    assert [r.body["messages"][-1]["content"] for r in refserver.requests] == ["line one\nline two\n"] * 2


def test_the_status_line_counts_a_programs_bytes_as_characters(tmp_path: Path) -> None:
    err = io.StringIO()
    with open(tmp_path / "out.dat", "w", encoding="utf-8") as file:
        shown = Progress(file, err, "out.dat", clock=iter(range(100)).__next__, width=80)
        shown.buffer.write("café \u4e16".encode() + b"\xff")
        shown.close()
    assert (tmp_path / "out.dat").read_bytes() == "café \u4e16".encode() + b"\xff"
    assert "7 characters" in err.getvalue()


@pytest.fixture
def shell(refserver: RefServer, tmp_path: Path) -> Iterator[pexpect.spawn]:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "aish"], env=env, cwd=str(tmp_path), encoding="utf-8", timeout=20, dimensions=(40, 120)
    )
    child.expect_exact("aish>")
    try:
        yield child
    finally:
        child.close(force=True)


def test_in_the_shell_programs_piped_together_pass_bytes(shell: pexpect.spawn, tmp_path: Path) -> None:
    """The tour's ``printf 'caf\\xe9' | od -c`` showed ``357 277 275`` (U+FFFD) for the byte."""
    shell.sendline(r"printf 'caf\351!' | od -An -tx1")
    shell.expect(r"63 61 66 (\w\w) ")
    assert shell.match.group(1) == "e9"
    shell.expect_exact("aish>")
    (tmp_path / "bin.dat").write_bytes(DATA)
    shell.sendline(f"head -c 5000 {tmp_path / 'bin.dat'} | tail -c +1001 | wc -c")
    shell.expect(r"(\d+)\r\n")
    assert shell.match.group(1) == "4000"
