"""What a bracketed paste inserts: a script at the start of a line, text after an agent's name."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aish.errors import AishError
from aish.lang import parse
from aish.lang.ast import Command
from aish.shell_paste import opened_text, pasted

AGENTS = {"athena", "apollo"}


def is_agent(name: str) -> bool:
    return name in AGENTS


def test_a_block_at_the_start_of_a_line_is_a_script() -> None:
    assert pasted("", "echo one\r\necho two\n\n", is_agent) == "echo one\necho two"


def test_a_block_after_an_agents_words_is_one_quoted_word() -> None:
    block = 'Dear team, the "launch" slipped.\nyes we will ship next week.\nThanks \\o/\n'
    text = pasted("athena proofread: ", block, is_agent)
    assert text == '"Dear team, the \\"launch\\" slipped.\nyes we will ship next week.\nThanks \\\\o/"'
    assert pasted("athena proofread:", block, is_agent) == " " + text  # a word of its own


def test_after_a_pipe_or_inside_a_quote_or_after_a_program_the_block_is_left_as_it_is() -> None:
    block = "one\ntwo"
    assert pasted("echo x | athena ", block, is_agent) == '"one\ntwo"'  # the stage the cursor is in
    assert pasted("athena hi | ", block, is_agent) == block  # a new stage starts: commands
    assert pasted("athena hi\n", block, is_agent) == block
    assert pasted('athena "', block, is_agent) == block  # already inside a quote
    assert pasted("echo ", block, is_agent) == block  # not an agent
    assert pasted("athena[-m x] ", block, is_agent) == '"one\ntwo"'
    assert pasted("athena ", "one line | two", is_agent) == "one line | two"  # one line: as typed
    # where Alt-Enter opens no quote, a paste quotes nothing either (one reading of the line for both)
    assert pasted("athena hi > ", block, is_agent) == block  # a redirection's target: a file's name
    assert pasted("athena[-m ", block, is_agent) == block  # inside the options
    assert pasted("'athena' ", block, is_agent) == block  # a quoted name is a program's


pieces = st.text(st.characters(exclude_categories=["Cs"]) | st.sampled_from("\"\\|&;<>()#'[] "), min_size=1)


@given(st.lists(pieces, min_size=2, max_size=5).map("\n".join), st.sampled_from(["", "\n", "\r\n"]))
@example("\r\n\r", "")  # found by a fresh clone's run: only line breaks
def test_the_agent_receives_the_block_exactly(lines: str, end: str) -> None:
    """Whatever the block holds (quotes, backslashes, operators), the line is the agent's words and the block."""
    block = lines + end
    line = "athena proofread: " + pasted("athena proofread: ", block, is_agent)
    ((_op, pipeline),) = parse(line).items
    (stage,) = pipeline.stages
    expected = block.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    assert isinstance(stage, Command) and stage.name == "athena"
    if not expected:  # a block of line breaks alone ('\r\n\r'): nothing to insert, nothing sent
        assert [w.value for w in stage.args] == ["proofread:"]
        return
    assert [w.value for w in stage.args] == ["proofread:", expected]


@pytest.mark.parametrize(
    ("before", "opened"),
    [
        ("athena explain this:", 'athena "explain this:\n'),
        ("athena explain this: ", 'athena "explain this:\n'),
        ("athena", 'athena "\n'),
        ("athena[-m echo] hi there", 'athena[-m echo] "hi there\n'),
        ("cat notes.md | athena summarize:", 'cat notes.md | athena "summarize:\n'),
        ('athena "quoted" and it\'s $5', "athena \"quoted and it's $5\n"),
        ("athena hi > out.md", None),  # the last word is a file's name
        ("echo hi", None),  # a program's words: the new line is the script's
        ('athena "open', None),  # a quote is open already: a plain new line in it
        ("athena[-m echo", None),
        ("athena hi | grep", None),
        ('"athena" hi', None),
    ],
)
def test_alt_enter_at_the_end_of_an_agents_words_opens_them_as_one_quoted_word(before: str, opened: str | None) -> None:
    assert opened_text(before, is_agent) == opened


word = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\n\r") | st.sampled_from("\"\\'$*"), min_size=1
)
words = st.lists(word, min_size=1, max_size=4)


@given(words)
@example(['say "hi"', "\\o/"])
def test_the_agent_receives_its_words_and_the_new_line(parts: list[str]) -> None:
    """Whatever the words typed (quotes, backslashes, ``$``), the agent's text is the same after
    Alt-Enter, with the new line and what follows it."""
    before = "athena " + " ".join(shlex.quote(part) for part in parts)
    try:
        ((_op, typed),) = parse(before).items
    except AishError:
        return  # not a line of one agent stage (an operator in the words): Alt-Enter is a plain new line there
    stage = typed.stages[0]
    if not isinstance(stage, Command) or stage.name != "athena" or typed.stdout is not None or len(typed.stages) > 1:
        return
    opened = opened_text(before, is_agent)
    if opened is None:
        return
    ((_op, pipeline),) = parse(opened + 'and more"').items
    (after,) = pipeline.stages
    assert isinstance(after, Command) and after.name == "athena"
    assert [word.value for word in after.args] == [" ".join(word.value for word in stage.args) + "\nand more"]
