"""Ending by SIGTERM or SIGHUP the way Ctrl-C ends a run: unwound, so that what is under way is
recorded and closed first (decision 102).

``timeout`` and a cancelled CI job send SIGTERM; a closed terminal (or ssh session), SIGHUP.
At their default action the process would vanish at once: the answer streaming lost what
arrived since history's last write (up to a fifth of a second), its run left ``running``
(read back as interrupted), a transcript's sandbox left behind. Under :func:`ended_by_sigterm`
the signal raises :class:`Terminated` in the main thread instead; it unwinds past every
``except Exception``, the ``finally`` blocks on the way record the run and close the store,
and then the process ends by that signal, as it would have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import signal
else:  # the C core of :mod:`signal`, the same functions on plain numbers: its enums cost a start 0.5 ms
    import _signal as signal


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (see :func:`ended_by_sigterm`): it unwinds like Ctrl-C, past every
    ``except Exception``, so that the run under way is recorded, the store closed and each
    transcript sandbox on the way removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """``SIGHUP (the terminal closed)``, ``SIGTERM``."""
        from signal import Signals  # only to name one

        name = Signals(self.signum).name
        return f"{name} (the terminal closed)" if self.signum == signal.SIGHUP else name


ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""``timeout`` and a cancelled CI job send SIGTERM; a closed terminal (or ssh session), SIGHUP."""


def terminated(signum: int, ending: Sequence[int] = ENDING_SIGNALS) -> NoReturn:
    """A signal handler's body: put ``ending`` back to their default action (a second signal ends
    aish at once, whatever the unwinding waits for), then unwind (:class:`Terminated`)."""
    for s in ending:
        signal.signal(s, signal.SIG_DFL)
    raise Terminated(signum)


@contextmanager
def ended_by_sigterm() -> Iterator[None]:
    """Run the body so that SIGTERM (``timeout``, a CI job cancelled) or SIGHUP (the terminal
    closed) unwinds it first (:class:`Terminated`): its ``finally`` blocks record and close
    what is under way, then the process ends by that signal, as it would have. A second
    signal meanwhile ends it at once. Only in the main thread, and only for a signal with its
    default action (a caller with a handler of its own keeps it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = [s for s in ENDING_SIGNALS if signal.getsignal(s) == signal.SIG_DFL]

    def handler(signum: int, frame: FrameType | None) -> None:
        terminated(signum, handled)

    for s in handled:
        signal.signal(s, handler)
    try:
        yield
    except Terminated as ended:
        from aish.tty import die_of

        die_of(ended.signum)
        raise SystemExit(128 + ended.signum) from None  # not reached: the signal's default action ends us
    finally:
        for s in handled:
            signal.signal(s, signal.SIG_DFL)


__all__ = ["ENDING_SIGNALS", "Terminated", "ended_by_sigterm", "terminated"]
