"""Trigram filters of the search cache's blocks: a search reads only the blocks that may match.

The cache's entries (:mod:`aish_history_jsonl.cache`) are cut into blocks of
about BLOCK bytes of whole lines. After each block the cache holds its filter
line: ``#`` and a set of ``1 << LOG_BITS`` bits, in which bit ``slot(g)`` is
set for every trigram ``g`` (three consecutive bytes) of the block that holds
no ASCII white space. The bits go six to a character, as base64's digits
(bit ``b`` is bit ``b % 6`` of character ``b // 6``), so that a search tests
a bit without decoding the line, and the line holds no newline.

A search term occurs in an entry only if each of its own white-space-free
trigrams does, within one of the entry's words; so a block whose filter lacks
one of the term's bits cannot hold it and is not read. A filter is a Bloom
filter with one hash: it may let a block through in vain (the scan then reads
it and finds nothing), never turn away one that matches. A term shorter than
three bytes filters nothing.

The trigrams are those of the block's distinct words (``bytes.split``),
joined by spaces: a word repeated a thousand times is looked at once, and the
trigrams that straddle a joining space are set too, harmlessly (no term's
trigram holds a space). They are read four bytes at a time at each of the four
offsets, as unsigned 32-bit numbers, whose low three bytes are a trigram.

Why: without filters a search for a rare word reads the whole cache, 52 MB over
100,000 runs (11-24 ms on a slow machine, most of it copying the bytes);
with them it reads about 1/30 of that, the filters, and the blocks they let
through.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable

BLOCK = 256 << 10
"""Bytes of entries after which a block is closed and its filter written."""
LOG_BITS = 16
"""A filter has ``1 << LOG_BITS`` bits (8 KiB; about 3% of the block it describes). Over English
text a 256 KiB block sets about 15% of them."""
MARK = b"#"
"""A filter line starts with this (an entry starts with a digit, the state line with ``~``)."""
_CHARS = (1 << LOG_BITS) // 6 + 1
LINE = len(MARK) + _CHARS + 1
"""Bytes of a filter line, its newline included: every one has this length."""
_DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ENCODE = bytes.maketrans(bytes(range(64)), _DIGITS)
_VALUE = {digit: value for value, digit in enumerate(_DIGITS)}
_SHIFT = 32 - LOG_BITS
_MULTIPLIER = 0x9E3779B1
"""Fibonacci hashing: the trigram times this, modulo 2**32, top LOG_BITS bits."""


def slot(gram: int) -> int:
    """The bit of the trigram ``gram`` (its three bytes, little-endian)."""
    return ((gram * _MULTIPLIER) & 0xFFFFFFFF) >> _SHIFT


def _grams(words: bytes) -> set[int]:
    """The trigrams of ``words`` (little-endian numbers), some with a space in them."""
    n = len(words)
    quads: set[int] = set()
    for offset in range(4):
        count = (n - offset) // 4
        if count > 0:
            part = array("I")
            part.frombytes(words[offset : offset + 4 * count])
            if sys.byteorder == "big":
                part.byteswap()
            quads.update(part)
    grams = {quad & 0xFFFFFF for quad in quads}
    if n >= 3:  # the last trigram has no fourth byte after it
        grams.add(int.from_bytes(words[n - 3 :], "little"))
    return grams


def line(entries: bytes) -> bytes:
    """The filter line of a block of entries."""
    sextets = bytearray(_CHARS)
    for bit in {slot(gram) for gram in _grams(b" ".join(set(entries.split())))}:
        sextets[bit // 6] |= 1 << bit % 6
    return MARK + sextets.translate(_ENCODE) + b"\n"


def slots(needles: Iterable[bytes]) -> list[int]:
    """The bits a block's filter must have for every needle to possibly occur in it."""
    wanted: set[int] = set()
    for needle in needles:
        for word in needle.split():
            wanted.update(slot(int.from_bytes(word[i : i + 3], "little")) for i in range(len(word) - 2))
    return sorted(wanted)


def admits(filter_line: bytes, wanted: list[int]) -> bool:
    """Does the block whose filter line this is (newline included) have every wanted bit?

    A line that is not a filter line admits everything: the search then reads
    the block, and its results are confirmed from the JSONL file anyway.
    """
    if len(filter_line) != LINE or not filter_line.startswith(MARK):
        return True
    value = _VALUE.get
    return all(value(filter_line[len(MARK) + bit // 6], 63) >> bit % 6 & 1 for bit in wanted)
