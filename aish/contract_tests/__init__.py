"""Contract test suites that every implementation of an aish extension point must pass.

They are pytest classes to subclass in your plugin's tests (pytest is needed
only there): see :mod:`aish.contract_tests.history`.
"""


def undefined(suite: object, member: str, what: str) -> NotImplementedError:
    """The error of a suite's subclass that left ``member`` out: it names the class and what to give."""
    return NotImplementedError(f"{type(suite).__name__} must define {member}: {what} (docs/plugins/testing.md)")
