"""The one-line rule from the outside: ``aish -c`` with hostile lines, in a real process."""

from __future__ import annotations

from aish.lang.parser import MAX_NESTING
from aish.testing import run_aish


def test_deep_nesting_is_one_syntax_error_line() -> None:
    line = "(" * 600 + "athena hi" + ")" * 600
    result = run_aish("-c", line)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr[:500]
    assert f"'(' nested more than {MAX_NESTING} deep" in result.stderr
    assert result.stdout == ""


def test_control_characters_in_a_syntax_error_are_shown_escaped() -> None:
    result = run_aish("-c", 'echo "\x1b]0;TITLE\x07')
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr == 'aish: syntax error at column 6: unclosed " quote: echo -->"\\x1b]0;TITLE\\x07\n'


def test_control_characters_in_an_unknown_name_are_shown_escaped() -> None:
    result = run_aish("-c", "\x1b[2Jathena\x9b hi")
    assert result.returncode == 3
    assert result.stderr.startswith("aish: unknown agent '\\x1b[2Jathena\\x9b'")
    assert result.stderr.count("\n") == 1


def test_command_line_usage_errors_are_one_line() -> None:
    for args, expected in [
        (("--bogus",), "aish: unrecognized arguments: --bogus (see 'aish --help')\n"),
        (("-c",), "aish: argument -c: expected one argument (see 'aish --help')\n"),
        (("--renderer",), "aish: argument --renderer/--format: expected one argument (see 'aish --help')\n"),
    ]:
        result = run_aish(*args)
        assert (result.returncode, result.stderr) == (2, expected)


def test_a_dash_c_line_may_start_with_a_dash() -> None:
    for args in (("-c", "-x hi"), ("--stats", "-c", "-x hi"), ("-c", "--version")):
        result = run_aish(*args)
        assert result.returncode == 3 and result.stderr.startswith(f"aish: unknown agent '{args[-1].split()[0]}'")


def test_listings_show_control_characters_escaped(write_config, demo_url: str) -> None:  # type: ignore[no-untyped-def]
    config = write_config(
        '[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
        'description = "\\u001b]0;TITLE\\u0007 multi\\nline"\n'
    )
    listed = run_aish("--config", str(config), "agents")
    assert "\x1b" not in listed.stdout and "\\x1b]0;TITLE\\x07 multi\\x0aline" in listed.stdout
    run_aish("--config", str(config), "-c", "echo '\x1b]0;T\x07'")
    history = run_aish("--config", str(config), "history")
    assert "\x1b" not in history.stdout and "echo '\\x1b]0;T\\x07'" in history.stdout
    shown = run_aish("--config", str(config), "history", "show", "1")
    assert "$ echo '\\x1b]0;T\\x07'" in shown.stdout
