"""Start-up stays lean without changing behaviour: the fast paths, the argument shortcut, the entry-point cache.

Times are benchmarks' business (benchmarks/run.py); these tests check what is
imported and that every shortcut answers exactly as the slow path does.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aish import cli, cli_parser
from aish.entry_points import RACY_NS, cache_path, entry_points, path_key, stamp, unchanged
from aish.errors import UsageError
from aish.testing import run_aish

ROOT = Path(__file__).resolve().parent.parent


def imported_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a ``python -m aish ARGS``-like run has imported by the time it exits."""
    code = textwrap.dedent(
        """
        import sys
        from aish.cli import main
        status = main(sys.argv[1:])
        sys.stdout.flush()
        sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    line = result.stderr.rsplit("MODULES ", 1)[-1]
    return set(line.split())


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_import_nothing_of_aish_but_the_cli(args: list[str]) -> None:
    modules = imported_by(*args)
    assert "aish.cli" in modules
    heavy = {"argparse", "typing", "re", "dataclasses", "pluggy", "aish.contracts", "aish.app", "importlib.metadata"}
    assert not modules & heavy, modules & heavy


def test_help_is_what_argparse_prints() -> None:
    result = run_aish("-c", "x", "--help", env={"COLUMNS": "80"})  # not the fast path: argparse prints it
    assert result.returncode == 0
    assert result.stdout == cli.HELP
    fast = run_aish("--help", env={"COLUMNS": "80"})
    assert (fast.returncode, fast.stdout) == (0, cli.HELP)


def test_a_run_neither_scans_distributions_nor_imports_unused_machinery(demo_url: str) -> None:
    imported_by("agents")  # fills the entry-point cache for this sys.path
    imported_by("-c", "athena hi", env={"AISH_DEMO_URL": demo_url})  # creates the history store
    modules = imported_by("-c", "athena hi", env={"AISH_DEMO_URL": demo_url})
    assert "aish.pipeline.executor" in modules  # it did run the line
    unused = {"importlib.metadata", "stevedore", "argparse", "subprocess", "tomllib", "uuid", "cmd2", "signal"}
    # decision 29: no dataclasses (aish.records instead), no http.client or email (the SSE transport speaks
    # HTTP/1.1 itself), no ssl for an http:// URL, pathlib only with a configuration file
    unused |= {"dataclasses", "http.client", "email", "ssl", "pathlib", "urllib.request", "random", "shlex"}
    # decision 32: OS stages' and --stats' modules only for them; contextvars loads a shared library
    unused |= {"aish.pipeline.oscmd", "aish.pipeline.stats", "contextvars", "shutil"}
    unused |= {"aish.models", "aish.stream.messages"}  # -m's model check, a failure's message
    assert not modules & unused, modules & unused


def test_a_run_compiles_no_regular_expression_of_aish(demo_url: str) -> None:
    """Decision 32: a pattern compiled at import costs every start-up 30-300 us; aish compiles its own on use."""
    code = textwrap.dedent(
        """
        import re._compiler, sys
        compile = re._compiler.compile
        def traced(pattern, flags=0):
            frame = sys._getframe(1)
            while "/re/" in frame.f_code.co_filename:
                frame = frame.f_back
            sys.stderr.write(f"\\nCOMPILED {frame.f_code.co_filename}:{frame.f_lineno}\\n")
            return compile(pattern, flags)
        re._compiler.compile = traced
        from aish.cli import main
        main(sys.argv[1:])
        """
    )
    args = [sys.executable, "-c", code, "-c", "athena hi"]
    env = {**os.environ, "AISH_DEMO_URL": demo_url}
    for _ in range(2):  # the first run may fill the entry-point cache and create the history store
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    where = [line.split(" ", 1)[1] for line in result.stderr.splitlines() if line.startswith("COMPILED ")]
    assert where  # the trace works: json compiles its patterns at import
    ours = [w for w in where if str(ROOT) in w]
    assert not ours, ours


def test_the_cycle_collector_waits_for_start_up(demo_url: str) -> None:
    """Decision 32: the ``aish`` command collects nothing until it has started, then sets start-up's objects
    aside (``gc.freeze``) and collects as usual; ``main()`` called in-process leaves the collector alone."""
    code = textwrap.dedent(
        """
        import atexit, gc, json, sys
        seen = {"before": 0, "after": 0}
        phase = ["before"]
        gc.callbacks.append(lambda step, info: step == "stop" and seen.__setitem__(phase[0], seen[phase[0]] + 1))
        import aish.cli
        collect = aish.cli._collect_from_now_on
        def started():
            phase[0] = "after"
            collect()
            seen["frozen"] = gc.get_freeze_count()
            [[i] for i in range(20_000)]  # cycles or not, allocations trigger collections again
        aish.cli._collect_from_now_on = started
        atexit.register(lambda: sys.stderr.write("\\nGC " + json.dumps({**seen, "on": gc.isenabled()}) + "\\n"))
        sys.argv = ["aish", "-c", "athena hi"]
        seen["before"] = 0  # importing aish.cli may have collected: run() pauses the collector first
        aish.cli.run()
        """
    )
    env = {**os.environ, "AISH_DEMO_URL": demo_url}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stderr.rsplit("GC ", 1)[1])
    assert seen["before"] == 0 and seen["after"] > 0 and seen["on"], seen
    assert seen["frozen"] > 5_000, seen  # modules, classes, functions: out of every later collection's way
    import gc

    frozen = gc.get_freeze_count()
    assert cli.main(["--version"]) == 0 and gc.isenabled() and gc.get_freeze_count() == frozen


def test_a_configuration_file_read_before_costs_no_import(demo_url: str, tmp_path: Path) -> None:
    """Not even ``tomllib``'s, once its text was parsed (decision 108; ``tests/test_toml_cache.py``)."""
    config = tmp_path / "config.toml"
    config.write_text(f'[agents.owl]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{demo_url}"\nmodel = "athena"\n')
    imported_by("--config", str(config), "-c", "owl hi")  # fills the caches, creates the history store
    modules = imported_by("--config", str(config), "-c", "owl hi")
    assert "aish.pipeline.executor" in modules
    assert not modules & {"tomllib", "pathlib", "urllib.parse", "dataclasses", "http.client"}


# ------------------------------------------------------------ argument shortcut
WORDS = ["-c", "--config", "--renderer", "--format", "--debug", "--stats", "--version", "--test", "--record"]
WORDS += ["-h", "--", "-", "--conf", "--deb", "-cx", "--config=a", "-x", "-5", "athena", "hi", "a b", "", "f.aish"]


def argparse_says(words: list[str]) -> dict[str, object] | None:
    try:
        return vars(cli_parser.parser().parse_args(words))
    except (SystemExit, UsageError):  # -h exits; a usage error is one line (UsageError)
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=6))
def test_the_argument_shortcut_agrees_with_argparse(words: list[str]) -> None:
    quick = cli._quick_args(words)
    if quick is not None:
        assert vars(quick) == argparse_says(words), words


