"""Deterministic offline text for the demo agents.

Nothing here knows about HTTP or any wire format: it turns a model name and a
prompt into a sequence of *tokens*. A token is one word with its leading
space (``" quantum"``); the first token of a reply has no leading space. The
``echo`` model's tokens keep the prompt's own blanks and line breaks (``"\n    return"``),
so what is echoed is the prompt exactly, less its blanks at either end.

Each persona's text is an infinite, deterministic stream of sentences seeded
by a stable hash of the model name and the prompt. Its natural reply is a
prefix of that stream that ends on a sentence boundary after about
:data:`DEFAULT_LENGTH` tokens; a forced length (``aish_tokens``) or a cap
(``max_tokens``) takes another prefix of the same stream, so a shorter reply
is always a prefix of a longer one for the same request.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import cycle, islice

DEFAULT_LENGTH = 60
"""Approximate length, in tokens, of a persona's natural reply."""

ECHO = "echo"
"""The model that streams the last user message back."""

_ECHO_FALLBACK = ("echo",)
_STOPWORD_TEXT = """
    a an and are as at be but by can could do does for from had has have how i if in into
    is it its me my of on or our please should so than that the their them then there these
    this to us was we were what when where which who why will with would you your tell about
    give explain describe
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TOPIC_WORDS = 3


@dataclass(frozen=True, slots=True)
class Persona:
    """One offline demo agent: its reply label and its small sentence corpus.

    ``opening`` and every entry of ``corpus`` may contain ``{topic}``, replaced
    by a few words taken from the prompt.
    """

    name: str
    label: str
    opening: str
    corpus: tuple[str, ...]


PERSONAS: dict[str, Persona] = {
    "apollo": Persona(
        name="apollo",
        label="Apollo (offline demo):",
        opening="Looking ahead at {topic}, here is what I foresee.",
        corpus=(
            "The trend lines around {topic} point to steady change rather than a sudden break.",
            "In the near term, expect small signals to arrive before the large shift.",
            "Forecasts are only as good as the assumptions beneath them, so watch those first.",
            "A likely outcome is that early preparation pays off more than late precision.",
            "The second-order effects of {topic} will matter more than the first.",
            "I would plan for three scenarios: the expected, the hopeful and the difficult.",
            "Leading indicators tend to move weeks before the headline numbers do.",
            "Over a longer horizon, the pattern usually bends toward simpler solutions.",
            "Uncertainty is highest where {topic} meets decisions that are hard to reverse.",
            "My prediction is gradual adoption, followed by a quick tipping point.",
            "Keep an eye on the constraints, because they shape the future more than goals.",
            "The safest bet is to revisit this forecast as new evidence appears.",
        ),
    ),
    "athena": Persona(
        name="athena",
        label="Athena (offline demo):",
        opening="On the subject of {topic}, let me share what is known.",
        corpus=(
            "Knowledge about {topic} grows best when facts are separated from opinions.",
            "The core idea is simple, though its consequences run deep.",
            "Wisdom here lies in knowing which details matter and which can wait.",
            "Scholars have approached {topic} from several angles, each with its own insight.",
            "A careful definition usually resolves half of the apparent disagreement.",
            "It helps to start from first principles and build upward one step at a time.",
            "History offers useful parallels, even if no precedent fits exactly.",
            "The strongest arguments are the ones that survive honest counterexamples.",
            "Understanding {topic} well means being able to explain it plainly.",
            "Good judgment combines evidence, experience and a measure of humility.",
            "Where the sources disagree, the disagreement itself is worth studying.",
            "The lesson worth keeping is that clarity is a form of respect.",
        ),
    ),
    "hermes": Persona(
        name="hermes",
        label="Hermes (offline demo):",
        opening="Message received about {topic}, and I will route it onward.",
        corpus=(
            "I will relay {topic} to the right specialists and gather their replies.",
            "Coordination works best when every participant knows the next hand-off.",
            "The message is short, so it should travel quickly between the teams.",
            "Each stage of the pipeline will receive exactly what it needs and no more.",
            "I have noted {topic} as the subject line for the coming exchange.",
            "Delivery is confirmed once the receiver acknowledges the message.",
            "If a route is blocked, I will find another path and report the delay.",
            "Clear addresses and clear deadlines keep the messengers on schedule.",
            "Updates on {topic} will be batched and sent as soon as they arrive.",
            "The relay is open, and the channels are quiet for now.",
            "Every reply will carry a note of where it came from and where it goes next.",
            "Consider this a dispatch: the request is in motion.",
        ),
    ),
}

MODELS: tuple[str, ...] = (*PERSONAS, ECHO)
"""Every model name the reference server serves, in listing order."""


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """What a reply will contain: ``count`` tokens ending with ``finish_reason``.

    :meth:`tokens` can be called any number of times and yields the same
    ``count`` tokens lazily, so a very long reply never sits in memory.
    """

    model: str
    prompt: str
    count: int
    finish_reason: str

    def tokens(self) -> Iterator[str]:
        """Yield the reply's tokens, the first without a leading space."""
        if self.model == ECHO:
            return islice(_echo_tokens(self.prompt), self.count)
        return islice(to_tokens(_all_words(self.model, self.prompt)), self.count)

    def text(self) -> str:
        """The whole reply as one string."""
        return "".join(self.tokens())


