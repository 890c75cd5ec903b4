"""What a bracketed paste inserts: a script at the start of a line, text after an agent's name."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from aish.lang import parse
from aish.lang.ast import Command
from aish.shell_paste import pasted

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
