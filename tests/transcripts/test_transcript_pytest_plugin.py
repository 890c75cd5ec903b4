"""The pytest plugin: transcripts become test items, only when asked, only where pytest looks."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

GOOD = "aish> echo hi\nhi\naish> athena hi\nAthena (offline demo): /.*/\n"
BAD = "A failing transcript.\naish> echo one\none\naish> echo two\nthree\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    checks = pytester.mkdir("checks")
    (checks / "good.transcript").write_text(GOOD)
    (checks / "bad.transcript").write_text(BAD)
    other = pytester.mkdir("other")
    (other / "elsewhere.transcript").write_text(GOOD)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    return pytester


def test_collects_nothing_unless_asked(project: pytest.Pytester) -> None:
    result = project.runpytest("checks")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_flag_collects_each_transcript_as_a_test(project: pytest.Pytester) -> None:
    result = project.runpytest("--aish-transcripts", "checks", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*checks/bad.transcript::bad.transcript FAILED*",
            "*checks/good.transcript::good.transcript PASSED*",
            "checks/bad.transcript:4: output differs: aish> echo two",
            "--- checks/bad.transcript",
            "+++ checks/bad.transcript (actual output)",
            "@@ -5 +5 @@",
            "-three",
            "+two",
        ]
    )


def test_the_ini_option_turns_it_on_and_testpaths_limit_it(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\naish_transcripts = true\ntestpaths = other\n")
    result = project.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*other/elsewhere.transcript::elsewhere.transcript PASSED*"])


def test_the_ini_configuration_option(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\naish_transcripts = true\naish_transcripts_config = aish.toml\n")
    (project.path / "aish.toml").write_text("[settings]\nplugin_agents = false\n")
    result = project.runpytest("checks/good.transcript")
    result.assert_outcomes(failed=1)
    hidden = "agents offered by plugins are hidden (plugin_agents = false)"
    result.stdout.fnmatch_lines([f"+aish: unknown agent 'athena'; {hidden}"])


def test_our_own_suite_does_not_collect_transcripts(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("aish-transcripts")
    assert pytestconfig.getini("aish_transcripts") is False
    assert not pytestconfig.getoption("aish_transcripts")
