"""What ``history search TEXT`` means, the same for every backend.

TEXT is split into terms at whitespace; a double-quoted phrase is one term
(``"two words"``); any other character is literal, so ``a|b``, ``-x``,
``it's`` and a lone ``"`` are plain text. A run matches when every term
occurs, ignoring case, in its line or in one of its answers. Text and terms
are compared in one Unicode form (NFC, :func:`composed`): ``é`` typed as one
character finds ``e`` and a combining accent, as macOS file names and some
models write it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aish.contracts import RunRecord

_TERM = re.compile(r'"([^"]+)"|(\S+)')


def composed(text: str) -> str:
    """``text`` in Unicode's composed form (NFC): an accent and its letter as one character,
    where Unicode has one. Text that is already (any ASCII text) is returned at once."""
    import unicodedata

    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def search_terms(text: str) -> list[str]:
    """The terms of a search text: words, and double-quoted phrases as one term (composed, NFC)."""
    terms = []
    for match in _TERM.finditer(composed(text)):
        phrase, word = match.groups()
        term = (phrase if phrase is not None else word).strip()
        if term:
            terms.append(term)
    return terms


def searchable(run: RunRecord) -> str:
    """The text a search looks in: the line and every answer, one per line (composed, NFC)."""
    return composed("\n".join([run.line, *(stage.text for stage in run.stages)]))


def run_matches(run: RunRecord, terms: Sequence[str]) -> bool:
    """Does every term occur (ignoring case) in the run's line or answers?"""
    haystack = searchable(run).lower()
    return all(term.lower() in haystack for term in terms)