def message_text(content: object) -> str:
    """Text of one message's ``content``: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part["text"] for part in content if isinstance(part, Mapping) and isinstance(part.get("text"), str)]
        return "\n".join(parts)
    return ""


def last_user_text(messages: Sequence[Mapping[str, object]]) -> str:
    """The text of the last ``user`` message, or ``""`` when there is none."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def count_prompt_tokens(messages: Sequence[Mapping[str, object]]) -> int:
    """A rough prompt size in tokens: the words of every message's content."""
    return sum(len(message_text(m.get("content")).split()) for m in messages)


def to_tokens(words: Iterable[str]) -> Iterator[str]:
    """Turn words into tokens: every word but the first gets a leading space."""
    it = iter(words)
    for first in it:
        yield first
        break
    for word in it:
        yield " " + word


def plan_reply(
    model: str,
    prompt: str,
    *,
    max_tokens: int | None = None,
    exact_tokens: int | None = None,
    finish_reason: str | None = None,
) -> ReplyPlan:
    """Decide how long the reply to ``prompt`` is and why it ends.

    ``exact_tokens`` forces that many tokens; otherwise the reply has its
    natural length. ``max_tokens`` then caps it, and a reply it cuts short
    ends with ``"length"`` instead of ``"stop"``. ``finish_reason`` (the
    ``aish_finish`` extension field) replaces whichever reason it would end with.
    """
    if model not in MODELS:
        raise KeyError(model)
    count = exact_tokens if exact_tokens is not None else _natural_length(model, prompt)
    reason = "stop"
    if max_tokens is not None and count > max_tokens:
        count, reason = max_tokens, "length"
    return ReplyPlan(model=model, prompt=prompt, count=count, finish_reason=finish_reason or reason)


def topic_of(prompt: str) -> str:
    """A few significant words of the prompt, or ``"your question"``."""
    seen: list[str] = []
    for raw in prompt.split():
        word = re.sub(r"^\W+|\W+$", "", raw)
        if len(word) < 3 or word.lower() in _STOPWORDS or word.lower() in seen:
            continue
        seen.append(word.lower())
        if len(seen) == _TOPIC_WORDS:
            break
    return " ".join(seen) if seen else "your question"


def _seed(model: str, prompt: str) -> int:
    digest = hashlib.sha256(f"{model}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _persona_sentences(persona: Persona, prompt: str) -> Iterator[list[str]]:
    """The persona's infinite sentence stream for ``prompt``, as word lists.

    The label and the opening come first; then the corpus in an order shuffled
    afresh (deterministically) for every pass, so sentences rarely repeat.
    """
    rng = random.Random(_seed(persona.name, prompt))
    topic = topic_of(prompt)
    yield (persona.label + " " + persona.opening.format(topic=topic)).split()
    order = list(persona.corpus)
    while True:
        rng.shuffle(order)
        for sentence in order:
            yield sentence.format(topic=topic).split()


def _echo_words(prompt: str) -> list[str]:
    """The prompt's words, each with the blanks and line breaks before it (none before the first)."""
    return re.findall(r"\s*\S+", prompt.strip())


def _echo_tokens(prompt: str) -> Iterator[str]:
    """The prompt exactly, a word at a time; asked for more, it starts again after a blank."""
    words = _echo_words(prompt) or list(_ECHO_FALLBACK)
    yield from words
    again = [" " + words[0], *words[1:]]
    yield from cycle(again)


def _all_words(model: str, prompt: str) -> Iterator[str]:
    """Every word a persona would ever say for ``prompt``, without end."""
    for sentence in _persona_sentences(PERSONAS[model], prompt):
        yield from sentence


def _natural_length(model: str, prompt: str) -> int:
    """Tokens in the natural reply: the whole prompt for echo, else ~60."""
    if model == ECHO:
        return len(_echo_words(prompt))
    total = 0
    minimum = DEFAULT_LENGTH - 4  # then finish the sentence: ~56-70 tokens
    for sentence in _persona_sentences(PERSONAS[model], prompt):
        total += len(sentence)
        if total >= minimum:
            return total
    raise AssertionError("unreachable: the sentence stream is infinite")
