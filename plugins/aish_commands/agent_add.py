"""``agents add NAME URL [-m MODEL] [--codec CODEC] [--key-env VAR] [-d TEXT]``: an agent in the file.

What ``llm keys set`` and aichat's first-run questions do for their tools: a server
becomes an agent without opening an editor. The table is appended to the
configuration file in use (else the default one, created), so every other byte
of the file stays as it was; the new text is parsed as the configuration before
it replaces the file (written whole, then renamed), so a bad name, URL or key
is refused with the configuration's own error and the file untouched. The
session uses the agent at once, as it would after editing the file. A key is
never written: ``--key-env`` names the environment variable that holds it.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from typing import TextIO

from aish import App, ConfigError, UsageError

USAGE = "usage: agents add NAME URL [-m MODEL] [--codec CODEC] [--key-env VAR] [-d DESCRIPTION]"
OPTIONS = """\
  -m, --model MODEL              the model to ask (default: whatever the server serves)
  --codec CODEC                  the wire format (default: the codec whose path the URL ends with,
                                 as /v1/messages; else anthropic-messages for an anthropic.com
                                 URL and openai-chat for others; a ws:// URL needs one)
  --key-env VAR                  the environment variable holding the API key (never written)
  -d, --description DESCRIPTION  what 'agents' and 'help NAME' say about it"""
EXAMPLES = """\
  agents add local http://127.0.0.1:8080/v1 -m llama3
  agents add gpt https://api.openai.com/v1 -m gpt-4o --key-env OPENAI_API_KEY
  agents add claude https://api.anthropic.com/v1 -m claude-sonnet-4-5 --key-env ANTHROPIC_API_KEY"""
_FLAGS = {"-m": "model", "--model": "model", "--codec": "codec", "--key-env": "api_key_env"}
_FLAGS |= {"-d": "description", "--description": "description"}


def add_agent(app: App, words: list[str], out: TextIO, forget: Callable[[str], bool] | None = None) -> int:
    """Append ``[agents.NAME]`` to the configuration file and use it in this session. ``forget``: drops
    the input history's line that holds a text (``Invocation.forget_typed``)."""
    from aish.config import config_file, load_config, parse_config  # aish's own commands use its internals
    from aish.config_edit import read_config_text, write_config_text
    from aish.config_watch import adopt
    from aish.validate import env_name_problem
    from aish.wordwrap import say

    if any(word in ("-h", "--help") for word in words):
        out.write(add_help(app))
        return 0
    name, typed, keys = _parsed(words)
    key_env = keys.get("api_key_env")
    if key_env is not None and env_name_problem(key_env) is not None:  # ``--key-env sk-...``: a key?
        dropped = forget is not None and forget(key_env)
        raise UsageError(
            "agents add: --key-env takes the name of the variable that holds the key (--key-env OPENAI_API_KEY), "
            "not a key" + ("; this line is dropped from the input history" if dropped else "")
        )
    if name in app.commands:  # the line would run the command, never the agent
        raise UsageError(f"agents add: {name!r} is a command; choose another name")
    url = _with_scheme(typed)
    if not url.startswith(("http://", "https://", "ws://", "wss://")):
        meant = f" (did you mean 'https://{typed}'?)" if "://" not in typed and "." in typed.split("/")[0] else ""
        raise UsageError(f"agents add: {typed!r}: expected an http://, https://, ws:// or wss:// URL{meant}")
    ws = url.startswith(("ws://", "wss://"))
    transport = "websocket" if ws else "sse"
    codecs = sorted(app.components.get("codec", {}))
    codec = keys.pop("codec", None) or (None if ws else _codec_by_path(app, name, url, codecs)) or _codec_for(url)
    if codec is None:
        raise UsageError(f"agents add: a ws:// agent needs --codec (codecs: {', '.join(codecs)})")
    if codec not in codecs:
        guess = _codec_guess(codec, codecs)
        meant = f", did you mean {guess!r}?" if guess else ""
        raise UsageError(f"agents add: unknown codec {codec!r}{meant} (codecs: {', '.join(codecs)})")
    if not ws:
        added = _added_path(app, name, codec, url)
        url = url.rstrip("/")[: -len(added)] if added else url
    path = config_file(app.config)
    where = str(path)
    text = read_config_text(path)
    try:
        tables = tomllib.loads(text).get("agents", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    if isinstance(tables, dict) and name in tables:
        raise UsageError(f"agents add: {name!r} is already in {where} (change it there)")
    header = name if name.replace("-", "").replace("_", "").isalnum() and name.isascii() else _toml(name)
    lines = [f"[agents.{header}]", f"transport = {_toml(transport)}", f"codec = {_toml(codec)}", f"url = {_toml(url)}"]
    lines += [f"{key} = {_toml(value)}" for key, value in keys.items()]
    new = text + ("\n" if text and not text.endswith("\n") else "") + ("\n" if text.strip() else "")
    new += "\n".join(lines) + "\n"
    parse_config(tomllib.loads(new), path)  # the configuration's own errors, before the file changes
    write_config_text(path, new)
    adopt(app, load_config(where))
    said = f"agent {name} added to {where}"
    key = keys.get("api_key_env")
    hint = f"; its key is read from ${key}" if key else ""
    from aish.keystore import api_key

    if key and api_key(key) is None:
        hint += f", which is not set here: keys set {key} stores one"
    if url != typed:
        schemed = _with_scheme(typed)
        cut = schemed[len(url) :] if schemed != url and schemed.startswith(url) else ""
        hint += f"; its url is {url}" + (f" (the {codec} codec adds {cut})" if cut else "")
    say(out, f"{said}{hint} (try: {name} hello)")  # a terminal: broken between words
    return 0


def add_help(app: App) -> str:
    """``agents add --help``: the options, the codecs this aish has, examples, and the file."""
    from aish.config import config_file

    codecs = app.components.get("codec", {})
    width = max(map(len, codecs), default=0)
    listed = "\n".join(f"  {name.ljust(width)}  {codecs[name].description}".rstrip() for name in sorted(codecs))
    return (
        f"{USAGE}\nAdd the server at URL as the agent NAME, in {config_file(app.config)}.\n\n"
        f"options:\n{OPTIONS}\n\ncodecs:\n{listed}\n\nexamples:\n{EXAMPLES}\n"
    )


def _codec_for(url: str) -> str | None:
    """The codec an http(s) URL needs when none is given: Anthropic's API speaks its own."""
    from urllib.parse import urlsplit

    if url.startswith(("ws://", "wss://")):
        return None
    host = (urlsplit(url).hostname or "").rstrip(".")
    return "anthropic-messages" if host == "anthropic.com" or host.endswith(".anthropic.com") else "openai-chat"


def _with_scheme(url: str) -> str:
    """``localhost:11434/v1`` or ``127.0.0.1:8080`` is ``http://...``, as curl reads a URL without a
    scheme: only a local server's, or one with a port (a key must not go out in clear by a guess)."""
    if "://" in url or not url[:1].isalnum():
        return url
    host = url.split("/", 1)[0]
    local = host.split(":", 1)[0] in ("localhost", "127.0.0.1") or host.startswith("127.")
    return f"http://{url}" if local or host.rpartition(":")[2].isdigit() else url


def _added_path(app: App, name: str, codec: str, url: str) -> str:
    """The path the codec appends to ``url`` when ``url`` ends with it already (an endpoint copied
    from an API's docs: ``.../v1/chat/completions``), else "". The codec itself says which path it adds."""
    from aish import AgentConfig, Context, Prompt

    try:
        sent = app.codec(AgentConfig(name, "sse", url, codec)).encode(Prompt("hi", Context(pipeline_id="p"))).url
    except Exception:  # a codec's own rules (a model it needs...): the URL stays as typed
        return ""
    base = url.rstrip("/")
    added = sent.split("?", 1)[0][len(base) :] if sent.startswith(base) else ""
    return added if added.startswith("/") and len(added) > 1 and base.endswith(added) else ""


def _codec_by_path(app: App, name: str, url: str, codecs: list[str]) -> str | None:
    """The one codec whose own path ``url`` ends with (``.../v1/messages`` is Anthropic's wire format
    wherever it is served: llama.cpp's server speaks both), else None."""
    found = [codec for codec in codecs if _added_path(app, name, codec, url)]
    return found[0] if len(found) == 1 else None


def _codec_guess(word: str, codecs: list[str]) -> str | None:
    """``anthropic`` for ``anthropic-messages``: the one codec the word starts, else a close name."""
    from aish.errors import closest

    starting = [name for name in codecs if name.startswith(word)]
    return starting[0] if len(starting) == 1 else closest(word, codecs)


def _parsed(words: list[str]) -> tuple[str, str, dict[str, str]]:
    if len(words) < 2 or words[0].startswith("-") or words[1].startswith("-"):
        raise UsageError(USAGE)
    name, url, rest = words[0], words[1], words[2:]
    keys: dict[str, str] = {}
    i = 0
    while i < len(rest):
        flag = rest[i]
        if flag not in _FLAGS:
            raise UsageError(f"agents add: unknown option {flag!r} ({USAGE})")
        if i + 1 >= len(rest):
            raise UsageError(f"agents add: {flag} needs a value ({USAGE})")
        keys[_FLAGS[flag]] = rest[i + 1]
        i += 2
    return name, url, keys


def typed_secrets(words: list[str]) -> list[str]:
    """The secrets ``agents add`` words hold: the URL's password, and a ``--key-env`` value that is no
    variable's name (a key given by mistake)."""
    from itertools import pairwise
    from urllib.parse import urlsplit

    from aish.validate import env_name_problem

    found: list[str] = []
    if len(words) > 1:
        try:
            password = urlsplit(_with_scheme(words[1])).password
        except ValueError:  # a port that is no number: no password to find either
            password = None
        found += [password] if password else []
    found += [value for flag, value in pairwise(words) if flag == "--key-env" and env_name_problem(value)]
    return found


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)
