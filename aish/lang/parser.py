"""Recursive-descent parser: tokens to :class:`~aish.lang.ast.Script`.

Grammar (``&`` binds tighter than ``|``, so ``a | b & c`` sends a's answer to
both b and c)::

    script   := [sep] andor ((';' | NEWLINE) [andor])*
    andor    := pipeline (('&&' | '||') pipeline)*
    pipeline := stage ('|' stage)*
    stage    := unit ('&' unit)*
    unit     := command | '(' stage ')'
    command  := WORD ['[' WORD* ']'] (WORD | redirect)*
    redirect := ('<' | '>' | '>>') WORD
"""

from __future__ import annotations

from aish.errors import AishSyntaxError
from aish.lang.ast import Command, Group, Pipeline, Redirect, Script, Stage, Word
from aish.lang.controls import USAGE, Controls, ControlsError, parse_controls
from aish.lang.tokens import NEWLINE, Token, tokenize

MAX_NESTING = 64
"""How deep ``(`` may nest: deeper is a syntax error (the parser recurses once per level)."""

_SEPARATORS = frozenset({";", NEWLINE})
_JOINERS = frozenset({"&&", "||", "|", "&", "("})


def parse(line: str) -> Script:
    """Parse a line (or a whole script) of the aish language.

    Raises :class:`~aish.errors.AishSyntaxError` pointing at the offending spot;
    nothing is run when a line does not parse.
    """
    return _Parser(line, tokenize(line)).script()


def lone_command(line: str) -> Command | None:
    """The command ``line`` is when it is one and nothing else (no pipe, ``&``, redirection or second
    line); None otherwise. Raises :class:`~aish.errors.AishSyntaxError` as :func:`parse` does."""
    items = parse(line).items
    if len(items) != 1:
        return None
    pipeline = items[0][1]
    stage = pipeline.stages[0] if len(pipeline.stages) == 1 else None
    if not isinstance(stage, Command) or pipeline.stdin is not None or pipeline.stdout is not None:
        return None
    return stage


