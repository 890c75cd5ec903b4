"""What the runner adds to an error about a line that reads as English, not as the language.

A sentence typed after an agent's name meets the language's operators (``;``,
``&&``, ``||``, ``|``), and a sentence typed without an agent's name starts
with a word that names nothing. The errors say what was wrong; these hints say
what to type instead (decisions 68, 70 and 72)::

    athena don't do that; it's fine   -> ...; to send ';' to the agent, quote it
    athena what does a | b mean       -> ...; to send '|' to the agent, quote it
    athena is 2 > 1 and 3 bigger?     -> athena: a '>' in the middle of the sentence would write ...
    athena is 3 > 2?                  -> athena: '> 2?' would write the answer to a file named '2?'; ...
    what is a monad?                  -> ...; to ask an agent, name it first: athena what is a monad?
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from aish.errors import shortened
from aish.lang import Command, Group, Pipeline, Script, Stage

if TYPE_CHECKING:
    from aish.app import App
    from aish.errors import AishError, UnknownAgentError

NEW_LINE_HINT = "each line is a command: to send an agent several lines, quote them, or chat with it (its name alone)"
PIPE_HINT = "to send '|' to the agent, quote it"


def stray_joiner(app: App, script: Script, source: str, typed: bool = False) -> AishError | None:
    """A ``;``, ``&&`` or ``||`` inside an agent's sentence (``athena explain a || b in js``), found
    before anything runs: the words after it start no agent, command or program. ``||`` would have
    dropped them without a word; ``;`` and ``&&`` failed only after the agent had answered half the
    question (decisions 68 and 70). A ``>`` inside the sentence is found too (decision 82). ``typed``:
    ``source`` was typed or pasted in the shell (not a script's lines), where a line after an agent's
    sentence whose first word names nothing is the sentence's next line, not a command (decision 84)."""
    prose, after = False, 0
    for joiner, pipeline in script.items:
        mid = mid_sentence_redirect(app, pipeline)
        if mid is not None:
            return mid
        own_line = "\n" in source[after : pipeline.pos]
        after = pipeline.pos
        first = leading(pipeline)  # ``athena no; (it's & fine)``: the group's first member
        if prose and (typed if own_line else joiner in (";", "&&", "||")):
            from aish.pipeline.plan import resolves, unknown_agent

            if not resolves(app, first.name):
                error = unknown_agent(app, first.name)
                if error.suggestion is None:
                    hint = NEW_LINE_HINT if own_line else f"to send '{joiner}' to the agent, quote it"
                    error.args = (f"{error}; {hint}",)
                return error
        prose = ends_in_words(app, pipeline)  # a ``;``, ``&&`` or ``||`` next may be a sentence's
    return None


def ends_in_words(app: App, pipeline: Pipeline) -> bool:
    """Does ``pipeline`` end with an agent's sentence, as it will run: ``athena it's cold & wet here``
    is one (its ``&`` is text), and so is ``apollo & athena it's cold``, whose last lane is one."""
    last = pipeline.stages[-1]
    if isinstance(last, Group):
        from aish.pipeline.plan import text_ampersands

        last = text_ampersands(app, last)
    while isinstance(last, Group):
        last = last.members[-1]
    return agents_words(app, last)


def mid_sentence_redirect(app: App, pipeline: Pipeline) -> AishError | None:
    """A ``>`` with words of the agent's sentence after its file (``athena is 2 > 1 and 3 bigger?``):
    it would write the answer to ``1`` (created or emptied, silently off a terminal) and send the
    rest. A redirect that ends the line (``athena q > out.md``) is one; found before anything runs."""
    out, last = pipeline.stdout, pipeline.stages[-1]
    if out is None or not isinstance(last, Command) or not agents_words(app, last):
        return None
    from aish.errors import UsageError

    if not any(word.pos > out.pos for word in last.args):
        if _not_a_file(out.target):  # ``athena is 3 > 2?``: a comparison ends the sentence
            return UsageError(
                f"{last.name}: '{out.op} {shortened(out.target)}' would write the answer to a file named "
                f"{shortened(out.target)!r}; to send '{out.op}' to the agent, quote it"
            )
        return None
    return UsageError(
        f"{last.name}: a '{out.op}' in the middle of the sentence would write the answer to "
        f"{shortened(out.target)!r}; to send '{out.op}' to the agent, quote it"
    )


def _not_a_file(target: str) -> bool:
    """A redirect's target no one names a file: a number (``> 2``, ``> 1.5``), or a word that ends
    a question or exclamation (``> 2?``, ``> zero!``)."""
    return target.rstrip("?!.").replace(".", "", 1).isdigit() or target.endswith(("?", "!"))


def unknown_agent_hint(
    app: App,
    pipeline: Pipeline,
    error: UnknownAgentError,
    hint: str | None,
    script_name: str | None,
    talking_to: str | None = None,
) -> str:
    """What ``error`` about ``pipeline`` adds (``""``: nothing). ``hint``: what a line of a script
    after the first adds when its first word names nothing (``NEW_LINE_HINT``); ``script_name``:
    the script file's, None in the shell and ``-c``; ``talking_to``: the agent the shell's last
    answer came from, which a sentence typed alone is likely meant for."""
    first = leading(pipeline)  # ``It's a test & more.``: a group until its & is found text
    if error.name in SH_BUILTINS and error.name == first.name:
        return f"; {error.name} is a builtin of sh, and aish is not sh: {SH_BUILTINS[error.name]}"
    variable, equals, _value = error.name.partition("=")
    if equals and variable.isidentifier() and variable.isascii() and error.name == first.name:  # ``FOO=1 make``
        return f"; {variable}=... sets a variable in sh, and aish is not sh: !{first.name} ... runs the line in sh"
    if hint is not None and error.name == first.name:
        return f"; {hint}"
    if error.suggestion:
        return ""
    if after_prose(app, pipeline, error.name):
        return f"; {PIPE_HINT}"  # ``athena what does a | b mean``
    if error.name == first.name and script_name is None:
        return ask_hint(app, first, talking_to)  # ``what is a monad?``
    return ""


_CHILD = "!{name} ... runs it in a child shell, which keeps nothing of it"
SH_BUILTINS = {
    "export": "aish's environment is the one it started with (export NAME=value before aish; keys set NAME "
    "stores an API key)",
    "unset": "aish's environment is the one it started with",
    "source": _CHILD.format(name="source"),
    ".": _CHILD.format(name="."),
    "alias": "an agent's settings go in the configuration (agents add, agents edit)",
    "eval": _CHILD.format(name="eval"),
    "exec": _CHILD.format(name="exec"),
    "pushd": "cd DIR and cd - change aish's own directory",
    "popd": "cd DIR and cd - change aish's own directory",
}
"""sh's builtins people type at a shell's prompt, which aish does not have, and what it has instead."""


def ask_hint(app: App, stage: Command, talking_to: str | None = None) -> str:
    """What an unknown first word followed by a sentence (``what is a monad?``) adds in the shell
    and ``-c``: how to ask an agent (``talking_to``, the agent of the shell's last answer, else the
    one examples name). Not for a name meant as an agent's (``zeus hi``, ``zeus[-m x] hi``) nor for
    a program's options (``gti -C dir status``)."""
    words = [stage.name, *(word.value for word in stage.args)]
    going_on = talking_to is not None and app.is_agent(talking_to)
    example = ask_example(app, words, talking_to if going_on else None)
    sentence = len(words) >= 3 or (len(words) > 1 and words[-1].endswith("?"))
    if example is None or not sentence or stage.controls.words or any(word.startswith("-") for word in words):
        return ""
    if going_on:
        return f"; to go on with {talking_to}, name it first: {example}"
    return f"; to ask an agent, name it first: {example}"


def ask_example(app: App, words: list[str], agent: str | None = None) -> str | None:
    """``athena what is a monad?``: the words asked of ``agent``, else of the agent examples name
    (None: no agents)."""
    agent = agent or app.example_agent()
    return f"{agent} {shortened(' '.join(words))}" if agent else None


def after_prose(app: App, pipeline: Pipeline, name: str) -> bool:
    """Whether the stage ``name`` follows an agent's words through ``|``: English, likely."""
    return any(
        isinstance(stage, Command) and stage.name == name and agents_words(app, before)
        for before, stage in pairwise(pipeline.stages)
    )


def agents_words(app: App, stage: Stage) -> bool:
    """Is ``stage`` an agent's name with words after it (a sentence, likely)?"""
    return isinstance(stage, Command) and bool(stage.args) and app.is_agent(stage.name)


def leading(pipeline: Pipeline) -> Command:
    """The stage ``pipeline`` starts with, inside any groups it opens with (``(it's & fine)``: ``it's``)."""
    first = pipeline.stages[0]
    while isinstance(first, Group):
        first = first.members[0]
    return first
