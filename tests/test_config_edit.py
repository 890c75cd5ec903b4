"""The ``[settings]`` text editor behind ``plugins enable/disable``: one key changes, nothing else."""

from __future__ import annotations

import tomllib

import pytest

from aish.config_edit import remove_table, set_settings_list, toml_array
from aish.errors import ConfigError

KEY = "disable_plugins"


def edit(text: str, values: list[str]) -> str:
    new = set_settings_list(text, KEY, values)
    assert tomllib.loads(new)["settings"][KEY] == values
    return new


def test_empty_file_gets_a_settings_table() -> None:
    assert edit("", ["demo"]) == '[settings]\ndisable_plugins = ["demo"]\n'


def test_a_file_without_settings_gets_one_appended() -> None:
    text = '# my agents\n[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://x"\n'
    assert edit(text, ["demo"]) == text + '\n[settings]\ndisable_plugins = ["demo"]\n'


def test_a_file_without_a_final_newline() -> None:
    text = '[agents.bot]\ntransport = "sse"\ncodec = "c"\nurl = "u"'
    assert edit(text, ["a"]) == text + '\n\n[settings]\ndisable_plugins = ["a"]\n'


def test_key_inserted_after_the_settings_header() -> None:
    text = '# top\n[settings]  # mine\nrenderer = "plain"\n\n[agents.b]\ntransport = "t"\ncodec = "c"\nurl = "u"\n'
    new = edit(text, ["demo"])
    assert new == text.replace("# mine\n", '# mine\ndisable_plugins = ["demo"]\n')


def test_settings_header_at_end_of_file_without_newline() -> None:
    assert edit("[settings]", ["x"]) == '[settings]\ndisable_plugins = ["x"]\n'


def test_existing_value_replaced_in_place_keeping_comments_and_spacing() -> None:
    text = '[settings]\nrenderer   =  "plain"   # odd spacing\ndisable_plugins = ["a"]  # keep me\nstats = true\n'
    new = edit(text, ["a", "b"])
    assert new == text.replace('["a"]  # keep me', '["a", "b"]  # keep me')


def test_multiline_array_with_comments_and_brackets_in_strings() -> None:
    text = '[settings]\ndisable_plugins = [\n  "a", # first ]\n  "b]",\n]\n# after\nstats = false\n'
    new = edit(text, ["c"])
    assert new == '[settings]\ndisable_plugins = ["c"]\n# after\nstats = false\n'


def test_only_the_settings_table_is_searched() -> None:
    text = '[agents.x]\ntransport = "t"\ncodec = "c"\nurl = "u"\n[agents.x.options]\ndisable_plugins = ["keep"]\n'
    new = edit(text, ["demo"])
    assert new.startswith(text) and tomllib.loads(new)["agents"]["x"]["options"][KEY] == ["keep"]


def test_emptying_the_list_keeps_the_key() -> None:
    assert edit('[settings]\ndisable_plugins = ["a"]\n', []) == "[settings]\ndisable_plugins = []\n"


def test_crlf_and_unicode_survive() -> None:
    text = '[settings]\r\nrenderer = "plain"\r\n[agents."é"]\r\ntransport = "t"\r\ncodec = "c"\r\nurl = "ü"\r\n'
    new = edit(text, ["x"])
    assert new == text.replace("[settings]\r\n", '[settings]\r\ndisable_plugins = ["x"]\r\n')


def test_names_are_escaped() -> None:
    assert toml_array(['a"b', "c\\d"]) == '["a\\"b", "c\\\\d"]'
    edit("", ['a"b'])


@pytest.mark.parametrize(
    "text",
    [
        "settings.disable_plugins = []\n",  # a dotted key at the top level
        "settings = { disable_plugins = [] }\n",  # an inline table
        '[settings]\ndisable_plugins = "a"\n',  # not an array
    ],
)
def test_forms_it_does_not_edit_are_refused(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        set_settings_list(text, KEY, ["x"], where="f.toml")
    assert str(info.value).startswith("f.toml: ") and "\n" not in str(info.value)


def test_invalid_toml_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        set_settings_list("[settings\n", KEY, ["x"])


def test_a_header_inside_a_multiline_string_is_not_taken_for_the_table() -> None:
    text = '[agents.x]\ntransport = "t"\ncodec = "c"\nurl = "u"\ndescription = """\n[settings]\n"""\n'
    new = edit(text, ["d"])
    assert new.startswith(text)


# ------------------------------------------------------------ remove_table (agents remove)
AGENTS = """\
# my aish
[settings]
renderer = "plain"

# the local one
[agents.local]
transport = "sse"  # keep me? no: I am local's
url = "http://127.0.0.1:8080/v1"

[agents.local.options]
temperature = 0.2

# the remote one
[agents."my claude"]
url = "https://api.example.test/v1"
"""


def test_a_table_goes_with_its_subtables_and_its_comments() -> None:
    new = remove_table(AGENTS, ("agents", "local"))
    assert new == '# my aish\n[settings]\nrenderer = "plain"\n\n# the remote one\n[agents."my claude"]\n' + (
        'url = "https://api.example.test/v1"\n'
    )


def test_the_last_table_takes_the_blank_lines_before_it() -> None:
    new = remove_table(AGENTS, ("agents", "my claude"))
    assert new == AGENTS[: AGENTS.index("\n\n# the remote one")] + "\n"
    assert tomllib.loads(new)["agents"] == {"local": tomllib.loads(AGENTS)["agents"]["local"]}


def test_the_first_table_and_crlf() -> None:
    text = '[agents.a]\r\nurl = "x"\r\n\r\n[agents.b]\r\nurl = "y"\r\n'
    assert remove_table(text, ("agents", "a")) == '[agents.b]\r\nurl = "y"\r\n'
    assert remove_table('[agents.a]\nurl = "x"\n', ("agents", "a")) == ""


def test_a_comment_right_above_the_next_table_stays_with_it() -> None:
    text = '[agents.a]\nurl = "x"\n# b is remote\n[agents.b]\nurl = "y"\n'
    assert remove_table(text, ("agents", "a")) == '# b is remote\n[agents.b]\nurl = "y"\n'


@pytest.mark.parametrize(
    "text",
    [
        '[agents]\na = { url = "x" }\n',  # an inline table
        '[agents]\na.url = "x"\n',  # dotted keys
        '[agents.b]\nurl = "y"\n',  # not there at all
        'x = """\n[agents.a]\n"""\n',  # only inside a string
    ],
)
def test_forms_it_cannot_remove_whole_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^f\.toml: cannot remove \[agents\.a\] safely; edit the file by hand$"):
        remove_table(text, ("agents", "a"), where="f.toml")
