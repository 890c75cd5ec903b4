"""``aish --test``: transcripts run in a sandbox against the reference server; mismatches are diffs."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from aish.testing import run_aish
from aish.transcript import run_file
from aish.transcript.session import Merged

PASSING = """\
A passing transcript.
aish> echo hello
hello
aish> echo one; nosuch hi; echo two
one
aish: unknown agent 'nosuch' (known: apollo, athena, hermes)
two
aish> echo "a
....> b" | cat
a
b
aish> athena what is up; nosuch x
aish: unknown agent 'nosuch' (known: apollo, athena, hermes); to send ';' to the agent, quote it
aish> athena what is up && nosuch x
aish: unknown agent 'nosuch' (known: apollo, athena, hermes); to send '&&' to the agent, quote it
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_passing_transcript(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.transcript", PASSING)
    result = run_aish("--test", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"ok {path} (5 commands)\ntranscripts: 1 passed, 0 failed\n"
    assert result.stderr == ""


def test_a_failing_transcript_reports_a_diff_naming_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.transcript", "aish> echo one\none\naish> echo two; echo three\ntwo\nfour\n")
    result = run_aish("--test", "bad.transcript", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == (
        "bad.transcript:3: output differs: aish> echo two; echo three\n"
        "--- bad.transcript\n"
        "+++ bad.transcript (actual output)\n"
        "@@ -4,2 +4,2 @@\n"
        " two\n"
        "-four\n"
        "+three\n"
        "FAILED bad.transcript (1 of 2 commands)\n"
        "transcripts: 0 passed, 1 failed\n"
    )
    assert path.exists()


def test_several_files_are_each_reported_and_summed_up(tmp_path: Path) -> None:
    good = write(tmp_path, "good.transcript", "aish> echo hi\nhi\n")
    bad = write(tmp_path, "bad.transcript", "aish> echo hi\nho\n")
    result = run_aish("--test", str(good), str(bad), str(tmp_path / "missing.transcript"), str(good))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"ok {good} (1 command)"
    assert f"FAILED {bad} (1 of 1 commands)" in lines
    assert f"{tmp_path / 'missing.transcript'}: cannot read: No such file or directory" in lines
    assert f"FAILED {tmp_path / 'missing.transcript'} (could not run)" in lines
    assert lines[-1] == "transcripts: 2 passed, 2 failed"


def test_an_answer_without_a_final_newline_is_followed_by_the_error_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.transcript", "aish> athena hi; cd no-such-dir-for-aish\n")
    result = run_file(path)
    [mismatch] = result.mismatches
    assert mismatch.diff[-2].startswith("+Athena (offline demo): ") and mismatch.diff[-2].endswith(".")
    assert mismatch.diff[-1] == "+aish: cd: no-such-dir-for-aish: no such directory"


def test_an_os_commands_standard_error_is_captured_in_order(tmp_path: Path) -> None:
    """Its standard error was the real one: ``ls /missing`` showed nothing in the transcript."""
    text = (
        "aish> ls /no-such-dir-for-aish; echo after\n"
        "ls: cannot access '/no-such-dir-for-aish': No such file or directory\n"
        "after\n"
        "aish> echo hi | !cat; !'echo to-stderr >&2'\n"
        "hi\n"
        "to-stderr\n"
    )
    path = write(tmp_path, "t.transcript", text)
    result = run_aish("--test", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no-such-dir" not in result.stderr and "to-stderr" not in result.stderr


def test_merged_capture_keeps_order_and_starts_errors_on_a_new_line() -> None:
    merged = Merged()
    merged.write("err", "[status] ")
    merged.write("out", "answer")
    merged.write("err", "aish: failed\n")
    merged.write("out", "more\n")
    merged.write("err", "aish: again\n")
    assert merged.take() == "[status] answer\naish: failed\nmore\naish: again\n"
    assert merged.take() == ""


def test_each_file_runs_in_a_fresh_sandbox_that_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AISH_DEMO_URL", "http://127.0.0.1:9/v1")  # a dead server: the sandbox must not use it
    text = (
        "aish> cat notes.md\naish: cat: notes.md: no such file\naish> echo owls > notes.md\naish> cat notes.md\nowls\n"
    )
    text += "aish> athena hi\nAthena /.*/\n"
    path = write(tmp_path, "files.transcript", text)
    assert run_file(path).passed
    assert run_file(path).passed  # the file written by the first run is gone
    assert not (tmp_path / "notes.md").exists()
    assert Path.cwd() == tmp_path
    assert os.environ["AISH_DEMO_URL"] == "http://127.0.0.1:9/v1"


def test_no_user_configuration_leaks_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "user.toml"
    user.write_text("[settings]\nplugin_agents = false\n")
    monkeypatch.setenv("AISH_CONFIG", str(user))
    path = write(tmp_path, "t.transcript", "aish> athena hi\nAthena /.*/\n")
    assert run_file(path).passed
    assert os.environ["AISH_CONFIG"] == str(user)


def test_a_configuration_beside_the_transcript_is_used(tmp_path: Path) -> None:
    hidden = "aish: unknown agent 'athena'; agents offered by plugins are hidden (plugin_agents = false)"
    path = write(tmp_path, "hidden.transcript", f"aish> athena hi\n{hidden}\n")
    assert not run_file(path).passed
    (tmp_path / "hidden.toml").write_text("[settings]\nplugin_agents = false\n")
    result = run_file(path)
    assert result.passed, result.report()


def test_shell_commands_work_in_transcripts(tmp_path: Path) -> None:
    text = "aish> agents\nNAME /.*/\napollo  /.*/\nathena  /.*/\nhermes  /.*/\n"
    assert run_file(write(tmp_path, "t.transcript", text)).passed


def test_quitting_early_leaves_the_rest_not_run(tmp_path: Path) -> None:
    path = write(tmp_path, "t.transcript", "aish> echo a\na\naish> quit\naish> echo b\nb\n")
    result = run_file(path)
    assert [(m.entry.line, m.message) for m in result.mismatches] == [(4, "not run: the session ended before it")]


def test_an_unknown_renderer_fails_each_file(tmp_path: Path) -> None:
    path = write(tmp_path, "t.transcript", "aish> echo a\na\n")
    result = run_aish("--test", str(path), "--renderer", "nosuch")
    assert result.returncode == 1
    assert f"{path}: aish: unknown renderer 'nosuch'" in result.stdout


def test_test_and_record_take_no_other_command(tmp_path: Path) -> None:
    path = write(tmp_path, "t.transcript", "aish> echo a\na\n")
    result = run_aish("-c", "echo hi", "--test", str(path))
    assert result.returncode == 2
    assert result.stderr == "aish: --test and --record take no command, script or agent\n"
    result = run_aish("--test", str(path), "--record", str(tmp_path / "r.transcript"))
    assert (result.returncode, result.stderr) == (2, "aish: --test and --record cannot be combined\n")


def apply_patch(text: str, diff: list[str]) -> str:
    """Apply a unified diff's hunks to ``text`` (what ``patch`` would do, for a clean diff)."""
    lines = text.split("\n")
    offset = 0
    for i, header in enumerate(diff):
        if not header.startswith("@@ "):
            continue
        start = int(header.split()[1].lstrip("-").split(",")[0])
        body = []
        for line in diff[i + 1 :]:
            if line.startswith("@@ "):
                break
            body.append(line)
        old = [line[1:] for line in body if line[0] in " -"]
        new = [line[1:] for line in body if line[0] in " +"]
        first = start - 1 + offset if old else start + offset
        assert lines[first : first + len(old)] == old
        lines[first : first + len(old)] = new
        offset += len(new) - len(old)
    return "\n".join(lines)


def test_the_diff_applies_as_a_patch_that_makes_the_transcript_pass(tmp_path: Path) -> None:
    text = "aish> echo a; echo b\na\nc\naish> agents\nNAME /.*/\naish> echo x/y\nx\\/y\naish> echo end\nend\n"
    path = write(tmp_path, "t.transcript", text)
    result = run_file(path)
    assert [m.entry.line for m in result.mismatches] == [1, 4]
    for mismatch in reversed(result.mismatches):  # later hunks first: earlier line numbers stay valid
        path.write_text(apply_patch(path.read_text(), mismatch.diff))
    patched = path.read_text()
    assert "http:\\/\\/127.0.0.1:/\\d+/\\/v1" in patched  # the sandbox's port, as --record writes it
    assert run_file(path).passed, run_file(path).report()
