"""Keeping secrets (API keys) out of errors, logs and history.

A :class:`Scrubber` replaces by ``***``:

- a secret itself, in any case (``SK-TESTSECRET`` for ``sk-testsecret``):
  servers and models echo keys back in another case;
- a masked form of it: a run of mask characters (``***``, ``•••``, ``...``)
  with, around it, a start and/or an end of the secret (in any case) that
  together show at least :data:`MIN_REVEALED` characters. Servers echo keys
  like this (``Incorrect API key provided: sk-TESTS*******6789``).

A secret shorter than :data:`MIN_SUBSTRING` characters (``abc``, ``test``: real
keys are far longer) is replaced only where it is a whole word, not inside
others (``echo abcdef`` is kept), and has no masked forms.

Scrubbing runs over whatever is recorded, piped input included (tens of MB):
a text is first searched for anything that may be a secret with plain string
searches (:meth:`Scrubber.may_hold_secret`, :func:`may_hold_mask_run`), and
the regular expressions run only where something was found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence

MASK = "***"
MIN_REVEALED = 4
"""A masked form is a secret's when at least this many of its characters show around the mask."""
MIN_SUBSTRING = 12
"""A secret shorter than this is replaced only as a whole word (and has no masked forms)."""
MAX_HOLD = 512
"""While text streams, at most this much of a word that may be a masked secret is held back."""
CHUNK = 1 << 20
"""The pre-check lowers a long text this many characters at a time (no copy of the whole text)."""

_FOLDS = {"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"}
"""The characters that are not ASCII but match an ASCII letter under ``re.IGNORECASE``."""
_KEYISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_MASKISH = frozenset("*\u2022\u00b7\u2026.")
_WORDISH = _KEYISH | _MASKISH | frozenset(_FOLDS)
"""What a word that may be a masked secret is made of (with what ``re.IGNORECASE`` takes for a letter of it:
``İabc`` is one word to a short secret's pattern, so it must be one word when held back too)."""
_KEYISH_CLASS = "[A-Za-z0-9_-]"


@functools.cache
def _mask_run() -> re.Pattern[str]:
    """A run of mask characters. Compiled on first use (~0.3 ms): only a scrubber with a secret needs it."""
    return re.compile(r"[*\u2022\u00b7\u2026]{3,}|\.{3,}|\u2026")


@functools.cache
def _mask_area() -> re.Pattern[str]:
    """Where :func:`_mask_run` can match: a run of three or more of its characters, or a lone ``…``.
    It starts with one character class, which ``re`` scans for quickly (the alternation above does not)."""
    return re.compile(r"[*\u2022\u00b7\u2026.](?:[*\u2022\u00b7\u2026.]{2,}|(?<=\u2026))")


def may_hold_mask_run(text: str) -> bool:
    """False when ``text`` has no run of mask characters (plain string searches, fast on any length)."""
    if "\u2026" in text or "..." in text:
        return True
    marks = [c for c in "*\u2022\u00b7" if c in text]
    return marks[0] * 3 in text if len(marks) == 1 else bool(marks)


def mask_runs(text: str) -> Iterator[re.Match[str]]:
    """The runs of mask characters in ``text``: :func:`_mask_run`'s ``finditer``, found faster."""
    if not may_hold_mask_run(text):
        return
    for area in _mask_area().finditer(text):
        yield from _mask_run().finditer(text, area.start(), area.end())


def fold(text: str) -> str:
    """``text`` lowered so that it holds an ASCII secret lowered exactly where ``re.IGNORECASE`` would match it."""
    if not text.isascii():
        for odd, plain in _FOLDS.items():
            if odd in text:
                text = text.replace(odd, plain)
    return text.lower()


def scrubber(secrets: Sequence[str]) -> Scrubber:
    """A :class:`Scrubber` of ``secrets``, made once for the same secrets (in the same order): a
    scrubber holds nothing of a text it scrubbed, so any thread may share it."""
    return _scrubber(tuple(secrets))


@functools.lru_cache(maxsize=16)
def _scrubber(secrets: tuple[str, ...]) -> Scrubber:
    return Scrubber(secrets)


