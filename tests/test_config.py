"""Config loading: lookup order, and one clear line naming the file and key for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_config
from wirewatch.cli import main
from wirewatch.config import load_settings
from wirewatch.errors import ConfigError

GOOD = """
database = "news.db"

[[feeds]]
name = "Example"
url = "https://example.com/feed.xml"

[[topics]]
name = "nk"
query = '"north korea" AND sanction*'

[alerts]
urls = ["json://127.0.0.1:8080/hook"]

[fetch]
read_timeout_s = 5
max_page_bytes = 1000000

[stories]
window_days = 3

[extract]
workers = 3
"""


def test_full_config_is_read_and_database_is_next_to_it(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD)
    settings = load_settings(str(path), env={})
    assert [f.url for f in settings.feeds] == ["https://example.com/feed.xml"]
    assert settings.topics[0].mode == "new_story"
    assert settings.alerts.urls == ("json://127.0.0.1:8080/hook",)
    assert settings.fetch.read_timeout_s == 5.0
    assert settings.fetch.allow_private_networks is False
    assert settings.stories.window_days == 3.0
    assert settings.extract.workers == 3
    assert settings.database == str(tmp_path / "news.db")
    assert load_settings(str(path), db_override="other.db", env={}).database == "other.db"


def test_lookup_order_env_then_local_file_then_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).is_demo
    write_config(tmp_path, GOOD)
    assert load_settings(env={}).source == "wirewatch.toml"
    other = write_config(tmp_path, GOOD, name="other.toml")
    assert load_settings(env={"WIREWATCH_CONFIG": str(other)}).source == str(other)


@pytest.mark.parametrize(
    ("replace", "by", "key", "problem"),
    [
        ("[fetch]", "[fetch]\ntimeout = 3", "fetch.timeout", "unknown key"),
        (
            "read_timeout_s = 5",
            'read_timeout_s = "5"',
            "fetch.read_timeout_s",
            "expected an integer or a number",
        ),
        ('url = "https://example.com/feed.xml"', 'url = "example.com/feed"', "feeds[0].url", "malformed URL"),
        ("query = '\"north korea\" AND sanction*'", "query = 'AND OR'", "topics[0].query", "invalid query"),
        ('urls = ["json://127.0.0.1:8080/hook"]', 'urls = ["not a url"]', "alerts.urls[0]", "malformed"),
        ("[alerts]", "[alerts]\ncolour = 1", "alerts.colour", "unknown key"),
        ("window_days = 3", "window_days = 0", "stories.window_days", "greater than 0"),
        ("window_days = 3", 'window_days = "7"', "stories.window_days", "expected an integer"),
        ("workers = 3", "workers = -1", "extract.workers", "must be from 0 to 256 (got -1)"),
        ("workers = 3", "workers = 1.5", "extract.workers", "expected an integer"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, replace: str, by: str, key: str, problem: str) -> None:
    path = write_config(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message


def test_cli_prints_one_error_line_for_bad_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD.replace("[fetch]", "[fetch]\nretries = 2"))
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: fetch.retries: unknown key "
        "(allowed: allow_private_networks, allowed_hosts, concurrency, "
        "connect_timeout_s, max_feed_bytes, max_page_bytes, "
        "max_redirects, per_host_concurrency, proxy, read_timeout_s, total_timeout_s, "
        "user_agent)"
    ]


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["clusters", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"Error: {tmp_path / 'nope.toml'}: cannot read config file (No such file or directory)"
    )
