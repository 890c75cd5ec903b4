"""Run history: what aish records while lines run, and the ``history`` command.

The storage itself is a plugin (:class:`aish.contracts.HistoryBackend`,
registered through ``aish_register_history_backends``). This package holds
what is the same for every backend:

- :mod:`aish.history.terms` and :mod:`aish.history.files`: helpers backends
  use (search semantics, private files), re-exported by :mod:`aish`;
- :mod:`aish.history.store`: which backend to open, and reading runs back
  (a run whose process died reads back as interrupted);
- :mod:`aish.history.recorder` and :mod:`aish.history.writer`: recording
  runs as they stream, from a background thread, never failing a run;
- :mod:`aish.history.commands` and :mod:`aish.history.show`: ``history``,
  ``history show N`` and the rest, for the shell and ``aish history``.

Nothing is imported here, so importing :mod:`aish` stays cheap.
"""
