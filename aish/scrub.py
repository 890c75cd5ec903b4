"""Keeping secrets (API keys) out of errors, logs and history.

A :class:`Scrubber` replaces by ``***``:

- a secret itself, in any case (``SK-TESTSECRET`` for ``sk-testsecret``);
- a masked form of it: a run of mask characters (``***``, ``•••``, ``...``)
  with, around it, a start and/or an end of the secret (in any case) that
  together show at least :data:`MIN_REVEALED` characters. Servers echo keys
  like this (``Incorrect API key provided: sk-TESTS*******6789``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

MASK = "***"
MIN_REVEALED = 4
"""A masked form is a secret's when at least this many of its characters show around the mask."""
MAX_HOLD = 512
"""While text streams, at most this much of a word that may be a masked secret is held back."""

_KEYISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_WORDISH = _KEYISH | frozenset("*\u2022\u00b7\u2026.")
"""What a word that may be a masked secret is made of."""


@functools.cache
def _mask_run() -> re.Pattern[str]:
    """A run of mask characters. Compiled on first use (~0.3 ms): only a scrubber with a secret needs it."""
    return re.compile(r"[*\u2022\u00b7\u2026]{3,}|\.{3,}|\u2026")


class Scrubber:
    """Replaces every form of the given secrets in a text by ``***``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._exact = re.compile("|".join(map(re.escape, self.secrets)), re.IGNORECASE) if self.secrets else None
        self._longest = len(self.secrets[0]) if self.secrets else 0

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __call__(self, text: str) -> str:
        if self._exact is None or not text:
            return text
        text = self._exact.sub(MASK, text)
        return self._unmask(text) if _mask_run().search(text) else text

    def _unmask(self, text: str) -> str:
        out: list[str] = []
        done = 0
        for run in _mask_run().finditer(text):
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
        return any(s.lower().startswith(head) and s.lower().endswith(tail) for s in self.secrets)

    def safe_cut(self, text: str) -> int:
        """How much of streaming ``text`` can be scrubbed and written now.

        What could be the start of a secret (or of its masked form) completed
        by the next piece is held back, and so is a secret that would straddle
        the cut: each piece, scrubbed on its own, then never holds part of a
        secret.
        """
        if self._exact is None:
            return len(text)
        cut = max(0, len(text) - (self._longest - 1))
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
        if cut - word < MAX_HOLD and (cut == len(text) or text[cut] in _WORDISH):
            cut = word
        return cut


__all__ = ["MASK", "MAX_HOLD", "MIN_REVEALED", "Scrubber"]
