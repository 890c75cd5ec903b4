"""The documentation stays honest: hooks, configuration keys, exit codes and examples match the code.

Each check reads a page under ``docs/`` and compares it with what the code
accepts, so a hook, key or exit code added without its documentation (or
documentation left behind after a removal) fails here.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import aish.cli
import aish.errors
from aish.config import _AGENT_KEYS, _SETTINGS_KEYS, parse_config
from aish.contracts import Codec, Connection, Decoder, HistoryBackend, Renderer, Transport
from aish.hookspecs import PROJECT, AishHookSpecs

DOCS = Path(__file__).resolve().parent.parent / "docs"
HOOKS_MD = DOCS / "plugins" / "hooks.md"
CONFIGURATION_MD = DOCS / "configuration.md"
USAGE_MD = DOCS / "usage.md"

_HEADING = re.compile(r"^## (?P<title>.+?)\s*$", re.MULTILINE)
_HOOK_HEADING = re.compile(r"^`(?P<name>\w+)\((?P<params>[^)]*)\)`$")
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


# ------------------------------------------------------------------ helpers


def _hookspecs() -> dict[str, Callable[..., Any]]:
    """Every hook specification in ``AishHookSpecs``, by name."""
    marker = f"{PROJECT}_spec"
    return {
        name: member
        for name, member in inspect.getmembers(AishHookSpecs, inspect.isfunction)
        if hasattr(member, marker)
    }


def _expected_heading(name: str, spec: Callable[..., Any]) -> str:
    params = [p for p in inspect.signature(spec).parameters if p != "self"]
    return f"`{name}({', '.join(params)})`"


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading title, body) for each level-2 section of a Markdown page, outside code fences."""
    unfenced = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)  # same offsets
    matches = list(_HEADING.finditer(unfenced))
    sections = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        sections.append((match.group("title"), text[match.end() : end]))
    return sections


def _hook_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """Hook-like sections (headings such as ``## `aish_x(a, b)` ``), grouped by hook name."""
    found: dict[str, list[tuple[str, str]]] = {}
    for title, body in _sections(text):
        match = _HOOK_HEADING.match(title)
        if match:
            found.setdefault(match.group("name"), []).append((title, body))
        else:
            assert "aish_" not in title, f"hooks.md: heading {title!r} names a hook but is not `name(params)`"
    return found


def _normalise(text: str) -> str:
    """Docstring reST and Markdown compared alike: roles and doubled backticks dropped, blanks collapsed."""
    text = re.sub(r":[\w:]+:`", "`", text)  # :class:`x` -> `x`
    text = text.replace("``", "`")
    return " ".join(text.split())


def _toml_blocks(text: str) -> list[str]:
    return [m.group("body") for m in _FENCE.finditer(text) if m.group("lang") == "toml"]


