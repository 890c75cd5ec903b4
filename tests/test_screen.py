"""An honest screen: status lines name their agent, say how an answer ended, warn when
it is empty; output never ends mid-line on a terminal; a chosen renderer never mixes a
fan-out's answers. In-process with a terminal-like target, and in real terminals (a pty,
tmux) against a real reference server."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from terminal import Tmux, screen

from aish import cells
from aish.app import App
from aish.history.store import make_recorder, opened, settle
from aish.runner import Runner
from aish.testing import Outcome
from aish_refserver import RefServer, plan_reply


def agents(url: str) -> str:
    """Agents of one reference server that end in every way: naturally, cut, filtered, empty."""

    def agent(name: str, codec: str, model: str, options: str = "") -> str:
        table = f'[agents.{name}]\ntransport = "sse"\ncodec = "{codec}"\nurl = "{url}"\nmodel = "{model}"\n'
        return table + (f"[agents.{name}.options]\n{options}\n" if options else "")

    return "".join(
        [
            agent("apollo", "openai-chat", "apollo"),
            agent("athena", "openai-chat", "athena"),
            agent("cut", "openai-chat", "athena", "max_tokens = 5"),
            agent("filtered", "openai-chat", "athena", 'aish_finish = "content_filter"\naish_tokens = 4'),
            agent("mute", "openai-chat", "athena", "aish_tokens = 0"),
            agent("claude", "anthropic-messages", "athena"),
            agent("claude_cut", "anthropic-messages", "athena", "max_tokens = 5"),
            agent("claude_mute", "anthropic-messages", "athena", "aish_tokens = 0"),
        ]
    )


@pytest.fixture
def app(refserver: RefServer, make_app: Callable[..., App]) -> App:
    return make_app(agents(refserver.base_url))


def on_a_terminal(app: App, source: str, **kwargs: object) -> Outcome:
    """Run ``source`` as on a terminal (``tty=True``), output captured."""
    out, err = io.StringIO(), io.StringIO()
    status = Runner(app, out=out, err=err, tty=True, **kwargs).run_source(source)  # type: ignore[arg-type]
    return Outcome(status, out.getvalue(), err.getvalue())


def statuses(err: str) -> list[str]:
    """The status lines of ``err`` with their times made ``T``."""
    return [re.sub(r"\d+\.\ds", "T", s) for s in re.findall(r"\[[^\[\]]*\]", err)]


# ------------------------------------------------------- naming and endings


def test_every_stage_of_a_pipeline_names_its_agent(app: App) -> None:
    result = on_a_terminal(app, "echo hi | apollo | athena")
    assert result.status == 0, result.err
    lines = statuses(result.err)
    assert lines[0] == "[apollo: Streaming...]" and re.fullmatch(r"\[apollo: Complete - T, \d+ tokens\]", lines[1])
    assert lines[2] == "[athena: Streaming...]" and re.fullmatch(r"\[athena: Complete - T, \d+ tokens\]", lines[3])


@pytest.mark.parametrize(
    ("agent", "word"),
    [
        ("cut", "Cut at max_tokens"),  # OpenAI finish_reason "length"
        ("claude_cut", "Cut at max_tokens"),  # Anthropic stop_reason "max_tokens"
        ("filtered", "Stopped by the content filter"),
        ("mute", "Empty answer"),
        ("claude_mute", "Empty answer"),
        ("athena", "Complete"),
        ("claude", "Complete"),
    ],
)
def test_how_an_answer_ended_is_said(app: App, agent: str, word: str) -> None:
    result = on_a_terminal(app, f"{agent} tell me about owls")
    assert result.status == 0, result.err
    assert statuses(result.err)[-1].startswith(f"[{agent}: {word} - T, ")
    if word != "Complete":
        assert "Complete" not in result.err


@pytest.mark.parametrize("renderer", ["plain", "markdown"])
def test_both_text_renderers_say_it(app: App, renderer: str) -> None:
    result = on_a_terminal(app, "cut owls; mute owls", renderer=renderer)
    ends = statuses(result.err)[1::2]
    assert [e.split(" - ")[0] for e in ends] == ["[cut: Cut at max_tokens", "[mute: Empty answer"]


def test_stats_say_how_each_stage_ended(run_line: Callable[..., Outcome], refserver: RefServer) -> None:
    app_config = agents(refserver.base_url) + "[settings]\nstats = true\n"
    result = run_line("cut owls; mute owls; athena owls", app_config)
    lines = [line for line in result.err.splitlines() if line.startswith("[stats]")]
    assert [line.rsplit(", ", 1)[1] for line in lines] == ["cut at max_tokens", "empty", "complete"]


def test_an_empty_answer_off_a_terminal_is_a_warning_on_stderr(
    run_line: Callable[..., Outcome], refserver: RefServer
) -> None:
    config = agents(refserver.base_url)
    result = run_line("mute owls", config)
    assert (result.status, result.out) == (0, "")
    assert result.err == "aish: warning: mute gave an empty answer\n"
    assert run_line("athena owls", config).err == ""
    assert run_line("echo q | mute & athena", config).err == "aish: warning: mute gave an empty answer\n"


def test_an_empty_lane_is_not_counted_as_an_answer(app: App) -> None:
    result = on_a_terminal(app, "echo q | mute & cut & athena")
    assert result.status == 0, result.err
    shown = screen(result.out)
    assert any(re.fullmatch(r"\[Complete - 2 of 3 AIs responded, \d+\.\ds\]", line) for line in shown)
    rows = {line.split()[0]: line.split(maxsplit=4)[4] for line in shown if line.startswith("  ")}
    assert rows == {"mute": "empty", "cut": "cut at max_tokens", "athena": "complete"}


def test_an_empty_answer_is_recorded_as_empty(
    refserver: RefServer, make_app: Callable[..., App], history_backend: str
) -> None:
    app = make_app(agents(refserver.base_url) + f'[settings]\nhistory = "{history_backend}"\n')
    out, err = io.StringIO(), io.StringIO()
    recorder = make_recorder(app, err)
    assert recorder is not None
    runner = Runner(app, out=out, err=err, history=recorder)
    assert runner.run_source("mute owls") == 0
    assert runner.run_source("claude_mute owls") == 0
    assert runner.run_source("cut owls") == 0
    recorder.close()
    with opened(app) as backend:
        runs = [settle(r) for r in backend.runs(None)]
    stages = {r.stages[0].agent: r.stages[0] for r in runs}
    assert (stages["mute"].status, stages["mute"].text, stages["mute"].meta["finish_reason"]) == ("empty", "", "stop")
    assert (stages["claude_mute"].status, stages["claude_mute"].meta["finish_reason"]) == ("empty", "end_turn")
    assert (stages["cut"].status, stages["cut"].meta["finish_reason"]) == ("complete", "length")
    assert [r.status for r in runs] == ["complete"] * 3


# ------------------------------------------------------------- final newline


def test_output_without_a_final_newline_gets_one_on_a_terminal(app: App) -> None:
    assert on_a_terminal(app, "printf hello").out == "hello\n"
    assert on_a_terminal(app, "printf 'hello\\n'").out == "hello\n"
    piped = on_a_terminal(app, "athena owls | tr a-z A-Z")
    assert piped.out.endswith("\n") and not piped.out.endswith("\n\n")
    both = on_a_terminal(app, "printf one; nosuch")
    assert both.out == "one\n" and both.err.startswith("aish: unknown agent 'nosuch'")


def test_off_a_terminal_the_text_is_left_exactly_as_it_is(run_line: Callable[..., Outcome]) -> None:
    assert run_line("printf hello").out == "hello"


def spawn_env(refserver: RefServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "AISH_DEMO_URL": refserver.base_url,
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        **extra,
    }


def test_aish_c_on_a_terminal_ends_its_line(tmux_env: dict[str, str]) -> None:
    """``printf`` writes to the terminal itself; aish then moves to a line of its own (as zsh's PROMPT_SP)."""
    aish = shlex.join([sys.executable, "-m", "aish", "-c"])
    script = f"{aish} 'printf hello'; echo NEXT; {aish} 'echo whole'; echo AFTER"
    with Tmux(["bash", "--norc", "-c", script], tmux_env, width=40) as term:
        lines = term.wait_for("^AFTER$")
        assert lines == ["hello", "NEXT", "whole", "AFTER"], lines  # and no blank line after a whole one


def test_the_last_program_of_a_pipeline_has_the_terminal(tmux_env: dict[str, str]) -> None:
    """``athena hi | less`` pages and ``| tee log`` shows the answer once: the program writes to the
    terminal, and the answer that goes into it is not shown besides (it was, word by word, mixed)."""
    probe = "import os, sys; text = sys.stdin.read(); print(os.isatty(1), len(text) > 40)"
    with Tmux([sys.executable, "-m", "aish"], tmux_env) as term:
        term.wait_for(r"^aish>$")
        term.send_line(f"athena owls | python3 -c '{probe}'")
        lines = term.wait_for(r"^True True$")
        assert not any("Athena (offline demo)" in line for line in lines), lines
        term.send_line("!tty")
        term.wait_for(r"^/dev/")
        sleeper = "import signal, time; signal.signal(signal.SIGINT, lambda *a: print('caught')); time.sleep(3)"
        term.send_line(f'!python3 -c "{sleeper}"')
        time.sleep(1.5)
        term.send_keys("C-c")  # the program's to handle: aish waits on
        term.wait_for(r"caught$")
        term.send_line("echo still here")
        term.wait_for(r"^still here$")


def test_programs_after_an_agent_as_under_a_shell(
    refserver: RefServer, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    """Found by a tour in tmux: the answer shown twice through the built-in ``cat``; ``| head`` waiting
    for the whole answer; Ctrl-C closing the reader (``less``) of an answer; no keyboard for ``!tty > f``."""
    refserver.pace = 0.05  # 300 tokens: 15 s
    slow = "athena[-o aish_tokens 300] essay"
    ignores = "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); print('read', len(sys.stdin.read()))"
    with Tmux([sys.executable, "-m", "aish"], {**tmux_env, "PWD": str(tmp_path)}) as term:
        term.wait_for(r"^aish>$")
        term.send_line("athena[-o aish_tokens 12] owls | cat")
        lines = term.wait_until(lambda lines: lines[-1] == "aish>" and len(lines) > 3, "the answer")
        assert sum("Athena (offline demo)" in line for line in lines) == 1, lines
        started = time.monotonic()
        term.send_line(f"{slow} | head -c 20")
        term.wait_until(lambda lines: lines[-1] == "aish>" and "Athena (offline demo" in lines[-2], "head's end")
        assert time.monotonic() - started < 8, "the answer went on after head had exited"
        term.send_line(f'{slow} | python3 -c "{ignores}"')
        time.sleep(1.5)
        term.send_keys("C-c")  # the answer stops; the reader gets the end of its input and finishes
        term.wait_for(r"read [1-9]\d*$")
        term.wait_for(r"interrupted \(partial answer kept\)")
        term.send_line(f"tty > {tmp_path / 'tty.txt'}")  # aish's redirect (after `!`, the shell's)
        term.wait_for(r"\[Output written to ")
    assert (tmp_path / "tty.txt").read_text(encoding="utf-8").startswith("/dev/")


def test_ctrl_c_ends_aish_c_as_it_ends_a_program_so_a_calling_loop_stops(
    refserver: RefServer, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    """aish exited 130 after Ctrl-C, so bash's ``for`` loop went on to its next turn; a program
    killed by SIGINT makes bash stop. aish now ends by SIGINT too (and a program it ran, 130)."""
    child = pexpect.spawn(sys.executable, ["-m", "aish", "-c", "!sleep 20"], env=spawn_env(refserver), timeout=20)
    time.sleep(1.5)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGINT, (child.exitstatus, child.signalstatus)
    refserver.pace = 0.05
    aish = shlex.join([sys.executable, "-m", "aish", "-c", "athena[-o aish_tokens 100] essay"])
    log = tmp_path / "loop.log"
    loop = f"echo started > {log}; for i in 1 2 3; do {aish} > /dev/null; echo turn=$i status=$? >> {log}; done"
    with Tmux(["bash", "--norc", "-c", loop], tmux_env) as term:
        time.sleep(2)
        term.send_keys("C-c")  # the pane's shells end with the loop: the log tells what ran
        time.sleep(2)
    assert log.read_text(encoding="utf-8") == "started\n"


@pytest.fixture
def tmux_env(refserver: RefServer) -> dict[str, str]:
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    return {**env, "AISH_DEMO_URL": refserver.base_url, "PROMPT_TOOLKIT_NO_CPR": "1"}


def test_the_shell_prompt_never_erases_output_without_a_final_newline(tmux_env: dict[str, str]) -> None:
    def ran(line: str) -> Callable[[list[str]], bool]:
        return lambda lines: f"aish> {line}" in lines and lines[-1] == "aish>"

    with Tmux([sys.executable, "-m", "aish"], tmux_env) as term:
        term.wait_for(r"^aish>$")
        term.send_line("printf hello")
        lines = term.wait_until(ran("printf hello"), "printf")
        assert lines[-3:] == ["aish> printf hello", "hello", "aish>"], lines
        term.send_line("athena owls | tr a-z A-Z")
        lines = term.wait_until(ran("athena owls | tr a-z A-Z"), "athena")
        shown = "".join(lines[lines.index("aish> athena owls | tr a-z A-Z") + 1 : -1])
        assert "ATHENA (OFFLINE DEMO): ON THE SUBJECT OF OWLS" in shown
        assert lines[-2].endswith(".") and lines[-1] == "aish>", lines


# ------------------------------------------------------- fan-out, renderers


def test_a_chosen_text_renderer_shows_a_fan_out_one_answer_after_the_other(app: App, refserver: RefServer) -> None:
    refserver.pace = 0.002  # both lanes stream at the same time, word by word
    app.config.settings.wrap = False  # each answer's exact text, as a terminal would break its lines
    result = on_a_terminal(app, "echo q | apollo & athena", renderer="plain")
    assert result.status == 0, result.err
    apollo, athena = plan_reply("apollo", "q\n").text(), plan_reply("athena", "q\n").text()
    assert result.out == f"{apollo}\n{athena}\n"
    lines = statuses(result.err)
    assert [line.split(" - ")[0] for line in lines] == [
        "[apollo: Streaming...]",
        "[apollo: Complete",
        "[athena: Streaming...]",
        "[athena: Complete",
    ]


def test_a_chosen_renderer_off_a_terminal_labels_each_answer(app: App) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert Runner(app, out=out, err=err, renderer="markdown").run_source("echo q | apollo & athena") == 0
    apollo, athena = plan_reply("apollo", "q\n").text(), plan_reply("athena", "q\n").text()
    assert out.getvalue() == f"[apollo]\n{apollo}\n\n[athena]\n{athena}"


@pytest.mark.parametrize("renderer", ["plain", "markdown"])
def test_a_fan_out_with_a_chosen_renderer_in_a_real_terminal(refserver: RefServer, renderer: str) -> None:
    refserver.pace = 0.003
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish", "--renderer", renderer, "-c", "echo q | apollo & athena"],
        env=spawn_env(refserver),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    shown = "\n".join(screen(child.before.replace("\r\n", "\n")))
    first, second = shown.index("Apollo (offline demo):"), shown.index("Athena (offline demo):")
    assert first < shown.index("[apollo: Complete - ") < shown.index("[athena: Streaming...]") < second
    assert "Athena" not in shown[:second] and "Apollo" not in shown[second:]


# ------------------------------------------------------------- live lanes


@pytest.fixture
def slow_lanes(refserver: RefServer, tmux_env: dict[str, str]) -> Iterator[Callable[..., Tmux]]:
    refserver.pace = 0.08  # a wrapped line of ~90 characters needs more than 1 s
    terms: list[Tmux] = []

    def start(width: int = 100, height: int = 30, **env: str) -> Tmux:
        argv = [sys.executable, "-m", "aish", "-c", "echo q | apollo & athena & hermes"]
        term = Tmux(argv, {**tmux_env, **env}, width=width, height=height)
        terms.append(term)
        return term

    try:
        yield start
    finally:
        for term in terms:
            term.close()


def test_lanes_show_each_lanes_partial_line_as_it_streams(slow_lanes: Callable[..., Tmux]) -> None:
    term = slow_lanes(TERM="xterm")
    lines = term.wait_for(r"^\[hermes\] Hermes \(offline")
    lines = term.wait_for(r"^\[apollo\] Apollo \(offline") if not any("[apollo]" in x for x in lines) else lines
    lanes = [line for line in lines if re.match(r"\[(apollo|athena|hermes)\] ", line)]
    assert [line[:8] for line in lanes] == ["[apollo]", "[athena]", "[hermes]"], lines
    assert all(len(line) < 60 for line in lanes), "partial lines, shown long before a line is complete"
    assert not any("Complete" in line for line in lines)
    final = term.wait_for(r"^\[Complete - 3 AIs responded", timeout=30)
    body = [line for line in final if line.startswith("[") and not line.startswith("[Complete")]
    assert {line[:8] for line in body} == {"[apollo]", "[athena]", "[hermes]"}, "\n".join(final)
    assert sum(1 for line in final if line.startswith("  ")) == 3  # the summary rows, nothing left of the live lines


def test_lanes_fit_the_real_terminal_whatever_columns_says(slow_lanes: Callable[..., Tmux]) -> None:
    """A stale ``COLUMNS`` (a terminal resized since, or tmux passing on another terminal's) must
    not make live lines wider than the screen: they would wrap, and each redraw leave rows behind."""
    term = slow_lanes(TERM="xterm", COLUMNS="200", LINES="50")
    final = term.wait_for(r"^\[Complete - 3 AIs responded", timeout=30)
    body = [line for line in final if line.startswith("[") and not line.startswith("[Complete")]
    assert {line[:8] for line in body} == {"[apollo]", "[athena]", "[hermes]"}, "\n".join(final)
    assert len(body) == len(set(body)), "a live line left behind:\n" + "\n".join(final)


def test_lanes_fit_a_narrow_terminal(slow_lanes: Callable[..., Tmux]) -> None:
    """At 24 columns (the lanes' text was at least 20 cells wide, and the labels 8 more) every
    line fits, so the live lines are redrawn in place: each lane's rows, read in order, are its
    answer exactly (a word wider than a row is cut), with no copy of a live line left behind.
    The screen is tall enough for every row (tmux keeps in its history what an erase from the
    top-left corner clears)."""
    term = slow_lanes(TERM="xterm", width=24, height=150)
    term.wait_until(
        lambda ls: sum(1 for ln in ls if re.match(r"\[(apollo|athena|hermes)\] \S", ln)) >= 6, "lanes streaming"
    )
    seen = []
    for _ in range(5):  # mid-stream, a line the terminal wrapped is one line here
        seen.append(term.lines(joined=True))
        time.sleep(0.2)
    term.wait_for(r"^\[Complete - 3 AIs", timeout=30)  # the rest of the line is on the next row
    rows = term.lines(joined=True)
    for lines in [*seen, rows]:
        lanes = [line for line in lines if line.startswith("[") and not line.startswith("[Complete")]
        assert all(cells(line) < 24 for line in lanes), "a line wider than the terminal:\n" + "\n".join(lines)
    for name in ("apollo", "athena", "hermes"):
        said = [line.removeprefix(f"[{name}]").strip() for line in rows if line.startswith(f"[{name}]")]
        assert "".join(said).replace(" ", "") == plan_reply(name, "q\n").text().replace(" ", ""), "\n".join(rows)
    assert any(line.startswith("[Complete - 3 AIs responded") for line in rows)


def test_each_lane_has_a_colour_on_a_colour_terminal(slow_lanes: Callable[..., Tmux]) -> None:
    term = slow_lanes(TERM="xterm-256color")
    lines = term.wait_for(r"\[hermes\]", styles=True)
    colours = {}
    for line in lines:
        found = re.match(r"\x1b\[([0-9;]+)m\[(apollo|athena|hermes)\]", line)
        if found:
            colours[found.group(2)] = found.group(1)
    assert set(colours) == {"apollo", "athena", "hermes"}, lines
    assert len(set(colours.values())) == 3


def test_no_color_turns_the_colours_off(slow_lanes: Callable[..., Tmux]) -> None:
    term = slow_lanes(TERM="xterm-256color", NO_COLOR="1")
    lines = term.wait_until(
        lambda ls: any(ln.startswith("[hermes] ") for ln in ls) and any(ln.startswith("[apollo] ") for ln in ls),
        "apollo's and hermes's lanes with text",  # a lane's tag is drawn before its first text arrives
        styles=True,
    )
    assert not any("\x1b[" in line for line in lines), lines


def _ctrl_c_after(args: list[str], env: dict[str, str], line: str, shown: str) -> list[str]:
    """The shell's screen after ``line``, Ctrl-C once ``shown`` (a pattern) is on it, and the next prompt."""
    with Tmux([sys.executable, "-m", "aish", *args], env) as term:
        term.wait_for(r"^aish>$")
        term.send_line(line)
        term.wait_for(shown)
        term.send_keys("C-c")
        return term.wait_until(lambda ls: ls[-1] == "aish>" and len(ls) > 4, "the prompt after Ctrl-C")


def test_ctrl_c_in_the_shell_leaves_each_lane_once(refserver: RefServer, tmux_env: dict[str, str]) -> None:
    """The terminal's ``^C`` and the shell's handling of it do not shift the live lines:
    every lane's last line is on the screen once, above the summary."""
    refserver.pace = 0.05
    lines = _ctrl_c_after(
        [], tmux_env, "echo q | apollo & athena & hermes", r"^\[athena\] Athena \(offline demo\): On the subject"
    )
    at = lines.index("aish> echo q | apollo & athena & hermes")
    end = next(i for i, line in enumerate(lines) if line.startswith("[Interrupted - 0 of 3 AIs finished"))
    shown = lines[at + 1 : end]
    assert len(shown) == len(set(shown)), lines  # no stale copy of a live line
    assert all(re.match(r"\[(apollo|athena|hermes)\] ", line) for line in shown), lines
    assert {line[:8] for line in shown} == {"[apollo]", "[athena]", "[hermes]"}
    assert lines[end + 1 : end + 4] == [row for row in lines[end + 1 : end + 4] if row.endswith("cancelled")]
    assert lines[-2] == "aish: interrupted (partial answers kept)"


@pytest.mark.parametrize("renderer", ["plain", "markdown"])
def test_ctrl_c_before_any_answer_leaves_no_blank_line(renderer: str, tmux_env: dict[str, str], tmp_path: Path) -> None:
    """A server that never answers, then Ctrl-C: the summary takes the tag's line (and the ^C
    echo's), the error follows on the next line, with no blank line between."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepted by the kernel, never answered
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        config = tmp_path / "aish.toml"
        config.write_text(f'[agents.mute]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\n', encoding="utf-8")
        lines = _ctrl_c_after(
            ["--config", str(config), "--renderer", renderer], tmux_env, "mute hi", r"^\[mute: Streaming\.\.\.\]"
        )
    at = lines.index("aish> mute hi")
    after = lines[at + 1 :]
    if renderer == "markdown":  # its tag has a line of its own, left as it is
        assert after[0] == "[mute: Streaming...]"
        after = after[1:]
    assert re.fullmatch(r"\[mute: Interrupted - [\d.]+s, 0 tokens\]", after[0]), lines
    assert after[1:] == ["aish: mute: interrupted", "aish>"], lines


def test_an_answer_on_a_terminal_breaks_its_lines_between_words(
    refserver: RefServer, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    """Found by a tour: a terminal breaks a long line in the middle of a word (``fav`` / ``orite``).
    The plain renderer breaks it before the word, here in a real terminal 47 columns wide; the answer
    itself (history, a pipe) is unchanged."""
    refserver.pace = 0.002  # the words arrive in pieces over time, as from a model
    with Tmux([sys.executable, "-m", "aish"], tmux_env, width=47) as term:
        term.wait_for(r"^aish>$")
        term.send_line("athena owls and extraordinarily interesting photosynthesis")
        lines = term.wait_for(r"^\[athena: Complete")
        expected = plan_reply("athena", "owls and extraordinarily interesting photosynthesis").text()
        start = next(i for i, line in enumerate(lines) if line.startswith("[athena: Streaming...] "))
        rows = [lines[start].removeprefix("[athena: Streaming...] ")]
        rows += lines[start + 1 : next(i for i, line in enumerate(lines) if line.startswith("[athena: Complete"))]
        assert len(rows) > 3, lines
        assert " ".join(rows).split() == expected.split(), lines  # a word cut in two would be two words here
        assert all(cells(line) <= 47 for line in lines)
        saved = tmp_path / "answer.txt"
        term.send_line(f"history answer > {saved}")
        term.wait_until(lambda _: saved.exists() and saved.read_text() == expected + "\n", "the answer saved")
        term.send_line("set wrap off")
        term.wait_for(r"^wrap = off$")
        term.send_line("athena owls and extraordinarily interesting photosynthesis")
        term.wait_until(lambda lines: sum(line.startswith("[athena: Complete") for line in lines) == 2, "again")
        assert f"[athena: Streaming...] {expected}" in term.lines(joined=True)  # the terminal's own wrapping


def test_keys_typed_while_an_answer_streams_wait_for_the_next_prompt(
    refserver: RefServer, tmux_env: dict[str, str]
) -> None:
    """Found by a tour: the next question, typed while an answer streamed, was echoed into the
    middle of the answer. Now the answer stays whole, a typed line with its Enter runs after it,
    and a line typed without Enter waits at the next prompt (aish/typeahead.py)."""
    refserver.pace = 0.02
    with Tmux([sys.executable, "-m", "aish"], tmux_env) as term:
        term.wait_for(r"^aish>$")
        term.send_line("athena owls")
        term.wait_for(r"^\[athena: Streaming\.\.\.\] Athena")
        term.send_line("hermes next")  # typed with its Enter while athena answers
        term.send_keys("apollo", "Space", "later")  # typed, no Enter
        lines = term.wait_until(lambda ls: ls[-1] == "aish> apollo later", "the waiting line at the prompt")
        term.send_keys("C-u")
        term.send_line("!python3 -c 'print(\"ready\"); print(repr(input()))'")  # a program reads the terminal
        term.wait_for(r"^ready$")
        term.send_line("seen")
        after = term.wait_for(r"^'seen'$")
    start = lines.index("aish> athena owls")
    end = next(i for i, line in enumerate(lines) if line.startswith("[athena: Complete"))
    assert not [line for line in lines[start:end] if "next" in line or "later" in line], lines
    assert lines[end + 1] == "aish> hermes next" and lines[end + 2].startswith("[hermes: Streaming...]"), lines
    assert after[after.index("ready") + 1] == "seen", after  # echoed as it was typed


def test_a_block_pasted_while_an_answer_streams_waits_as_one_paste(
    refserver: RefServer, tmux_env: dict[str, str]
) -> None:
    """Found by a tour: a block pasted while aish was busy reached the next prompt as typed lines,
    each run at its line end. While an answer streams, bracketed paste is on, as at the prompt: the
    block waits there whole, and runs only on Enter."""
    refserver.pace = 0.02
    with Tmux([sys.executable, "-m", "aish"], tmux_env) as term:
        term.wait_for(r"^aish>$")
        term.send_line("athena owls")
        term.wait_for(r"^\[athena: Streaming\.\.\.\] Athena")
        term.paste("!echo one-$((1+1))\n!echo two-$((1+2))\n")
        lines = term.wait_until(lambda ls: ls[-1] == "....> !echo two-$((1+2))", "the pasted block at the prompt")
        assert not [line for line in lines if line.startswith(("one-", "two-"))], lines  # nothing ran
        term.send_keys("Enter")
        after = term.wait_for(r"^two-3$")
    assert after[after.index("one-2") + 1] == "two-3", after


def test_a_mode_sequence_leaves_the_line_open_or_ended_as_it_was() -> None:
    """Bracketed paste turned on around an answer is no text: the line's end is what the answer left."""
    from aish.terminal import end_line, track, write_control
    from aish.typeahead import PASTE_ON

    for before, after in (
        ("an open line", "an open line\x1b[?2004h\n"),
        ("a whole line\n", "a whole line\n\x1b[?2004h"),
    ):
        raw = io.StringIO()
        out = track(raw)
        out.write(before)
        assert write_control(out, PASTE_ON)
        end_line(out)
        assert raw.getvalue() == after
