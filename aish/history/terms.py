"""What ``history search TEXT`` means, the same for every backend.

TEXT is split into terms at whitespace; a double-quoted phrase is one term
(``"two words"``); any other character is literal, so ``a|b``, ``-x``,
``it's`` and a lone ``"`` are plain text. A run matches when every term
occurs, ignoring case, in its line or in one of its answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aish.contracts import RunRecord

_TERM = re.compile(r'"([^"]+)"|(\S+)')


def search_terms(text: str) -> list[str]:
    """The terms of a search text: words, and double-quoted phrases as one term."""
    terms = []
    for match in _TERM.finditer(text):
        phrase, word = match.groups()
        term = (phrase if phrase is not None else word).strip()
        if term:
            terms.append(term)
    return terms


def searchable(run: RunRecord) -> str:
    """The text a search looks in: the line and every answer, one per line."""
    return "\n".join([run.line, *(stage.text for stage in run.stages)])


def run_matches(run: RunRecord, terms: Sequence[str]) -> bool:
    """Does every term occur (ignoring case) in the run's line or answers?"""
    haystack = searchable(run).lower()
    return all(term.lower() in haystack for term in terms)
