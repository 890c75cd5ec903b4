"""The configuration parsed from a cache of the text it was parsed from (aish.toml_cache, decision 108).

Real files in the test's directory; the last test runs real ``aish`` processes.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from test_startup import imported_by

from aish import toml_cache
from aish.config import load_config
from aish.errors import ConfigError

TEXTS = {
    "agents": '[settings]\nhistory = "jsonl"\n\n[agents.bot]\nurl = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
    'headers = { "X-Team" = "owls" }\n\n[agents.bot.options]\ntemperature = 0.2\nmax_tokens = 64\n',
    "numbers": "big = 123456789012345678901234567890\nneg = -0.0\ninf = inf\nnan = nan\nhex = 0xff\nexp = 1e-300\n",
    "strings": 'a = "é\\u0000 \\"q\\" \\\\"\nb = """\nline\n  two"""\nc = \'lit\\eral\'\n"key with space" = true\n',
    "arrays": "x = [1, [2, [3, []]], {a = 1}]\n[[t]]\nn = 1\n[[t]]\nn = 2\n[deep.er.still]\nv = false\n",
}


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, and -0.0 told from 0.0 (JSON must give back exactly what TOML gave)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_cache_gives_what_tomllib_gives(tmp_path: Path, name: str) -> None:
    cache = str(tmp_path / "cache" / "toml.json")
    text = TEXTS[name]
    first = toml_cache.loads(text, "config.toml", cache=cache)
    assert json.loads(Path(cache).read_text())["files"]["config.toml"]["text"] == text
    second = toml_cache.loads(text, "config.toml", cache=cache)
    assert first is not second  # read back from the cache file
    assert same(second, tomllib.loads(text)) and same(first, second)


def test_an_edit_is_seen_however_small_and_fast(tmp_path: Path) -> None:
    """Same size, same modification time: only the text tells, and the text is what is compared."""
    path = tmp_path / "config.toml"
    path.write_text('[settings]\nhistory = "jsonl"\n')
    before = os.stat(path)
    assert load_config(str(path)).settings.history == "jsonl"
    path.write_text('[settings]\nhistory = "off!!"\n')  # as long as "jsonl"
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert toml_cache.loads(path.read_text(), str(path))["settings"]["history"] == "off!!"


def test_text_that_does_not_parse_is_an_error_every_time(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[settings]\nhistory = "jsonl"\n')
    load_config(str(path))
    path.write_text("[agents.bot\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"config.toml: invalid TOML: "):
            load_config(str(path))
    files = json.loads(Path(toml_cache.cache_path()).read_text())["files"]
    assert files[str(path)]["text"] == '[settings]\nhistory = "jsonl"\n'


def test_a_date_is_not_cached_it_is_parsed_every_time(tmp_path: Path) -> None:
    cache = str(tmp_path / "toml.json")
    text = "when = 1979-05-27T07:32:00Z\nday = 1979-05-27\n"
    assert toml_cache.loads(text, "a.toml", cache=cache) == tomllib.loads(text)
    assert not Path(cache).exists()
    toml_cache.loads("x = 1\n", "b.toml", cache=cache)
    assert toml_cache.loads(text, "a.toml", cache=cache) == tomllib.loads(text)
    assert list(json.loads(Path(cache).read_text())["files"]) == ["b.toml"]


def test_the_cache_is_its_owner_s_only_and_keeps_the_newest_files(tmp_path: Path) -> None:
    cache = tmp_path / "new" / "aish" / "toml.json"
    for index in range(12):
        toml_cache.loads(f"n = {index}\n", f"{index}.toml", cache=str(cache))
    toml_cache.loads("n = 3\n", "3.toml", cache=str(cache))  # used again: kept as the newest
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache.parent).st_mode) == 0o700
    kept = ["5.toml", "6.toml", "7.toml", "8.toml", "9.toml", "10.toml", "11.toml", "3.toml"]
    assert list(json.loads(cache.read_text())["files"]) == kept


OURS = {"version": 1, "python": "{}.{}".format(*sys.version_info[:2])}
DAMAGED = ["{not json", json.dumps({**OURS, "files": []}), json.dumps({**OURS, "files": {"a.toml": 7}})]


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_damaged_cache_is_parsed_past_and_written_anew(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "toml.json"
    cache.write_text(damage)
    assert toml_cache.loads("n = 1\n", "a.toml", cache=str(cache)) == {"n": 1}
    assert json.loads(cache.read_text())["files"]["a.toml"]["data"] == {"n": 1}


def test_what_another_python_parsed_is_parsed_again(tmp_path: Path) -> None:
    cache = tmp_path / "toml.json"
    toml_cache.loads("n = 1\n", "a.toml", cache=str(cache))
    kept = json.loads(cache.read_text())
    kept["python"] = "3.99"
    kept["files"]["a.toml"]["data"] = {"n": 2}  # what 3.99's tomllib would have said
    cache.write_text(json.dumps(kept))
    assert toml_cache.loads("n = 1\n", "a.toml", cache=str(cache)) == {"n": 1}


def test_a_cache_that_cannot_be_written_is_not_kept(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert toml_cache.loads("n = 1\n", "a.toml", cache=str(blocker / "toml.json")) == {"n": 1}
    assert list(tmp_path.iterdir()) == [blocker]


def test_a_run_with_a_configuration_imports_tomllib_only_when_its_text_is_new(tmp_path: Path, demo_url: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[settings]\nhistory = "off"\n')
    env = {"AISH_CONFIG": str(config), "AISH_DEMO_URL": demo_url}
    assert "tomllib" in imported_by("-c", "athena hi", env=env)
    assert "tomllib" not in imported_by("-c", "athena hi", env=env)
    config.write_text('[settings]\nhistory = "off"\nplugin_agents = true\n')
    assert "tomllib" in imported_by("-c", "athena hi", env=env)
