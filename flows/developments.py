"""What each article adds to its story, and the development alerts of `developments` topics.

Each article that joins a story is compared with what the story has said (dedup.novelty); its new
sentences, their count and weight are stored with it. A `developments` topic alerts on a story's
first match like `new_story`, then again when a later member's new sentences weigh enough and
one of them matches the topic (alerts.policy.is_development). Such an alert is held until
`min_interval_minutes` after the topic's last alert on the story, and what else arrives meanwhile
joins it: a burst of updates is one message.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from wirewatch.alerts.policy import development_not_before, is_development
from wirewatch.dedup.novelty import Novelty, article_sentences, novelty_of
from wirewatch.dedup.reading import ArticleReading
from wirewatch.dedup.statements import StatementIndex, Statements
from wirewatch.records import NewArticle, Placement
from wirewatch.settings import TopicConfig
from wirewatch.store import Store
from wirewatch.timeutil import parse_iso

# Stories whose statements are kept between articles of one run (the most recently used; a story
# of 50 members holds some 1,000 sentences, ~1.5 MB).
KEPT_STORIES = 500


class StoryStatements:
    """What each story a run touches has said, read from the store once and extended as members
    join (twenty copies in one poll cost one read). Read again when another connection (an
    overlapping run) has written since: call `sync` inside each write transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._said: OrderedDict[int, StatementIndex] = OrderedDict()
        self._version: int | None = None

    def sync(self) -> None:
        version = self.store.data_version()
        if self._version is not None and version != self._version:
            self._said.clear()
        self._version = version

    def _keep(self, cluster_id: int, said: StatementIndex) -> StatementIndex:
        self._said[cluster_id] = said
        self._said.move_to_end(cluster_id)
        while len(self._said) > KEPT_STORIES:
            self._said.popitem(last=False)
        return said

    def record(
        self, reading: ArticleReading, article_id: int, cluster_id: int, placement: Placement
    ) -> Novelty:
        """Store what the article adds to its story, and return it."""
        if placement.merges:  # stories merged into this one: what they said is read again
            self._said.pop(cluster_id, None)
        statements = Statements.unpacked(reading.statements)
        if placement.story is None:  # the first article of its story: all of it is new
            said = self._keep(cluster_id, StatementIndex(distinct=True))
            found = novelty_of(reading.headline, reading.body, said, statements)
            self.store.articles.save_novelty(article_id, [], found.total, 0.0)
            return Novelty((), 0.0, found.total)
        known = self._said.get(cluster_id)
        if known is None:
            known = StatementIndex(distinct=True)  # what its members said, oldest first
            members = self.store.articles.story_statements(cluster_id, exclude=article_id)
            known.add(
                Statements.joined(
                    [
                        Statements.of(article_sentences(title, text))  # stored before schema v14
                        if raw is None
                        else Statements.unpacked(raw)
                        for raw, title, text in members
                    ]
                )
            )
        self._keep(cluster_id, known)
        found = novelty_of(reading.headline, reading.body, known, statements)
        self.store.articles.save_novelty(
            article_id, [s.text for s in found.sentences], found.count, found.weight
        )
        return found


def queue_development(
    topic: TopicConfig,
    article: NewArticle,
    article_id: int,
    cluster_id: int,
    found: Novelty,
    store: Store,
    status: str,
    now: datetime,
) -> int | None:
    """Queue (or add to the waiting) development alert for what the article adds; the id of a
    newly queued alert, None when it raised none or joined one waiting."""
    texts = [s.text for s in found.sentences]
    matching = store.outbox.sentences_matching(topic.query, texts, article.language) if texts else []
    if not is_development(found.weight, len(matching)) or store.review.is_muted(cluster_id):
        return None
    carried = [(s.position, s.text) for s in found.sentences]
    waiting = store.outbox.open_development(topic.name, cluster_id)
    if waiting is not None:
        store.outbox.attach_sentences(waiting, article_id, carried)
        return None
    last = parse_iso(store.outbox.last_alert_created(topic.name, cluster_id))
    not_before = development_not_before(last, now, topic.min_interval_minutes)
    alert_id = store.outbox.queue(
        f"{topic.name}:development:{cluster_id}:{article_id}",
        topic.name,
        topic.mode,
        cluster_id,
        article_id,
        status,
        now,
        kind="development",
        not_before=not_before if not_before > now else None,
    )
    if alert_id is not None:
        store.outbox.attach_sentences(alert_id, article_id, carried)
    return alert_id
