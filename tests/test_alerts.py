"""Alerts: one per new development, queued with the article, delivered once through Apprise."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from wirewatch.alerts.delivery import verify_signature
from wirewatch.alerts.masking import mask_text, mask_url, secret_parts
from wirewatch.extractors import extract_page
from wirewatch.extractors.article import read_file_page
from wirewatch.flows.commit import LiveIndex, commit_articles, deliver_alerts
from wirewatch.records import NewArticle
from wirewatch.settings import AlertSettings, TopicConfig, WebhookConfig
from wirewatch.store import open_store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
NK = '"north korea" AND sanction*'


@pytest.fixture(scope="module")
def seeds(seed_paths: list[Path]) -> list[NewArticle]:
    out = []
    for path in seed_paths:
        a = extract_page(read_file_page(path))
        out.append(
            NewArticle(
                url=path.resolve().as_uri(),
                source=path.name,
                title=a.title or path.name,
                text=a.text,
                published=a.date,
            )
        )
    return out


def _ingest(db: Path, articles: list[NewArticle], mode: str, alerts: AlertSettings | None = None) -> int:
    store = open_store(db)
    # As a run does (flows.steps.commit): the index is loaded under the write lock and again
    # when another run has written since; one loaded up front would miss an overlapping run's.
    index = LiveIndex()
    queued = 0
    for article in articles:
        report = commit_articles(
            [article], store, index, (TopicConfig("nk", NK, mode),), alerts or AlertSettings(), NOW
        )
        queued += report.alerts_queued
    store.close()
    return queued


def test_new_story_mode_alerts_once_per_story_in_any_order(seeds: list[NewArticle], tmp_path: Path) -> None:
    for n, order in enumerate(itertools.permutations(seeds)):
        db = tmp_path / f"o{n}.db"
        assert _ingest(db, list(order), "new_story") == 2
        assert _ingest(db, list(order), "new_story") == 0  # the same input again: nothing new


def test_every_article_mode_alerts_per_article(seeds: list[NewArticle], tmp_path: Path) -> None:
    assert _ingest(tmp_path / "e.db", seeds, "every_article") == 5
    assert _ingest(tmp_path / "e.db", seeds, "every_article") == 0


def test_delivery_reaches_a_real_endpoint_exactly_once(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    url = f"json://127.0.0.1:{httpserver.port}/hook"
    settings = AlertSettings(urls=(url,))
    db = tmp_path / "d.db"
    _ingest(db, seeds, "new_story", settings)
    store = open_store(db)
    first = deliver_alerts(store, settings, NOW)
    second = deliver_alerts(store, settings, NOW + timedelta(hours=1))
    assert (first.sent, second.sent) == (2, 0)
    bodies = [json.loads(req.get_data()) for req, _ in httpserver.log]
    assert len(bodies) == 2
    assert all(b["title"].startswith("[wirewatch] nk: ") for b in bodies)
    assert all("alert id nk:cluster:" in b["message"] and "file://" in b["message"] for b in bodies)
    assert {a.status for a in store.outbox.listing()} == {"sent"}


def test_endpoint_down_keeps_alerts_pending_then_delivers_once(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    url = f"json://127.0.0.1:{httpserver.port}/hook"
    settings = AlertSettings(urls=(url,))
    db = tmp_path / "p.db"
    _ingest(db, seeds, "new_story", settings)
    store = open_store(db)
    httpserver.expect_oneshot_request("/hook").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request("/hook").respond_with_data("boom", status=500)
    down = deliver_alerts(store, settings, NOW)
    assert down.sent == 0 and down.pending == 2
    assert all("delivery failed" in e for e in down.errors)
    assert {a.status for a in store.outbox.listing()} == {"pending"}
    httpserver.expect_request("/hook").respond_with_data("ok")
    too_soon = deliver_alerts(store, settings, NOW + timedelta(seconds=5))
    assert too_soon.sent == 0  # backing off
    back = deliver_alerts(store, settings, NOW + timedelta(hours=1))
    again = deliver_alerts(store, settings, NOW + timedelta(hours=2))
    assert (back.sent, again.sent) == (2, 0)
    assert len([r for r, resp in httpserver.log if resp.status_code == 200]) == 2


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # Letter-only topics and tokens: the old mask kept runs without digits shorter than 20.
        ("ntfys://ntfy.sh/mysecrettopic", "ntfys://ntfy.sh/***"),
        ("ntfy://mysecrettopic", "ntfy://***"),  # ntfy.sh by default: the topic is where a host goes
        ("mailto://user:hunter@example.com", "mailto://***@example.com"),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321", "tgram://***/***"),
        ("slack://TokenA/TokenB/TokenC/#general", "slack://***/***#***"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://***/***"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/***"),
        (
            "https://h.example.org:8443/hook?token=abc&apikey=abc&password=abc&secret=abc&sig=abc&mode=x",
            "https://h.example.org:8443/***?token=***&apikey=***&password=***&secret=***&sig=***&mode=x",
        ),
        ("json://127.0.0.1:8080/?+Authorization=Bearer%20abc", "json://127.0.0.1:8080/?+Authorization=***"),
        ("ntfys:/ntfy.sh/mysecrettopic", "ntfys:***"),  # malformed: no host can be told
        ("xoxb-tokenvalue:rest", "***"),
    ],
)
def test_secrets_in_channel_urls_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_free_text_masks_urls_and_the_secret_parts_of_known_channels() -> None:
    url = "ntfys://ntfy.sh/mysecrettopic"
    line = "Failed to send to topic 'mysecrettopic' at https://ntfy.sh/mysecrettopic."
    assert mask_text(line, secret_parts(url)) == "Failed to send to topic '***' at https://ntfy.sh/***"


def test_digest_mode_sends_one_message_per_topic_and_run(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    settings = AlertSettings(urls=(f"json://127.0.0.1:{httpserver.port}/hook",))
    db = tmp_path / "g.db"
    assert _ingest(db, seeds, "digest", settings) == 2
    store = open_store(db)
    report = deliver_alerts(store, settings, NOW)
    assert report.sent == 2
    bodies = [json.loads(r.get_data()) for r, _ in httpserver.log]
    assert len(bodies) == 1 and bodies[0]["title"] == "[wirewatch] nk: 2 new stories"


def test_signed_webhook_body_verifies_with_the_shared_secret(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/signed", method="POST").respond_with_data("ok")
    settings = AlertSettings(webhooks=(WebhookConfig(httpserver.url_for("/signed"), "s3cret"),))
    db = tmp_path / "w.db"
    _ingest(db, seeds, "new_story", settings)
    store = open_store(db)
    assert deliver_alerts(store, settings, NOW).sent == 2
    for request, _ in httpserver.log:
        signature = request.headers["X-Wirewatch-Signature"]
        assert verify_signature("s3cret", request.get_data(), signature)
        assert not verify_signature("wrong", request.get_data(), signature)
        body = json.loads(request.get_data())
        assert body["alerts"][0]["alert_id"].startswith("nk:cluster:")


def test_unreachable_channel_is_one_line_and_keeps_alert_pending(
    seeds: list[NewArticle], tmp_path: Path
) -> None:
    settings = AlertSettings(urls=("json://127.0.0.1:9/hook",))
    db = tmp_path / "u.db"
    _ingest(db, seeds, "new_story", settings)
    report = deliver_alerts(open_store(db), settings, NOW)
    assert report.pending == 2 and report.sent == 0
    assert (
        report.errors[0] == "alert 1 (nk): json://127.0.0.1:9/***: delivery failed (unreachable or refused)"
    )


def test_search_groups_matches_by_cluster(seeds: list[NewArticle], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wirewatch.cli import main

    db = tmp_path / "s.db"
    _ingest(db, seeds, "new_story")
    result = CliRunner().invoke(main, ["search", '"security council" AND veto*', "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)
    assert sum(len(g["articles"]) for g in groups) >= 1
    assert len({g["cluster_id"] for g in groups}) == len(groups)
    assert all("[" in a["snippet"] for g in groups for a in g["articles"])
    bad = CliRunner().invoke(main, ["search", "AND OR", "--db", str(db)])
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "Error: invalid query 'AND OR': fts5: syntax error near \"AND\""


def test_overlapping_runs_store_and_alert_once(seeds: list[NewArticle], tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    open_store(db).close()
    barrier = threading.Barrier(2)
    queued: list[int] = []
    failures: list[BaseException] = []

    def one_run(order: list[NewArticle]) -> None:
        barrier.wait()
        try:
            queued.append(_ingest(db, order, "new_story"))
        except BaseException as exc:  # reported below: a thread's exception is otherwise only a warning
            failures.append(exc)

    runs = [threading.Thread(target=one_run, args=(order,)) for order in (seeds, seeds[::-1])]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert failures == []
    store = open_store(db)
    assert store.count("articles") == 5
    assert len(store.outbox.listing()) == 2 and sum(queued) == 2


def test_alert_of_a_story_muted_before_delivery_is_not_sent(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    settings = AlertSettings(urls=(f"json://127.0.0.1:{httpserver.port}/hook",))
    db = tmp_path / "m.db"
    _ingest(db, seeds, "new_story", settings)
    store = open_store(db)
    first = store.outbox.listing()[-1]
    store.review.set_muted(first.cluster_id, True, NOW)
    report = deliver_alerts(store, settings, NOW)
    assert (report.sent, report.muted) == (1, 1)
    assert {a.id: a.status for a in store.outbox.listing()}[first.id] == "muted"
    assert len(httpserver.log) == 1


def test_retry_all_sends_alerts_recorded_without_a_channel_once_to_each_channel_now(
    seeds: list[NewArticle], tmp_path: Path, httpserver: HTTPServer
) -> None:
    from click.testing import CliRunner

    from wirewatch.cli import main

    db = tmp_path / "r.db"
    assert _ingest(db, seeds, "new_story") == 2  # no channel configured: recorded, not sent
    httpserver.expect_request("/apprise", method="POST").respond_with_data("ok")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    config = tmp_path / "wirewatch.toml"
    config.write_text(
        f'[alerts]\nurls = ["json://127.0.0.1:{httpserver.port}/apprise"]\n\n'
        f'[[alerts.webhooks]]\nurl = "{httpserver.url_for("/hook")}"\n',
        encoding="utf-8",
    )
    args = ["alerts", "--config", str(config), "--db", str(db)]
    plain = CliRunner().invoke(main, [*args, "--retry"])
    assert plain.exit_code == 0, plain.output
    assert "0 sent" in plain.stderr and httpserver.log == []  # --retry alone leaves them recorded

    first = CliRunner().invoke(main, [*args, "--retry", "--all"])
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines()[:2] == ["2 recorded alerts queued", "2 sent, 0 pending, 0 failed"]
    paths = sorted(request.path for request, _ in httpserver.log)
    assert paths == ["/apprise", "/apprise", "/hook", "/hook"]
    assert {a.status for a in open_store(db).outbox.listing()} == {"sent"}

    second = CliRunner().invoke(main, [*args, "--retry", "--all"])
    assert second.exit_code == 0, second.output
    assert second.stderr.splitlines()[:2] == ["0 recorded alerts queued", "0 sent, 0 pending, 0 failed"]
    assert len(httpserver.log) == 4


def test_retry_all_needs_a_channel_and_goes_with_retry(seeds: list[NewArticle], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wirewatch.cli import main

    db = tmp_path / "n.db"
    _ingest(db, seeds, "new_story")
    config = tmp_path / "none.toml"
    config.write_text("[alerts]\nurls = []\n", encoding="utf-8")
    args = ["alerts", "--config", str(config), "--db", str(db)]
    no_channel = CliRunner().invoke(main, [*args, "--retry", "--all"])
    assert no_channel.exit_code == 1
    assert no_channel.stderr.strip() == (
        f"Error: no alert channel configured in {config}: the recorded alerts stay recorded"
    )
    alone = CliRunner().invoke(main, [*args, "--all"])
    assert alone.exit_code == 2 and "--all goes with --retry" in alone.stderr
    assert {a.status for a in open_store(db).outbox.listing()} == {"recorded"}
