"""The aish language: tokenizer, parser, syntax errors, continuation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aish.errors import AishSyntaxError
from aish.lang import Command, Group, Incomplete, Pipeline, is_incomplete, parse, tokenize


def only_pipeline(line: str) -> Pipeline:
    script = parse(line)
    assert len(script.items) == 1
    return script.items[0][1]


def names(p: Pipeline) -> list[str]:
    return [s.name for s in p.stages if isinstance(s, Command)]


def args(cmd: object) -> list[str]:
    assert isinstance(cmd, Command)
    return [w.value for w in cmd.args]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('echo "a | b > c"', ["echo", "a | b > c"]),
        ("echo 'it''s'", ["echo", "its"]),
        ("echo 'a \"b\" c'", ["echo", 'a "b" c']),
        ('echo "say \\"hi\\" \\\\ now"', ["echo", 'say "hi" \\ now']),
        ("echo a\\ b", ["echo", "a b"]),
        ("echo a\\|b", ["echo", "a|b"]),
        ("athena match \\d+\\.\\w in C:\\Users\\me", ["athena", "match", "\\d+\\.\\w", "in", "C:\\Users\\me"]),
        ("echo \\\\ \\# \\[x\\] \\! \\' \\\"", ["echo", "\\", "#", "[x]", "!", "'", '"']),
        ("athena[-s a\\b\\ c] q", ["athena", "-s", "a\\b c", "q"]),
        ('echo pre"fix suf"fix', ["echo", "prefix suffix"]),
        ("echo C# is fine", ["echo", "C#", "is", "fine"]),
        ("echo ok # a comment", ["echo", "ok"]),
        ("echo ok #", ["echo", "ok"]),
        ("echo ok #\t tab", ["echo", "ok"]),
        ("athena summarize issue #42", ["athena", "summarize", "issue", "#42"]),  # English: a word
        ("athena what does #include do # ask", ["athena", "what", "does", "#include", "do"]),
        ("#!/usr/bin/env aish", []),  # where a stage starts, a comment whatever follows
        ("echo a; #note", ["echo", "a"]),
        (
            "athena what does -> mean, x => y, a-->b",
            ["athena", "what", "does", "->", "mean,", "x", "=>", "y,", "a-->b"],
        ),
        ("athena a >= b <= c <- d", ["athena", "a", ">=", "b", "<=", "c", "<-", "d"]),
        ("athena <div> and </p>, <br/>, List<T>", ["athena", "<div>", "and", "</p>,", "<br/>,", "List<T>"]),
        ("echo '\\n stays'", ["echo", "\\n stays"]),
        ('echo ""', ["echo", ""]),
    ],
)
def test_words_after_quote_removal(line: str, expected: list[str]) -> None:
    assert [t.value for t in tokenize(line) if t.kind == "word"] == expected


def test_operators_are_tokens_outside_quotes_only() -> None:
    # ``&`` between letters and ``(`` inside a stage's words are text (the English-safe rules, below)
    ops = [t.value for t in tokenize('a|b||c &d&&e;f<g>h>>i|(j)"|"') if t.kind == "op"]
    assert ops == ["|", "||", "&", "&&", ";", "<", ">", ">>", "|", "(", ")"]


def test_token_positions_point_into_the_line() -> None:
    line = 'echo  "x y" | athena'
    toks = tokenize(line)
    assert [(t.value, t.pos) for t in toks] == [("echo", 0), ("x y", 6), ("|", 12), ("athena", 14)]


def test_echo_pipe_agent() -> None:
    p = only_pipeline('echo "Explain quantum computing" | athena')
    assert names(p) == ["echo", "athena"]
    assert args(p.stages[0]) == ["Explain quantum computing"]


def test_agent_with_quoted_text_and_with_bare_words() -> None:
    assert args(only_pipeline('athena "what is up"').stages[0]) == ["what is up"]
    cmd = only_pipeline("athena what is   up").stages[0]
    assert isinstance(cmd, Command) and cmd.text == "what is up"


def test_redirections_belong_to_the_pipeline() -> None:
    p = only_pipeline("cat app.py | apollo | athena > review.md")
    assert names(p) == ["cat", "apollo", "athena"]
    assert p.stdout is not None and (p.stdout.op, p.stdout.target) == (">", "review.md")
    p = only_pipeline("athena < in.txt >> log.md")
    assert p.stdin is not None and p.stdin.target == "in.txt"
    assert p.stdout is not None and (p.stdout.op, p.stdout.target) == (">>", "log.md")
    assert args(p.stages[0]) == []


def test_redirection_target_may_be_quoted() -> None:
    p = only_pipeline('athena hi > "my file.md"')
    assert p.stdout is not None and p.stdout.target == "my file.md"


def test_multi_line_quoted_text_is_one_word() -> None:
    p = only_pipeline('athena "first line\nsecond line"')
    assert args(p.stages[0]) == ["first line\nsecond line"]


def test_newline_after_pipe_and_backslash_newline_continue() -> None:
    assert names(only_pipeline("echo x |\n  athena")) == ["echo", "athena"]
    assert args(only_pipeline("athena one \\\ntwo").stages[0]) == ["one", "two"]


def test_newlines_and_semicolons_separate_pipelines() -> None:
    script = parse("echo a\necho b; echo c && echo d || echo e\n")
    assert [j for j, _ in script.items] == [None, ";", ";", "&&", "||"]


def test_parallel_groups_and_fan_in_parse() -> None:
    p = only_pipeline('echo "q" | apollo & athena & hermes')
    assert isinstance(p.stages[1], Group)
    assert [m.name for m in p.stages[1].members if isinstance(m, Command)] == ["apollo", "athena", "hermes"]
    p = only_pipeline('echo "q" | (apollo & athena) | hermes')
    assert isinstance(p.stages[1], Group) and names(p) == ["echo", "hermes"]


def test_redirect_inside_last_group_applies_to_pipeline() -> None:
    p = only_pipeline("echo q | apollo & athena > both.md")
    assert p.stdout is not None and p.stdout.target == "both.md"
    group = p.stages[1]
    assert isinstance(group, Group) and all(isinstance(m, Command) and not m.args for m in group.members)


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        ("| athena", 1, "unexpected '|'"),
        ("athena |", 8, "'|' needs a command"),
        ("echo x | | athena", 8, "'|' needs a command"),
        ("athena >", 8, "'>' needs a file name"),
        ("athena > | x", 8, "'>' needs a file name"),
        ("a > f | b", 3, "only allowed once, on the last stage"),
        ("a | b < f", 7, "only allowed once, on the first stage"),
        ("a > f > g", 7, "a second '>'; to send it as text, quote it"),
        ("a && ", 3, "needs a command"),
        ("(a & b", 1, "'(' is never closed"),
        ("(a) )", 5, "unexpected ')'"),  # a ')' outside any group is text: 'a )' sends ')'
        ("a & ;", 3, "'&' needs a command"),
        ("; ;", 0, None),
    ],
)
def test_syntax_errors_point_at_the_spot(line: str, column: int, fragment: str | None) -> None:
    if fragment is None:
        assert parse(line).items == ()
        return
    with pytest.raises(AishSyntaxError) as info:
        parse(line)
    message = str(info.value)
    assert fragment in message
    assert f"column {column}:" in message
    assert "\n" not in message
    assert "-->" in message


def test_syntax_error_in_a_script_names_the_line() -> None:
    with pytest.raises(AishSyntaxError) as info:
        parse("echo ok\necho fine\nathena |")
    assert "line 3, column 8" in str(info.value)
    assert str(info.value).endswith("athena -->|")


def test_a_backslash_ending_a_word_at_a_lines_end_is_text() -> None:
    """``athena what is in C:\\`` waited for a next line, then sent ``C:``: the blank before a
    continuing backslash is what says it continues (``one \\`` still does)."""
    assert args(only_pipeline("athena what is in C:\\").stages[0]) == ["what", "is", "in", "C:\\"]
    script = parse("athena look in C:\\\necho next")
    assert [names(p) for _, p in script.items] == [["athena"], ["echo"]]
    assert not is_incomplete("athena what is in C:\\") and is_incomplete("athena what is in \\")
    assert args(only_pipeline("athena C:\\\\").stages[0]) == ["C:\\"]


@pytest.mark.parametrize("line", ['athena "open', "athena 'open", "athena x \\"])
def test_unfinished_quote_or_escape_is_incomplete(line: str) -> None:
    with pytest.raises(Incomplete):
        tokenize(line)
    assert is_incomplete(line)


@pytest.mark.parametrize(
    ("line", "incomplete"),
    [
        ("echo x |", True),
        ("echo x | (apollo &", True),
        ("a &&", True),
        ("a ||", True),
        ("echo x | athena", False),
        ('athena "done"', False),
        ("athena >", False),  # an error, not something more lines would fix
        ("", False),
        ('athena "a\nb"', False),
    ],
)
def test_is_incomplete(line: str, incomplete: bool) -> None:
    assert is_incomplete(line) is incomplete


def test_newlines_inside_parentheses_are_blanks() -> None:
    p = only_pipeline("echo q | (athena\n  & hermes\n) | apollo")
    group = p.stages[1]
    assert isinstance(group, Group) and [m.name for m in group.members if isinstance(m, Command)] == [
        "athena",
        "hermes",
    ]


def test_nesting_deeper_than_the_limit_is_a_syntax_error() -> None:
    from aish.lang.parser import MAX_NESTING

    deepest = "(" * MAX_NESTING + "athena hi" + ")" * MAX_NESTING
    assert names(only_pipeline(deepest)) == ["athena"]
    too_deep = "(" * 600 + "athena hi" + ")" * 600
    with pytest.raises(AishSyntaxError) as info:
        parse(too_deep)
    assert info.value.position == MAX_NESTING
    assert f"nested more than {MAX_NESTING} deep" in str(info.value)
    assert len(str(info.value)) < 200  # the excerpt is cut around the spot


def test_syntax_error_excerpts_show_control_characters_escaped() -> None:
    with pytest.raises(AishSyntaxError) as info:
        parse('echo "\x1b]0;TITLE\x07')
    shown = str(info.value)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown.endswith('echo -->"\\x1b]0;TITLE\\x07')
    with pytest.raises(AishSyntaxError) as info:
        parse("echo \u202eevil\x9b2J | | x")
    assert "\u202e" not in str(info.value) and "\\u202eevil\\x9b2J" in str(info.value)


def test_visible_escapes_controls_and_undecodable_bytes_but_keeps_text() -> None:
    from aish.errors import visible

    assert visible("caf\xe9 \u4e16\u754c\ttab") == "caf\xe9 \u4e16\u754c\ttab"
    assert visible("a\nb\r\x00\x7f") == "a\\x0ab\\x0d\\x00\\x7f"
    assert visible("caf\udce9") == "caf\\xe9"


# ------------------------------------------------------- English-safe words (issue 11)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("athena what's a monad?", ["athena", "what's", "a", "monad?"]),
        ("athena rock'n'roll, the users' files", ["athena", "rock'n'roll,", "the", "users'", "files"]),
        ("athena it's 'quoted here'", ["athena", "it's", "quoted here"]),
        ("athena '90s music'", ["athena", "90s music"]),  # at the start of a word ' opens a quote
        ("athena AT&T R&D", ["athena", "AT&T", "R&D"]),
        ("athena summarize (briefly) this", ["athena", "summarize", "(briefly)", "this"]),
        ("athena f(x) and ( y )", ["athena", "f(x)", "and", "(", "y", ")"]),
        ("athena a) cats b) dogs", ["athena", "a)", "cats", "b)", "dogs"]),
        ("athena see [1] and a[0]", ["athena", "see", "[1]", "and", "a[0]"]),
    ],
)
def test_english_words_are_text(line: str, words: list[str]) -> None:
    assert [t.value for t in tokenize(line) if t.kind == "word"] == words
    assert [t.value for t in tokenize(line) if t.kind == "op"] == []
    assert not is_incomplete(line)


def test_parentheses_group_only_where_a_stage_starts() -> None:
    p = only_pipeline("echo q | (athena summarize (briefly) & hermes f(x)) | apollo")
    group = p.stages[1]
    assert isinstance(group, Group) and names(p) == ["echo", "apollo"]
    assert [args(m) for m in group.members] == [["summarize", "(briefly)"], ["f(x)"]]


def test_a_close_parenthesis_outside_groups_is_text_inside_one_it_closes() -> None:
    assert args(only_pipeline("athena a )").stages[0]) == ["a", ")"]
    with pytest.raises(AishSyntaxError, match=r"unexpected 'b\)'"):
        parse("echo q | (athena a) b)")


def test_ampersand_with_blanks_is_still_the_operator_in_the_syntax() -> None:
    p = only_pipeline("athena compare a & b")  # the planner decides that 'b' is text (no agent 'b')
    group = p.stages[0]
    assert isinstance(group, Group) and [m.name for m in group.members if isinstance(m, Command)] == ["athena", "b"]


@pytest.mark.parametrize(
    ("line", "model", "options", "text"),
    [
        ("athena[-m gpt-4o] hi", "gpt-4o", {}, ["hi"]),
        ('athena[-s "be ] brief" -o temperature 0.2] hi', None, {"system": "be ] brief", "temperature": 0.2}, ["hi"]),
        ("athena[--model x --option n 3 --system s]", "x", {"n": 3, "system": "s"}, []),
        (
            "athena[-o stop '[\"a\"]' -o seed null -o stream false]",
            None,
            {"stop": ["a"], "seed": None, "stream": False},
            [],
        ),
        ("athena[-o model m -o tag v1]", "m", {"tag": "v1"}, []),
        ("athena[-o x NaN]", None, {"x": "NaN"}, []),
        ("athena[\n  -m x\n] -m y", "x", {}, ["-m", "y"]),  # after the bracket -m is text
    ],
)
def test_per_stage_controls(line: str, model: str | None, options: dict[str, object], text: list[str]) -> None:
    cmd = only_pipeline(line).stages[0]
    assert isinstance(cmd, Command) and cmd.name == "athena"
    assert (cmd.controls.model, cmd.controls.option_dict(), args(cmd)) == (model, options, text)


def test_controls_in_groups_and_chains() -> None:
    p = only_pipeline("echo q | apollo[-m a] & athena[-m b] | hermes[-s terse] > out.md")
    group, last = p.stages[1], p.stages[2]
    assert isinstance(group, Group) and [m.controls.model for m in group.members if isinstance(m, Command)] == [
        "a",
        "b",
    ]
    assert isinstance(last, Command) and last.controls.option_dict() == {"system": "terse"}
    assert p.stdout is not None and p.stdout.target == "out.md"


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        ("athena[-m] hi", 8, "-m needs a model name"),
        ("athena[-o temperature] hi", 11, "-o temperature needs a value"),
        ("athena[-o 'a b' 1] hi", 11, "-o: bad key 'a b'"),
        ("athena[-o t '[1,'] hi", 13, "-o t: value '[1,' is not valid JSON"),
        ("athena[hello] hi", 8, "unknown option 'hello' (options: -m MODEL, -s SYSTEM, -o KEY VALUE, -x, -e)"),
        ("athena[] hi", 7, "'[]' holds no options"),
    ],
)
def test_bad_controls_are_syntax_errors_at_the_spot(line: str, column: int, fragment: str) -> None:
    with pytest.raises(AishSyntaxError) as info:
        parse(line)
    assert fragment in str(info.value) and f"column {column}:" in str(info.value)


def test_an_unclosed_bracket_continues() -> None:
    assert is_incomplete("athena[-m x")
    with pytest.raises(Incomplete, match="'\\[' is never closed"):
        tokenize("athena[-s 'x'")


@pytest.mark.parametrize(
    ("line", "ops"),
    [
        ("athena q > out.md", [">"]),
        ("athena q >out.md", [">"]),
        ("athena q 2>out.md", [">"]),
        ("athena q >> log", [">>"]),
        ("athena q < in.txt", ["<"]),
        ("athena q <in>out", ["<", ">"]),  # a tag glued to a file name: the redirects they always were
        ("athena q <in.txt >out.md", ["<", ">"]),
    ],
)
def test_redirects_stay_redirects(line: str, ops: list[str]) -> None:
    assert [t.value for t in tokenize(line) if t.kind == "op"] == ops


def _quoted_one_by_one(line: str, start: int) -> tuple[int, str] | None:
    """A quote's text read a character at a time (how ``_quoted`` read it before it used
    ``str.find``); None when it is never closed."""
    quote, parts, i = line[start], [], start + 1
    while i < len(line):
        c = line[i]
        if c == quote:
            return i + 1, "".join(parts)
        if c == "\\" and quote == '"' and i + 1 < len(line) and line[i + 1] in '"\\':
            parts.append(line[i + 1])
            i += 2
            continue
        parts.append(c)
        i += 1
    return None


@given(st.text(alphabet="ab\"\\' \n", max_size=30), st.sampled_from(['"', "'"]))
def test_a_quote_is_read_as_one_character_at_a_time_would(rest: str, quote: str) -> None:
    """``_quoted`` finds its ends with ``str.find`` (the shell asks at each key, for a pasted
    100 KB line too: 27 ms a call made typing after one take half a second)."""
    from aish.lang.tokens import _quoted

    line = quote + rest
    expected = _quoted_one_by_one(line, 0)
    if expected is None:
        with pytest.raises(Incomplete):
            _quoted(line, 0)
    else:
        assert _quoted(line, 0) == expected


@given(
    st.lists(
        st.sampled_from([*"ab1 \t\n\"'\\[]()|&;<>#!$-=", "&&", "||", " | ", "athena ", "athena[-m x", "echo "]),
        max_size=14,
    ).map("".join),
    st.text(alphabet="xy7 \t", min_size=1, max_size=6),
)
def test_plain_words_typed_after_a_line_leave_whether_it_continues(line: str, typed: str) -> None:
    """The shell asks whether the line goes on at every key; after a 100 KB paste, tokenizing it again
    at each letter typed after it took most of a key's time. ``typed_on`` says when the answer stands."""
    from aish.lang import typed_on

    if typed_on(line, line + typed):
        assert is_incomplete(line + typed) == is_incomplete(line)


def test_typed_on_takes_only_plain_words_after_a_word() -> None:
    from aish.lang import typed_on

    assert typed_on('athena "a quote', 'athena "a quote and more')
    assert typed_on("athena hi  ", "athena hi  there 2")
    assert not typed_on("athena hi |", "athena hi | wc")  # the pipe's right side
    assert not typed_on("athena hi", "athena hi'")
    assert not typed_on("athena hi", "athena h")
    assert not typed_on("athena hi", "athena hi\n")
    assert not typed_on("athena hi", "athena hé")