class Scrubber:
    """Replaces every form of the given secrets in a text by ``***``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._long = [s for s in self.secrets if len(s) >= MIN_SUBSTRING]
        short = [s for s in self.secrets if len(s) < MIN_SUBSTRING]
        self._short = bool(short)
        patterns = [re.escape(s) for s in self._long]
        patterns += [f"(?<!{_KEYISH_CLASS}){re.escape(s)}(?!{_KEYISH_CLASS})" for s in short]
        self._exact = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None
        self._longest = len(self.secrets[0]) if self.secrets else 0
        self._folded = [fold(s) for s in self.secrets] if all(s.isascii() for s in self.secrets) else None
        """The secrets lowered, for the plain-search pre-checks (None: a secret is not ASCII, use the regex)."""

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __call__(self, text: str) -> str:
        if self._exact is None or not text:
            return text
        if self.may_hold_secret(text):
            text = self._exact.sub(MASK, text)
        return self._unmask(text) if self._long and may_hold_mask_run(text) else text

    def may_hold_secret(self, text: str) -> bool:
        """False when no secret is in ``text`` in any case (checked by lowering it a piece at a time)."""
        if self._folded is None:
            return True
        overlap = self._longest - 1
        for start in range(0, len(text), CHUNK):
            piece = fold(text[start : start + CHUNK + overlap])
            if any(secret in piece for secret in self._folded):
                return True
        return False

    def _unmask(self, text: str) -> str:
        out: list[str] = []
        done = 0
        for run in mask_runs(text):
            if run.start() < done:
                continue
            start, end = run.start(), run.end()
            while start > done and text[start - 1] in _KEYISH:
                start -= 1
            while end < len(text) and text[end] in _KEYISH:
                end += 1
            if self._masks_a_secret(text[start : run.start()], text[run.end() : end]):
                out.append(text[done:start])
                out.append(MASK)
                done = end
        if not out:
            return text  # nothing masked a secret: no copy of a long text (decision 27)
        out.append(text[done:])
        return "".join(out)

    def _masks_a_secret(self, head: str, tail: str) -> bool:
        if len(head) + len(tail) < MIN_REVEALED:
            return False
        head, tail = head.lower(), tail.lower()
        return any(s.lower().startswith(head) and s.lower().endswith(tail) for s in self._long)

    def safe_cut(self, text: str) -> int:
        """How much of streaming ``text`` can be scrubbed and written now.

        Held back: what could be the start of a secret completed by the next
        piece, a secret that would straddle the cut, and a last word that may
        be a masked secret still arriving (it holds a mask character), or with
        a short secret any last word (a short secret is one only as a whole
        word). Each piece, scrubbed on its own, then never holds part of a
        secret, and the pieces scrubbed are the whole text scrubbed.
        """
        if self._exact is None:
            return len(text)
        cut = self._partial_start(text)
        moved = True
        while moved and cut > 0:
            moved = False
            for match in self._exact.finditer(text, max(0, cut - self._longest + 1), cut + self._longest - 1):
                if match.start() < cut < match.end():
                    cut, moved = match.start(), True
                    break
        word = cut  # never cut inside a word: it may be a masked secret still arriving
        while word > 0 and cut - word < MAX_HOLD and text[word - 1] in _WORDISH:
            word -= 1
        if cut < len(text):
            inside = text[cut] in _WORDISH
        else:
            inside = word < cut and (self._short or not _MASKISH.isdisjoint(text[word:cut]))
        if cut - word < MAX_HOLD and inside:
            cut = word
        return cut

    def _partial_start(self, text: str) -> int:
        """Where the end of ``text`` that may be the start of a secret (in any case) begins (its length if none)."""
        if self._folded is None:  # a secret that is not ASCII: hold as much as could be one
            return max(0, len(text) - (self._longest - 1))
        for start in range(max(0, len(text) - self._longest), len(text)):
            end = fold(text[start:])
            if any(secret.startswith(end) for secret in self._folded):
                return start
        return len(text)


__all__ = ["MASK", "MAX_HOLD", "MIN_REVEALED", "MIN_SUBSTRING", "Scrubber", "fold", "mask_runs", "may_hold_mask_run"]
