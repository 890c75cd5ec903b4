"""Contract test suites that every implementation of an aish extension point must pass.

They are pytest classes to subclass in your plugin's tests (pytest is needed
only there): see :mod:`aish.contract_tests.history`.
"""
