"""aish plugin: agents for the API keys already in the environment, as llm and shell-gpt use them.

- ``OPENAI_API_KEY`` set: the agent ``gpt``, OpenAI's chat completions at
  ``OPENAI_BASE_URL`` (the OpenAI SDK's variable; default ``https://api.openai.com/v1``),
  model ``gpt-4o-mini``.
- ``ANTHROPIC_API_KEY`` set: the agent ``claude``, Anthropic's Messages API at
  ``ANTHROPIC_BASE_URL`` (the Anthropic SDK's variable, without ``/v1``; default
  ``https://api.anthropic.com``), model ``claude-sonnet-4-5``.

An empty variable counts as unset; a key that ``keys set`` stored for the variable counts as
set. The key is read when a request is built, as for any agent's ``api_key_env``. ``-m`` changes the model for
one call; an agent of the same name in the configuration file replaces these; ``plugin_agents
= false`` in ``[settings]``, or ``aish plugins disable keys``, hides them.
"""

from __future__ import annotations

import os

from aish import AgentConfig, RegisterAgent, hookimpl

PROVIDERS = (
    # agent, provider, key variable, base-URL variable, default base URL, the API's path under it, codec, model
    ("gpt", "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1", "", "openai-chat",
     "gpt-4o-mini"),
    ("claude", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "https://api.anthropic.com", "/v1",
     "anthropic-messages", "claude-sonnet-4-5"),  # the Anthropic SDK's base URL is the host
)  # fmt: skip


def _stored(key_env: str) -> bool:
    """Whether ``keys set`` stored a key for the variable (a store that cannot be read holds none)."""
    from aish import api_key

    return api_key(key_env) is not None


@hookimpl
def aish_register_agents(register: RegisterAgent) -> None:
    for name, provider, key_env, url_env, default_url, api_path, codec, model in PROVIDERS:
        if not os.environ.get(key_env) and not _stored(key_env):
            continue
        url = (os.environ.get(url_env) or default_url).rstrip("/") + api_path
        register(
            AgentConfig(
                name=name,
                transport="sse",
                url=url,
                codec=codec,
                model=model,
                api_key_env=key_env,
                description=f"{provider}, key from ${key_env}",
                source="plugin:keys",
            )
        )