@pytest.mark.parametrize(
    "words",
    [[], ["-c", "athena hi"], ["--config", "c.toml", "-c", "x"], ["athena", "--debug", "hi"], ["--debug", "agents"]],
)
def test_the_usual_command_lines_take_the_shortcut(words: list[str]) -> None:
    quick = cli._quick_args(words)
    assert quick is not None and vars(quick) == argparse_says(words)


# ---------------------------------------------------------------- entry points
def dist(site: Path, name: str, entry: str) -> Path:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[aish.test]\n{entry}\n")
    return info


def scan(site: Path, cache: Path) -> list[tuple[str, str]]:
    """The group as a fresh process sees it through the cache (sys.path includes ``site``)."""
    code = "import sys, json; from aish.entry_points import entry_points; print(json.dumps(entry_points('aish.test')))"
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    return [tuple(pair) for pair in json.loads(out.stdout)]


def test_the_cache_notices_install_uninstall_and_edits(tmp_path: Path) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    assert scan(site, cache) == []
    first = dist(site, "one", "one = one_mod")
    assert scan(site, cache) == [("one", "one_mod")]  # installed
    assert (cache / "aish" / "entry-points.json").is_file()
    dist(site, "two", "two = two_mod:plugin")
    assert sorted(scan(site, cache)) == [("one", "one_mod"), ("two", "two_mod:plugin")]
    entry = first / "entry_points.txt"
    entry.write_text("[aish.test]\none = one_mod.v2\n")  # edited in place: the directory does not change
    os.utime(entry, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns + 1_000_000_000))
    assert sorted(scan(site, cache)) == [("one", "one_mod.v2"), ("two", "two_mod:plugin")]
    for path in first.iterdir():
        path.unlink()
    first.rmdir()  # uninstalled
    assert scan(site, cache) == [("two", "two_mod:plugin")]


