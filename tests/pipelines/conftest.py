"""Fixtures for pipeline tests: agents of every codec on one reference server."""

from __future__ import annotations

import pytest

from aish_refserver import RefServer


def codec_agents(url: str) -> str:
    """apollo/athena/hermes over openai-chat, plus one agent per other codec."""
    parts = []
    for name in ("apollo", "athena", "hermes"):
        parts.append(f'[agents.{name}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "{name}"\n')
    parts.append(f'[agents.claude]\ntransport = "sse"\ncodec = "anthropic-messages"\nurl = "{url}"\nmodel = "athena"\n')
    parts.append(f'[agents.rhetor]\ntransport = "sse"\ncodec = "tekton-rhetor"\nurl = "{url[:-3]}"\nmodel = "hermes"\n')
    parts.append(
        f'[agents.env]\ntransport = "sse"\ncodec = "aish-envelope"\nurl = "{url}/envelope"\nmodel = "apollo"\n'
    )
    parts.append(f'[agents.plain]\ntransport = "sse"\ncodec = "text"\nurl = "{url}/text/echo"\n')
    return "\n".join(parts)


@pytest.fixture
def agents_toml(refserver: RefServer) -> str:
    return codec_agents(refserver.base_url)
