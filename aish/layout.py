"""Text laid out for the reader: two columns and tables that fit the terminal's width.

On a terminal the last column wraps at word boundaries into the width left
beside the others (continuation lines start under it), so a long description
never breaks mid-word at the edge of the screen. Anywhere else (a pipe, a file,
a test) nothing is wrapped: a line per row, as scripts expect.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TextIO

from aish.terminal import cell_widths, cells

NARROWEST = 20
"""Below this many columns for the last column, wrapping would help less than it hurts: rows stay whole."""


def columns(out: TextIO) -> int | None:
    """The width of the terminal ``out`` writes to; None when it is not a terminal."""
    try:
        return os.get_terminal_size(out.fileno()).columns if out.isatty() else None
    except (AttributeError, ValueError, OSError):
        return None


def two_columns(rows: Mapping[str, str], out: TextIO, indent: str = "  ") -> None:
    """``KEY  value`` rows with the keys padded to one width; values wrap on a terminal."""
    width = max((cells(k) for k in rows), default=0)
    table([[key, value] for key, value in rows.items()], out, indent=indent, widths=[width, 0])


def table(
    rows: Sequence[Sequence[str]], out: TextIO, *, indent: str = "", widths: Sequence[int] = (), header: bool = False
) -> None:
    """Rows of cells in padded columns, two blanks apart; the last column wraps on a terminal, and
    where it would have less than :data:`NARROWEST` columns beside the others it goes under its
    row, indented, with as many columns before it as the row needs to fit (a ``header`` row's
    cells that go under are left out)."""
    if not rows:
        return
    count = len(rows[0])
    pads = list(widths) or [max(cells(r[i]) for r in rows) for i in range(count)]
    lead = len(indent) + sum(pads[:-1]) + 2 * (count - 1)
    width = columns(out) or 0
    room = width - lead - 1  # the last column never reaches the edge: no deferred wrap
    under = width - len(indent) - 5  # the last column's room under its row
    below = count > 1 and room < NARROWEST <= under
    keep = count - 1  # the columns that stay on the row when the last goes under it
    while below and keep > 1 and len(indent) + sum(pads[:keep]) + 2 * (keep - 1) > width - 1:
        keep -= 1
    for row in rows:
        head = indent + "  ".join(_padded(cell, w) for cell, w in zip(row[:keep], pads, strict=False))
        if below:  # too narrow beside the others: the last columns go under their row, indented
            out.write(head.rstrip() + "\n")
            if not (header and row is rows[0]):
                for cell in row[keep:]:
                    out.writelines(f"{indent}    {line}\n" for line in (_wrap(cell, under) if cell else []))
            continue
        head += "  " if count > 1 else ""
        lines = _wrap(row[-1], room) if room >= NARROWEST else [row[-1]]
        out.write((head + lines[0]).rstrip() + "\n")
        out.writelines(f"{' ' * lead}{line}".rstrip() + "\n" for line in lines[1:])


def paragraph(text: str, out: TextIO, width: int = 80) -> None:
    """Prose in lines of at most ``width`` columns, fewer on a narrower terminal."""
    import textwrap

    columns_now = columns(out)
    fit = min(width, columns_now - 1) if columns_now else width
    out.writelines(f"{line}\n" for line in textwrap.wrap(text, max(fit, NARROWEST), break_on_hyphens=False))


def description_column(line: str) -> int | None:
    """Where the description of a usage line (``usage: cmd ARGS   what it does``) starts: after
    its first gap of two blanks or more; None without one."""
    import re

    gap = re.search(r"\S( {2,})(?=\S)", line)
    return gap.end() if gap else None


def hanging(line: str, out: TextIO, at: int | None = None, width: int | None = None) -> None:
    """One line of a usage text written to fit the terminal: its description (from ``at``, the
    column of its block, when the line has a blank just before it; else from
    :func:`description_column`) wraps under where it starts. A line without one, or too narrow a
    terminal for one, wraps as a paragraph. ``width``: the terminal's, when the caller knows it."""
    width = width or columns(out)
    if not width or cells(line) < width:
        out.write(line + "\n")
        return
    if at is None or not (line[at - 1 : at] == " " and line[at : at + 1].strip()):
        at = description_column(line)
    lead = cells(line[:at]) if at else 0
    if at is None or width - 1 - lead < NARROWEST:
        out.writelines(f"{row}\n" for row in _wrap(line, max(width - 1, NARROWEST)))
        return
    rows = _wrap(line[at:], width - 1 - lead)
    out.write(line[:at] + rows[0] + "\n")
    out.writelines(" " * lead + row + "\n" for row in rows[1:])


def fitted(text: str, out: TextIO) -> str:
    """``text`` with each of its lines wrapped at words to the terminal ``out`` writes to (a
    banner, a note); as it is anywhere else."""
    width = columns(out)
    if not width:
        return text
    rows = [row for line in text.split("\n") for row in (_wrap(line, max(width - 1, NARROWEST)) if line else [""])]
    return "\n".join(rows)


def clip(text: str, width: int) -> str:
    """``text`` if it takes at most ``width`` terminal cells, else its start and ``...`` in that many."""
    if cells(text) <= width:
        return text
    room, used, end = width - 3, 0, 0
    for cell in cell_widths(text):
        if used + cell > room:
            break
        used, end = used + cell, end + 1
    return text[:end] + "..."


def _padded(cell: str, width: int) -> str:
    """``cell`` and blanks after it, ``width`` terminal cells in all (a CJK character takes two)."""
    return cell + " " * (width - cells(cell))


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal cells, broken at blanks (and inside a word
    wider than a line, as text without blanks such as Japanese is)."""
    if cells(text) <= width:
        return [text]
    if text.isascii():
        import textwrap

        return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    lines: list[str] = []
    line, used = "", 0
    for word in text.split():
        size = cells(word)
        if line and used + 1 + size <= width:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line:
            lines.append(line)
        line, used = "", 0
        for char, cell in zip(word, cell_widths(word), strict=True):  # a word wider than a line is broken
            if used + cell > width and line:
                lines.append(line)
                line, used = "", 0
            line, used = line + char, used + cell
    return [*lines, line] if line else lines or [""]


__all__ = ["clip", "columns", "description_column", "fitted", "hanging", "paragraph", "table", "two_columns"]