def _exit_code_table(text: str) -> set[int]:
    """Codes in the first column of the table under the ``Exit codes`` heading (any level)."""
    match = re.search(r"^#{2,6} Exit codes[ \t]*\n(?P<body>.*?)(?=^#|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "usage.md has no 'Exit codes' heading"
    codes = set()
    for line in match.group("body").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells[0].isdigit():
            codes.add(int(cells[0]))
    assert codes, "usage.md's 'Exit codes' section has no table of codes"
    return codes


def _exit_constants(*modules: object) -> dict[str, int]:
    return {
        name: value
        for module in modules
        for name, value in vars(module).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }


# -------------------------------------------------------------------- hooks


def test_there_are_hooks_to_check() -> None:
    assert len(_hookspecs()) >= 8


def test_every_hook_has_exactly_one_section_with_its_exact_signature() -> None:
    sections = _hook_sections(HOOKS_MD.read_text(encoding="utf-8"))
    for name, spec in _hookspecs().items():
        expected = _expected_heading(name, spec)
        found = sections.get(name, [])
        assert len(found) == 1, f"hooks.md: expected one section '## {expected}', found {len(found)}"
        assert found[0][0] == expected, f"hooks.md: heading {found[0][0]!r} should be {expected!r}"


def test_no_sections_for_hooks_that_do_not_exist() -> None:
    sections = _hook_sections(HOOKS_MD.read_text(encoding="utf-8"))
    unknown = sorted(set(sections) - set(_hookspecs()))
    assert not unknown, f"hooks.md documents hooks that aish.hookspecs does not define: {unknown}"


def test_each_hook_section_quotes_the_first_line_of_its_docstring() -> None:
    sections = _hook_sections(HOOKS_MD.read_text(encoding="utf-8"))
    for name, spec in _hookspecs().items():
        doc = inspect.getdoc(spec)
        assert doc, f"hook {name} has no docstring"
        first = _normalise(doc.splitlines()[0])
        bodies = [body for _title, body in sections.get(name, [])]
        assert bodies, f"hooks.md has no section for {name}"
        assert first in _normalise(bodies[0]), f"hooks.md: the {name} section lacks its docstring's first line: {first}"


@pytest.mark.parametrize("contract", [Transport, Connection, Codec, Decoder, Renderer, HistoryBackend])
def test_every_contract_method_is_in_the_hook_reference(contract: type) -> None:
    text = HOOKS_MD.read_text(encoding="utf-8")
    assert f"`{contract.__name__}`" in text, f"hooks.md does not document the {contract.__name__} contract"
    methods = [n for n, v in vars(contract).items() if inspect.isfunction(v) and (n == "__iter__" or n[0] != "_")]
    assert methods
    for method in methods:
        assert f"`{method}(" in text, f"hooks.md does not document {contract.__name__}.{method}"


def test_the_checks_catch_a_missing_or_wrong_heading() -> None:
    """The parsing above really fails on a broken page (so the real checks can fail)."""
    text = HOOKS_MD.read_text(encoding="utf-8")
    heading = "## `aish_register_codecs(register)`"
    assert heading in text
    assert "aish_register_codecs" not in _hook_sections(text.replace(heading, "## Codecs"))
    renamed = _hook_sections(text.replace(heading, "## `aish_register_codecs(register, extra)`"))
    assert renamed["aish_register_codecs"][0][0] != _expected_heading(
        "aish_register_codecs", _hookspecs()["aish_register_codecs"]
    )
    assert "aish_no_such_hook" in _hook_sections(text + "\n## `aish_no_such_hook(app)`\n\nGone.\n")


# ------------------------------------------------------------ configuration


@pytest.mark.parametrize("key", sorted(_SETTINGS_KEYS))
def test_every_settings_key_is_documented(key: str) -> None:
    assert f"`{key}`" in CONFIGURATION_MD.read_text(encoding="utf-8"), f"configuration.md omits [settings] {key}"


@pytest.mark.parametrize("key", sorted(_AGENT_KEYS))
def test_every_agent_key_is_documented(key: str) -> None:
    assert f"`{key}`" in CONFIGURATION_MD.read_text(encoding="utf-8"), f"configuration.md omits agent key {key}"


def test_every_toml_example_is_valid_configuration() -> None:
    blocks = _toml_blocks(CONFIGURATION_MD.read_text(encoding="utf-8"))
    assert len(blocks) >= 4, "configuration.md should show its examples in ```toml blocks"
    with_agents = 0
    for block in blocks:
        try:
            data = tomllib.loads(block)
        except tomllib.TOMLDecodeError as exc:
            raise AssertionError(f"configuration.md: a toml block does not parse ({exc}):\n{block}") from None
        if "agents" in data or "settings" in data:
            with_agents += "agents" in data
            parse_config(data)  # raises ConfigError naming the agent and key
    assert with_agents >= 4, "configuration.md should show agents for the demo server, llama.cpp, OpenAI, local"


# ---------------------------------------------------------------- exit codes


def test_every_exit_code_is_in_the_usage_table() -> None:
    documented = _exit_code_table(USAGE_MD.read_text(encoding="utf-8"))
    constants = _exit_constants(aish.errors)
    assert len(constants) >= 7
    for name, value in sorted(constants.items()):
        assert value in documented, f"usage.md's exit-code table lacks {value} ({name})"


def test_the_usage_table_lists_no_exit_code_aish_does_not_use() -> None:
    documented = _exit_code_table(USAGE_MD.read_text(encoding="utf-8"))
    known = set(_exit_constants(aish.errors, aish.cli).values())
    assert documented <= known, f"usage.md lists exit codes nothing defines: {sorted(documented - known)}"
