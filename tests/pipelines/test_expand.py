"""A program's words are expanded as sh expands them; an agent's never are (decision 90)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from aish.lang import parse
from aish.lang.expand import expand_words
from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]
ENV = {"HOME": "/home/ada", "NAME": "owl", "SPACED": "a  b *", "EMPTY": ""}


def words(line: str) -> list[str]:
    """The words ``echo`` would receive for ``echo LINE``."""
    stage = parse(f"echo {line}").items[0][1].stages[0]
    return [w.value for w in expand_words(stage.args, ENV)]  # type: ignore[union-attr]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("b.py", "a.py", "c.txt", ".hidden.py", "my notes.md"):
        (tmp_path / name).write_text(name)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.py").write_text("x")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("~ ~/notes x~", ["/home/ada", "/home/ada/notes", "x~"]),
        ("'~/q' \\~/q", ["~/q", "~/q"]),
        ("$NAME ${NAME}s $NAME.md x$NAME", ["owl", "owls", "owl.md", "xowl"]),
        ("\"$NAME is here\" '$NAME' \\$NAME", ["owl is here", "$NAME", "$NAME"]),
        ("$5 $? $ costs$", ["$5", "$?", "$", "costs$"]),
        ("$UNSET_VARIABLE_Q a", ["a"]),
        ('"$UNSET_VARIABLE_Q" $EMPTY ""', ["", ""]),
        ("$SPACED", ["a  b *"]),
        ("what's up?", ["what's", "up?"]),
    ],
)
def test_tilde_and_parameters(line: str, expected: list[str]) -> None:
    assert words(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("*.py", ["a.py", "b.py"]),
        (".*.py", [".hidden.py"]),
        ("?.txt [ab].py", ["c.txt", "a.py", "b.py"]),
        ("src/*.py */x.py", ["src/x.py", "src/x.py"]),
        ("my*", ["my notes.md"]),
        ("*.nothing", ["*.nothing"]),
        ("'*.py' \"*.py\" \\*.py", ["*.py", "*.py", "*.py"]),
        ('"my "*', ["my notes.md"]),
        ("\\d+", ["d+"]),
    ],
)
def test_globs(files: Path, line: str, expected: list[str]) -> None:
    assert words(line) == expected


def test_a_variables_value_is_not_a_pattern(files: Path) -> None:
    assert words("$SPACED") == ["a  b *"]
    assert expand_words(parse("ls $P").items[0][1].stages[0].args, {"P": "*.py"})[0].value == "*.py"  # type: ignore[union-attr]


def test_programs_and_builtins_expand(run_line: Run, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISH_TEST_WORD", "owl")
    result = run_line("ls *.py src/*; cat *.txt; echo; echo $AISH_TEST_WORD ~ *.none")
    assert result.status == 0, result.err
    assert result.out == f"a.py\nb.py\nsrc/x.py\nc.txt\nowl {os.environ['HOME']} *.none\n"


@pytest.mark.parametrize(
    ("line", "sent"),
    [
        ("athena is *.py or $NAME worth $5 in ~/x?", "is *.py or $NAME worth $5 in ~/x?"),  # an agent's: as typed
        ("echo review $NAME: *.py | athena", "review owl: a.py b.py\n"),  # echo's: as sh's echo
    ],
)
def test_an_agents_words_are_never_expanded_and_echos_are(
    run_line: Run,
    refserver: RefServer,
    agents_toml: str,
    files: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    sent: str,
) -> None:
    monkeypatch.setenv("NAME", "owl")
    result = run_line(line, agents_toml)
    assert result.status == 0, result.err
    assert refserver.requests[0].body["messages"][-1]["content"] == sent


@pytest.mark.parametrize(
    ("line", "out"),
    [
        ("!echo hi 2>/dev/null | tr a-z A-Z", "HI\n"),  # the shell's redirection, aish's pipe
        ("!echo $(echo sub) `echo back` 'a|b' \"c;d\" e\\&\\&f", "sub back a|b c;d e&&f\n"),
        ("!echo to-stderr >&2 && echo after", "after\n"),
        ("!false && echo no || echo yes; echo after", "yes\nafter\n"),  # aish's && || ;
        ("!printf 'x\\n' > out.txt; cat out.txt", "x\n"),
    ],
)
def test_a_shell_escape_gives_sh_its_text_up_to_an_aish_operator(
    run_line: Run, files: Path, line: str, out: str
) -> None:
    result = run_line(line)
    assert (result.status, result.out) == (0, out), result.err


def test_a_shell_escapes_text_is_one_word() -> None:
    stage = parse("!find . -name '*.py' 2>/dev/null | wc -l").items[0][1].stages[0]
    assert (stage.name, [w.value for w in stage.args]) == ("!find", [". -name '*.py' 2>/dev/null"])  # type: ignore[union-attr]
    assert [c.name for c in parse("!!").items[0][1].commands()] == ["!!"]


def test_a_redirections_file_is_expanded_as_a_programs_word(
    run_line: Run, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a tour: ``athena hi > $HOME/notes.md`` said ``> $HOME/notes.md: No such file or
    directory``. A redirection's file is named as sh names it: ``~``, ``$NAME``, a glob of one file."""
    monkeypatch.setenv("AISH_TEST_DIR", str(files / "src"))
    result = run_line('echo one > $AISH_TEST_DIR/out.txt; echo two >> "$AISH_TEST_DIR/out.txt"; cat < src/*')
    assert (files / "src" / "out.txt").read_text() == "one\ntwo\n"
    assert (result.status, result.out) == (2, "")  # src/* is x.py, then out.txt: two files
    assert result.err == "aish: < src/*: ambiguous redirect (it names 2 files)\n"
    result = run_line("echo kept > '$AISH_TEST_DIR'; cat < *.txt; echo x > $AISH_TEST_UNSET_Q")
    assert (files / "$AISH_TEST_DIR").read_text() == "kept\n"  # quoted: the name as written
    assert result.out == "c.txt"  # the one file *.txt names
    assert result.err == "aish: > $AISH_TEST_UNSET_Q: ambiguous redirect (it names no file)\n"


def test_command_substitution_in_a_programs_words_is_refused(run_line: Run, files: Path) -> None:
    """``echo $(date)`` printed ``$(date)``: sh's substitution, silently not done. It is refused now,
    naming ``!``; in single quotes it is text, and an agent's words are never looked at."""
    for line in ("echo $(date)", 'ls "`pwd`"'):
        refused = run_line(line)
        assert (refused.status, refused.out) == (2, ""), line
        assert "(command substitution) are sh's, and aish is not sh: !" in refused.err, line
    assert run_line("echo '$(date)' '`x`'").out == "$(date) `x`\n"
