"""The plugin kit: the plumbing every transport or history backend would otherwise repeat.

- :mod:`aish.kit.sse`: the WHATWG Server-Sent Events parser (``SSEParser``);
- :mod:`aish.kit.bytestream`: ``ByteStreamTransport``, a transport over one TCP
  connection per stream (connect, send, frame, idle timeout, cancel, resume ids,
  the wording the contract suite expects): a subclass says how messages are framed;
- :mod:`aish.kit.history`: ``RecordHistory``, a history backend made of a few
  storage operations, and ``claim_file``/``write_atomically`` for stores of files
  (cross-process numbering, kill-safe writes).

All of it is re-exported by :mod:`aish`. Nothing is imported here.
"""
