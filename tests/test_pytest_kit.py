"""The ``aish_*`` pytest fixtures for plugin authors, used from an author's own test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

AUTHOR_TESTS = """
from aish import Renderer, RenderTarget, TextDelta, hookimpl


class Shout:
    def __init__(self, target: RenderTarget) -> None:
        self.out = target.out

    def feed(self, event: object) -> None:
        if isinstance(event, TextDelta):
            self.out.write(event.text.upper())

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class ShoutPlugin:
    @hookimpl
    def aish_register_renderers(self, register):
        register("shout", Shout)


def test_env_is_isolated(aish_env):
    import os
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(aish_env))
    assert not [v for v in os.environ if v.startswith("AISH_")]


def test_chosen_plugins_and_agents(aish_app, aish_agent, aish_run, aish_refserver):
    app = aish_app(("shout", ShoutPlugin()), agents=[aish_agent("bot", tokens=5)])
    assert app.host.plugins["shout"].registered == [("renderer", "shout")]
    assert "sse" not in app.host.plugins  # only the plugins asked for
    outcome = aish_run("bot hello", app=aish_app(
        ("shout", ShoutPlugin()), *BUILTINS, agents=[aish_agent("bot", tokens=5)]), renderer="shout")
    assert outcome.status == 0, outcome.err
    assert outcome.out.startswith("ATHENA (OFFLINE DEMO)")
    assert aish_refserver.requests[-1].body["messages"][-1]["content"] == "hello"


def test_faults_reach_the_server(aish_app, aish_agent, aish_run):
    app = aish_app(*BUILTINS, agents=[aish_agent("bot", fault={"status": 401})])
    outcome = aish_run("bot hi", app=app)
    assert outcome.status == 5 and outcome.err.startswith("aish: bot: authentication failed: HTTP 401")


def test_installed_plugins_by_default(aish_run):
    outcome = aish_run("echo hi | plain_missing_is_fine")
    assert outcome.status == 3 and "unknown" in outcome.err


def test_meant_to_fail(aish_run):
    assert aish_run("echo hi").out == "bye\\n"


import aish_sse, aish_openai, aish_plain  # noqa: E402
BUILTINS = [("sse", aish_sse), ("openai", aish_openai), ("plain", aish_plain)]
"""


def test_fixtures_work_in_an_authors_test_file(tmp_path: Path) -> None:
    (tmp_path / "test_author.py").write_text(AUTHOR_TESTS, encoding="utf-8")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "aish.pytest_plugin", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    report = result.stdout + result.stderr
    assert "4 passed" in report and "1 failed" in report, report
    assert "FAILED test_author.py::test_meant_to_fail" in report, report


AUTHOR_CONTRACT = """
from aish import TextDelta
from aish.contract_tests.renderer import RendererContract


class Upper:
    def __init__(self, target):
        self.out = target.out

    def feed(self, event):
        if isinstance(event, TextDelta):
            self.out.write(event.text.upper())

    def flush(self):
        pass

    def close(self):
        pass


class TestUpper(RendererContract):
    def make_renderer(self, target):
        return Upper(target)
"""


def test_a_failed_contract_shows_the_values_it_compared(tmp_path: Path) -> None:
    """pytest rewrites the asserts of ``aish.contract_tests``: a bare ``AssertionError`` tells an author nothing."""
    (tmp_path / "test_upper.py").write_text(AUTHOR_CONTRACT, encoding="utf-8")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "aish.pytest_plugin", "-q", "-p", "no:cacheprovider",
         "-k", "test_exact_text_when_not_a_tty"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    report = result.stdout + result.stderr
    assert "1 failed" in report, report
    assert "AssertionError: assert " in report or "assert 'HELLO" in report, report
    assert "HELLO" in report, report  # the renderer's own output is in the message


AUTHOR_UNFINISHED = """
from aish.contract_tests.codec import CodecContract
from aish.contract_tests.history import HistoryBackendContract
from aish.contract_tests.transport import TransportContract


class TestNoUrl(TransportContract):
    transport = "file"
    codec = "text"

    def make_transport(self, agent):
        raise AssertionError("never built")


class TestNoNames(TransportContract):
    def url(self, server):
        return server.base_url


class TestNoCodec(CodecContract):
    pass


class TestNoFactory(HistoryBackendContract):
    pass
"""


def test_an_unfinished_contract_subclass_says_what_it_lacks(tmp_path: Path) -> None:
    """An author's first run: each failure names the class and the member to define, not a bare NotImplementedError."""
    (tmp_path / "test_unfinished.py").write_text(AUTHOR_UNFINISHED, encoding="utf-8")
    (tmp_path / "test_upper.py").write_text(AUTHOR_CONTRACT, encoding="utf-8")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "aish.pytest_plugin", "-q", "-p", "no:cacheprovider",
         "-k", "test_streams_the_answer_in_order or test_each_decoder_is_fresh or test_an_empty_store_has_no_runs"
               " or test_exact_text_when_not_a_tty"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    report = result.stdout + result.stderr
    assert "4 failed" in report and "1 error" in report, report  # the history backend is built by a fixture
    for line in (
        "NotImplementedError: TestNoUrl must define url(self, server): the URL where the server speaks your"
        " protocol (server.base_url) (docs/plugins/testing.md)",
        "NotImplementedError: TestNoNames must define transport: the name your plugin registers the transport"
        " under, as a class attribute (docs/plugins/testing.md)",
        "NotImplementedError: TestNoCodec must define make_codec(self, agent): return your codec for that"
        " AgentConfig (docs/plugins/testing.md)",
        'NotImplementedError: TestNoFactory must define factory: "package.module:callable", the factory your'
        " plugin registers (docs/plugins/testing.md)",
        "AssertionError: off a terminal, out must hold exactly the streamed text (exact_text = True, the"
        " default); a renderer that changes the text (prefixes, a count, JSON) sets exact_text = False",
    ):
        assert line in report, report