class _Parser:
    def __init__(self, line: str, tokens: list[Token]) -> None:
        self.line = line
        self.tokens = tokens
        self.i = 0
        self.depth = 0  # inside parentheses newlines are blanks

    # ----------------------------------------------------------- token helpers
    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.value in ops

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def skip_newlines(self) -> None:
        while self.at_op(NEWLINE):
            self.i += 1

    def error(self, message: str, tok: Token | None = None) -> AishSyntaxError:
        pos = tok.pos if tok is not None else len(self.line.rstrip())
        return AishSyntaxError(message, self.line, pos)

    def unexpected(self) -> AishSyntaxError:
        tok = self.peek()
        if tok is None:
            return self.error("unexpected end of line")
        shown = "newline" if tok.value == NEWLINE else repr(tok.value)
        return self.error(f"unexpected {shown}", tok)

    # ------------------------------------------------------------------ rules
    def script(self) -> Script:
        items: list[tuple[str | None, Pipeline]] = []
        joiner: str | None = None
        while True:
            while self.at_op(*_SEPARATORS):
                self.take()
                joiner = ";" if items else None
            if self.peek() is None:
                break
            items.append((joiner, self.pipeline()))
            if self.at_op("&&", "||"):
                op = self.take()
                joiner = op.value
                self.skip_newlines()
                if self.peek() is None or self.at_op(*_SEPARATORS):
                    raise self.error(f"{joiner!r} needs a command after it", op)
                continue
            if self.peek() is not None and not self.at_op(*_SEPARATORS):
                raise self.unexpected()
            joiner = ";"
        return Script(tuple(items), self.line)

    def pipeline(self) -> Pipeline:
        start = self.peek()
        stages = [self.stage()]
        while self.at_op("|"):
            bar = self.take()
            self.skip_newlines()
            if self.peek() is None or self.at_op(*_SEPARATORS, "&&", "||", "|", ")"):
                raise self.error("'|' needs a command after it", bar)
            stages.append(self.stage())
        return self._with_redirects(stages, start.pos if start else 0)

    def _with_redirects(self, stages: list[Stage], pos: int) -> Pipeline:
        stdin = stdout = None
        cleaned: list[Stage] = []
        for index, stage in enumerate(stages):
            stage, redirects = _strip(stage)
            for r in redirects:
                if r.op == "<":
                    if index != 0 or stdin is not None:
                        raise AishSyntaxError("'<' is only allowed once, on the first stage", self.line, r.pos)
                    stdin = r
                elif index != len(stages) - 1:
                    raise AishSyntaxError(f"{r.op!r} is only allowed once, on the last stage", self.line, r.pos)
                elif stdout is not None:  # ``athena is 10 > 5 > 1?``: a sentence's comparisons
                    raise AishSyntaxError(f"a second {r.op!r}; to send it as text, quote it", self.line, r.pos)
                else:
                    stdout = r
            cleaned.append(stage)
        return Pipeline(tuple(cleaned), stdin, stdout, pos)

    def stage(self) -> Stage:
        first = self.unit()
        if self.depth:
            self.skip_newlines()
        if not self.at_op("&"):
            return first
        members = [first]
        while self.at_op("&"):
            amp = self.take()
            self.skip_newlines()
            nxt = self.peek()
            if nxt is None or (nxt.kind != "word" and not self.at_op("(")):
                background = nxt is None or self.at_op(*_SEPARATORS)  # ``sleep 5 &``: sh's background job
                where = " (aish runs no job in the background: !CMD & gives it to sh)" if background else ""
                raise self.error(f"'&' needs a command after it{where}", amp)
            members.append(self.unit())
            if self.depth:
                self.skip_newlines()
        return Group(tuple(members), _pos(first))

    def unit(self) -> Stage:
        tok = self.peek()
        if tok is None:
            raise self.unexpected()
        if tok.kind == "op" and tok.value == "(":
            if self.depth >= MAX_NESTING:
                raise self.error(f"'(' nested more than {MAX_NESTING} deep", tok)
            self.take()
            self.skip_newlines()
            self.depth += 1
            inner = self.stage()
            self.depth -= 1
            self.skip_newlines()
            if not self.at_op(")"):
                raise self.error("'(' is never closed", tok) if self.peek() is None else self.unexpected()
            self.take()
            return inner
        if tok.kind != "word":
            raise self.unexpected()
        return self.command()

    def command(self) -> Command:
        name_tok = self.take()
        controls = self.controls() if self.at_op("[") else Controls()
        args: list[Word | Redirect] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "word":
                self.take()
                args.append(Word(tok.value, tok.pos, tok.quoted, tok.segments))
            elif tok.value in ("<", ">", ">>"):
                self.take()
                target = self.peek()
                if target is None or target.kind != "word":
                    if target is not None and target.value == "&" and target.pos == tok.pos + len(tok.value):
                        raise self.error(
                            f"'{tok.value}&' sends one output into another (2>&1, >&2), which is sh's: "
                            f"give the line to sh with ! (!make 2>&1 | athena what failed?)",
                            tok,
                        )
                    raise self.error(f"{tok.value!r} needs a file name after it", tok)
                self.take()
                args.append(Redirect(tok.value, target.value, tok.pos, target.segments))
            else:
                break
        # Redirects ride along in args until the pipeline sorts them out.
        return Command(name_tok.value, tuple(args), name_tok.pos, controls)  # type: ignore[arg-type]

    def controls(self) -> Controls:
        """``NAME[-m MODEL -s SYSTEM -o KEY VALUE]``: the tokenizer closed the bracket."""
        bracket = self.take()
        words: list[Token] = []
        while not self.at_op("]"):
            words.append(self.take())
        self.take()
        try:
            controls, _ = parse_controls([w.value for w in words])
        except ControlsError as exc:
            where = words[exc.index] if exc.index < len(words) else bracket
            raise self.error(str(exc), where) from None
        if not controls:
            raise self.error(f"'[]' holds no options ({USAGE})", bracket)
        return controls


def _pos(stage: Stage) -> int:
    return stage.pos


def _strip(stage: Stage) -> tuple[Stage, list[Redirect]]:
    """Take the redirections out of a stage (and out of the members of a group)."""
    if isinstance(stage, Group):
        members, found = [], []
        for member in stage.members:
            clean, redirects = _strip(member)
            members.append(clean)
            found.extend(redirects)
        return Group(tuple(members), stage.pos), found
    args: tuple[Word | Redirect, ...] = stage.args  # the redirects ride along in args (see ``command``)
    redirects = [a for a in args if isinstance(a, Redirect)]
    if not redirects:
        return stage, []
    words = tuple(a for a in args if isinstance(a, Word))
    return Command(stage.name, words, stage.pos, stage.controls), redirects