def test_the_stamp_is_checked_with_stat_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision 32: a directory's listing is read again only when its mtime cannot tell (git's racy rule)."""
    site = tmp_path / "site"
    first = dist(site, "one", "one = one_mod")
    long_ago = 1_000_000_000_000_000_000  # 2001
    os.utime(site, ns=(long_ago, long_ago))
    path = [str(site), str(tmp_path / "missing")]
    taken, old = long_ago + 10 * RACY_NS, stamp(path)
    listed: list[str] = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda where: listed.append(where) or scandir(where))
    assert unchanged(old, taken, path)
    assert listed == []  # a stat per entry and per entry_points.txt
    dist(site, "two", "two = two_mod")  # installed: the directory's mtime moves
    assert not unchanged(old, taken, path)
    os.utime(site, ns=(long_ago, long_ago))  # an install its mtime does not show (a clock that did not move)
    assert unchanged(old, taken, path)  # trusted: modified long before the stamp
    assert not unchanged(old, long_ago + RACY_NS // 2, path)  # modified just before the stamp: listed
    assert listed == [str(site)]
    entry = first / "entry_points.txt"
    entry.write_text("[aish.test]\none = one_mod.v2\n")  # edited in place
    os.utime(entry, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns + 1_000_000_000))
    assert not unchanged(old, taken, path)


def test_a_cached_answer_is_served_without_scanning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    real = entry_points("aish.plugins")
    assert stat.S_IMODE(os.stat(cache_path()).st_mode) == 0o600  # its owner's only, as every cache file
    data = json.loads(Path(cache_path()).read_text())
    data["entries"][path_key()]["aish.plugins"] = [["only", "only_mod"]]  # what a scan cannot produce
    Path(cache_path()).write_text(json.dumps(data))
    assert entry_points("aish.plugins") == [("only", "only_mod")]
    Path(cache_path()).write_text("{not json")  # a damaged cache is rebuilt
    assert entry_points("aish.plugins") == real
    assert entry_points("aish.plugins", cache="") == real


def test_the_shell_collects_nothing_until_it_is_built(demo_url: str, tmp_path: Path) -> None:
    """Decision 42: in the shell the collector's pause lasts until the shell is built, just before
    its first prompt: importing cmd2, prompt_toolkit and rich (~450 modules) made ~120 collections
    (30-40 ms) when the pause ended with the plugins loaded. Then start-up's objects are set aside."""
    import pexpect

    log = tmp_path / "gc.json"
    code = textwrap.dedent(
        f"""
        import gc, json, sys
        seen = {{"before": 0, "frozen": 0}}
        gc.callbacks.append(lambda step, info: step == "stop" and seen.__setitem__("before", seen["before"] + 1))
        import aish.cli
        collect = aish.cli._collect_from_now_on
        def started():
            seen["modules"] = len(sys.modules)
            collect()
            seen["frozen"] = gc.get_freeze_count()
            open({str(log)!r}, "w").write(json.dumps(seen))
        aish.cli._collect_from_now_on = started
        sys.argv = ["aish"]
        seen["before"] = 0
        aish.cli.run()
        """
    )
    env = {**os.environ, "AISH_DEMO_URL": demo_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-c", code], env=env, encoding="utf-8", timeout=30)
    try:
        child.expect_exact("aish>")  # drawn before cmd2 is imported (decision 43)
        child.send("x")
        child.expect_exact("x")  # shown by the line editor: the shell is built
        seen = json.loads(log.read_text(encoding="utf-8"))
    finally:
        child.close(force=True)
    assert seen["before"] == 0, seen  # no collection before the shell was built
    assert seen["modules"] > 400, seen  # cmd2, prompt_toolkit and rich were imported by then
    assert seen["frozen"] > 50_000, seen
