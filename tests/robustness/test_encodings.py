"""Text that is not UTF-8 is carried, never fatal (decision 21): piped input, script files,
the command line, a server's lone surrogates; both history backends store the run."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from servers import openai_stream, script, serving

from aish.encoding import clean, decode, first_bad
from aish.testing import agent_toml, run_aish
from aish_refserver import RefServer

WARNING = "aish: warning: {} is not UTF-8 (first bad byte at offset {}); shown as U+FFFD\n"


def run_bytes(
    *args: str | bytes, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_decode_and_clean() -> None:
    assert decode(b"caf\xc3\xa9") == ("caf\xe9", None)
    assert decode(b"ab\xffcd") == ("ab\ufffdcd", 2)
    assert clean("a\udce9b\ud800") == "a\ufffdb\ufffd" and clean("plain") == "plain"
    assert first_bad("\u4e16\udce9") == 3 and first_bad("ok") is None


def test_random_bytes_piped_into_an_agent_answer_with_one_warning(demo_url: str, history_backend: str) -> None:
    noise = random.Random(13).randbytes(200_000)
    result = run_bytes("athena", "hi", stdin=noise)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    first = decode(noise)[1]
    assert result.stderr.decode() == WARNING.format("standard input", first)
    assert result.stdout.startswith(b"Athena (offline demo):")
    shown = run_aish("history", "show", "1")
    assert shown.returncode == 0 and "athena hi" in shown.stdout, shown.stderr
    assert "surrogates" not in shown.stderr + result.stderr.decode()


def test_a_script_file_with_a_latin1_byte_runs(demo_url: str, tmp_path: Path, history_backend: str) -> None:
    path = tmp_path / "cafe.aish"
    path.write_bytes(b"echo caf\xe9\necho caf\xe9 | athena\n")
    result = run_bytes(str(path), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.decode() == WARNING.format(path, 8)
    assert result.stdout.startswith("caf\ufffd\n".encode())
    listed = run_aish("history")
    assert listed.returncode == 0 and listed.stderr == ""
    assert "complete     echo caf\ufffd" in listed.stdout  # the script is one run


def test_undecodable_bytes_on_the_command_line(demo_url: str, history_backend: str) -> None:
    result = run_bytes("-c", b"echo caf\xe9 | cat")
    assert (result.returncode, result.stdout) == (0, "caf\ufffd\n".encode())
    assert result.stderr.decode() == WARNING.format("the command line", 8)
    listed = run_aish("history")
    assert "echo caf\ufffd | cat" in listed.stdout and listed.stderr == ""


def test_a_server_sending_lone_surrogates_is_shown_and_stored(write_config, history_backend: str) -> None:  # type: ignore[no-untyped-def]
    def delta(text: str) -> bytes:  # json.dumps escapes a lone surrogate as \udXXX, as a hostile server would
        return b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"

    events = [*openai_stream()[:1], delta("caf\udce9 "), delta("\ud800done"), *openai_stream()[-2:]]
    with serving(script(events)) as server:
        config = write_config(f'[settings]\nhistory = "{history_backend}"\n' + agent_toml("bot", server.url))
        result = run_aish("--config", str(config), "-c", "bot hi")
        assert result.returncode == 0, result.stderr
        assert result.stdout == "caf\ufffd \ufffddone\n" and result.stderr == ""
        shown = run_aish("--config", str(config), "history", "show", "1")
    assert "caf\ufffd \ufffddone" in shown.stdout and shown.stderr == ""


def test_the_reference_server_refuses_a_lone_surrogate_in_one_answer(capfd: pytest.CaptureFixture[str]) -> None:
    body = json.dumps({"model": "athena", "stream": True, "messages": [{"role": "user", "content": "caf\udce9"}]})
    with RefServer(pace=0.0) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode()
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert b"invalid_unicode" in reply
    assert capfd.readouterr().err == ""


def test_the_environment_keeps_the_locale_out_of_it(demo_url: str) -> None:
    """Under the C locale too, piped bytes are decoded by aish's policy, not by the locale."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "aish", "-c", "cat"],
        input="caf\xe9 \u4e16\u754c\n".encode(),
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "caf\xe9 \u4e16\u754c\n".encode(), b"")


def test_undecodable_words_after_an_agent_are_counted_from_the_agent(demo_url: str, refserver: RefServer) -> None:
    """The offset counts in the words as given, joined by spaces: ``athena caf?`` has its bad byte at 10."""
    result = run_bytes("athena", b"caf\xe9", "owls")
    assert result.returncode == 0 and result.stdout.startswith(b"Athena (offline demo):")
    assert result.stderr.decode() == WARNING.format("the command line", 10)
    assert refserver.requests[-1].body["messages"][-1]["content"] == "caf\ufffd owls"


def test_an_undecodable_first_word_is_cleaned_and_counted(
    demo_url: str, refserver: RefServer, write_config, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The first word is the target: a name to look up, else the start of a question to the default agent."""
    monkeypatch.setenv("AISH_CONFIG", str(write_config('[settings]\nhistory = "off"\ndefault_agent = "athena"\n')))
    result = run_bytes(b"caf\xe9", "owls")
    assert result.returncode == 0 and result.stdout.startswith(b"Athena (offline demo):")
    assert result.stderr.decode() == WARNING.format("the command line", 3)
    assert refserver.requests[-1].body["messages"][-1]["content"] == "caf\ufffd owls"
    unknown = run_bytes(b"ath\xe9na", "-m", "x", "owls")
    assert unknown.returncode != 0
    warning, error = unknown.stderr.decode().splitlines()
    assert warning == WARNING.format("the command line", 3).rstrip("\n")
    assert "ath\ufffdna" in error and "\\udce9" not in error and "\\xe9" not in error


def test_a_script_whose_name_is_not_utf8_still_runs(demo_url: str, tmp_path: Path) -> None:
    """Its name is shown cleaned, but the file is opened by the bytes given."""
    path = os.fsencode(tmp_path) + b"/caf\xe9.aish"
    Path(os.fsdecode(path)).write_text("echo ok\n", encoding="utf-8")
    result = run_bytes(path)
    assert (result.returncode, result.stdout) == (0, b"ok\n"), result.stderr
    assert result.stderr.decode() == WARNING.format("the command line", len(path) - 6)
