"""Schema, created and upgraded on open. Each migration runs once, tracked by PRAGMA user_version."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from wirewatch.query import cjk_index_text, has_cjk

_V1 = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_status INTEGER,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_fetched TEXT,
    next_fetch TEXT
);
CREATE TABLE IF NOT EXISTS clusters (
    id INTEGER PRIMARY KEY,
    headline TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    created TEXT NOT NULL,
    merged_into INTEGER REFERENCES clusters(id)
);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    feed_url TEXT,
    title TEXT NOT NULL,
    author TEXT,
    sitename TEXT,
    published TEXT,
    fetched TEXT NOT NULL,
    text TEXT NOT NULL,
    from_feed_only INTEGER NOT NULL DEFAULT 0,
    cluster_id INTEGER REFERENCES clusters(id),
    tier TEXT,
    matched_article_id INTEGER REFERENCES articles(id),
    match_score REAL
);
CREATE INDEX IF NOT EXISTS articles_cluster ON articles(cluster_id);
CREATE TABLE IF NOT EXISTS fingerprints (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    shingle_hashes BLOB NOT NULL,
    salient_hashes BLOB NOT NULL,
    words TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_merges (
    id INTEGER PRIMARY KEY,
    from_cluster INTEGER NOT NULL REFERENCES clusters(id),
    into_cluster INTEGER NOT NULL REFERENCES clusters(id),
    article_id INTEGER REFERENCES articles(id),
    merged_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS topic_matches (
    topic TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    cluster_id INTEGER REFERENCES clusters(id),
    matched_at TEXT NOT NULL,
    PRIMARY KEY (topic, article_id)
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    mode TEXT NOT NULL,
    cluster_id INTEGER REFERENCES clusters(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    delivered TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt TEXT
);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    delivered TEXT NOT NULL,
    PRIMARY KEY (alert_id, channel)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    summary TEXT
);
"""


def _v1(db: sqlite_utils.Database) -> None:
    # Statement by statement: executescript() would commit in the middle of the migration.
    for statement in _V1.split(";"):
        if statement.strip():
            db.execute(statement)
    # Porter stemming lets a topic about "sanctions" also match "sanctioned".
    db.table("articles").enable_fts(["title", "text"], create_triggers=True, tokenize="porter")


def _v2(db: sqlite_utils.Database) -> None:
    # On how many pages of a source each short paragraph appeared: the source's template.
    db.execute(
        """CREATE TABLE IF NOT EXISTS source_paragraphs (
               source TEXT NOT NULL,
               key TEXT NOT NULL,
               pages INTEGER NOT NULL,
               PRIMARY KEY (source, key)
           )"""
    )


def _v3(db: sqlite_utils.Database) -> None:
    # Articles stored from their feed entry alone (page unreachable) retry their page a few times.
    db.execute("ALTER TABLE articles ADD COLUMN page_attempts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE articles ADD COLUMN page_error TEXT")


def _v4(db: sqlite_utils.Database) -> None:
    # What the reader did with a story in the review page; muted stories raise no further alerts.
    db.execute(
        """CREATE TABLE IF NOT EXISTS cluster_state (
               cluster_id INTEGER PRIMARY KEY REFERENCES clusters(id),
               read INTEGER NOT NULL DEFAULT 0,
               muted INTEGER NOT NULL DEFAULT 0,
               updated TEXT NOT NULL
           )"""
    )


def _v5(db: sqlite_utils.Database) -> None:
    # Fingerprints gain the article's times (the story index holds a time window) and the hashes
    # a match is verified on in memory; shingles are now hashed word by word. Old rows cannot be
    # converted: load_index computes the missing fingerprints again from the stored articles.
    db.execute("DROP TABLE IF EXISTS fingerprints")
    db.execute(
        """CREATE TABLE fingerprints (
               article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
               seen REAL,
               arrived REAL NOT NULL,
               shingle_hash BLOB NOT NULL,
               lsh_hash BLOB NOT NULL,
               salient_hashes BLOB NOT NULL,
               word_hashes BLOB NOT NULL,
               title_hashes BLOB NOT NULL
           )"""
    )
    # What an article's match score measures (see Placement.basis), for explaining it.
    db.execute("ALTER TABLE articles ADD COLUMN match_basis TEXT")
    db.execute("CREATE INDEX fingerprints_arrived ON fingerprints(arrived)")
    # The full-text index is rebuilt for an article only when its title or text changes: the
    # trigger sqlite-utils creates fires on any update (a cluster id, a page attempt) and made
    # placing an article index its text twice.
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute(
        """CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
             INSERT INTO articles_fts (articles_fts, rowid, title, text)
               VALUES ('delete', old.rowid, old.title, old.text);
             INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
           END"""
    )


def _v6(db: sqlite_utils.Database) -> None:
    # Fingerprints gain the article's embedding (dedup.embedding). Emptied, not converted: the
    # embedding needs the text, and load_index computes every missing fingerprint again.
    db.execute("DELETE FROM fingerprints")
    db.execute("ALTER TABLE fingerprints ADD COLUMN embedding BLOB")
    # What decided a story-model match (Placement.scores), as a JSON object, for explaining it.
    db.execute("ALTER TABLE articles ADD COLUMN match_scores TEXT")


def _v7(db: sqlite_utils.Database) -> None:
    # Where an article's text came from: "page" (extracted) or "feed" (its summary or full text).
    db.execute("ALTER TABLE articles ADD COLUMN text_source TEXT NOT NULL DEFAULT 'page'")
    db.execute("UPDATE articles SET text_source = 'feed' WHERE from_feed_only = 1")


def _v8(db: sqlite_utils.Database) -> None:
    # Watchlists: each listed entity an article names, with the sentence that names it; an
    # alert of a watchlist is about one entity (topic = the list's name).
    db.execute(
        """CREATE TABLE entity_matches (
               list_name TEXT NOT NULL,
               entity_id TEXT NOT NULL,
               name TEXT NOT NULL,
               matched TEXT NOT NULL,
               sentence TEXT NOT NULL,
               article_id INTEGER NOT NULL REFERENCES articles(id),
               cluster_id INTEGER,
               matched_at TEXT NOT NULL,
               PRIMARY KEY (list_name, entity_id, article_id)
           )"""
    )
    db.execute("CREATE INDEX entity_matches_article ON entity_matches(article_id)")
    db.execute("CREATE INDEX entity_matches_cluster ON entity_matches(cluster_id)")
    db.execute("ALTER TABLE alerts ADD COLUMN entity_id TEXT")
    db.execute("ALTER TABLE alerts ADD COLUMN entity_name TEXT")


def _v9(db: sqlite_utils.Database) -> None:
    # The article's language (declared by its page or feed, else detected); NULL when unknown.
    db.execute("ALTER TABLE articles ADD COLUMN language TEXT")


def _v10(db: sqlite_utils.Database) -> None:
    # A second full-text index for articles with CJK text, each CJK run as its character pairs
    # (wirewatch.query.cjk_index_text): FTS5's unicode61 takes a whole run for one word.
    db.execute("CREATE VIRTUAL TABLE articles_cjk USING fts5(title, text, tokenize='unicode61')")
    for row in db.execute("SELECT id, title, text FROM articles").fetchall():
        if has_cjk(row[1]) or has_cjk(row[2]):
            db.execute(
                "INSERT INTO articles_cjk (rowid, title, text) VALUES (?, ?, ?)",
                (row[0], cjk_index_text(row[1]), cjk_index_text(row[2])),
            )


def _v11(db: sqlite_utils.Database) -> None:
    # A third full-text index for articles in languages with a Snowball stemmer other than English
    # (wirewatch.query.SNOWBALL), their words stemmed in their own language: Porter is English-only.
    # Articles stored before their language was known (v9) have none and are not in it.
    db.execute(
        "CREATE VIRTUAL TABLE articles_stem USING fts5(title, text, language UNINDEXED, tokenize='unicode61')"
    )


def _v12(db: sqlite_utils.Database) -> None:
    # Cross-language links (dedup.related): each article's anchors (numbers, dates, places, names
    # that read the same in every language), looked up by anchor to find a story's candidates; and
    # the links themselves, one row per direction. Articles stored before this have no anchors:
    # links start with the stories that arrive after the upgrade.
    db.execute(
        "CREATE TABLE article_anchors (anchor TEXT NOT NULL, article_id INTEGER NOT NULL "
        "REFERENCES articles(id) ON DELETE CASCADE, PRIMARY KEY (anchor, article_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX article_anchors_article ON article_anchors(article_id)")
    db.execute(
        "CREATE TABLE story_links (cluster_id INTEGER NOT NULL, related_id INTEGER NOT NULL, "
        "language TEXT NOT NULL, score REAL NOT NULL, shared TEXT NOT NULL, "
        "PRIMARY KEY (cluster_id, related_id))"
    )
    db.execute("CREATE INDEX story_links_related ON story_links(related_id)")


def _v13(db: sqlite_utils.Database) -> None:
    # Developments (dedup.novelty): each article's sentences its story had not said, their count
    # and weight (NULL before this version; an empty list for the first article of a story, all of
    # which is new). Alerts say what kind they are (new_story, development, digest, article,
    # watchlist), and a development alert keeps the new sentences it carries.
    db.execute("ALTER TABLE articles ADD COLUMN new_sentences TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN new_count INTEGER")
    db.execute("ALTER TABLE articles ADD COLUMN novelty REAL")
    db.execute("ALTER TABLE alerts ADD COLUMN kind TEXT")
    db.execute(
        """UPDATE alerts SET kind = CASE WHEN entity_id IS NOT NULL THEN 'watchlist'
             WHEN mode = 'digest' THEN 'digest' WHEN mode = 'every_article' THEN 'article'
             ELSE 'new_story' END"""
    )
    db.execute(
        "CREATE TABLE alert_sentences (alert_id INTEGER NOT NULL REFERENCES alerts(id), "
        "article_id INTEGER NOT NULL REFERENCES articles(id), position INTEGER NOT NULL, text TEXT NOT NULL, "
        "PRIMARY KEY (alert_id, article_id, position))"
    )


def _v14(db: sqlite_utils.Database) -> None:
    # What each article says, as dedup.sentences reads it (its statements' content words, names
    # and numbers, compressed): a story's members are compared with a new one without splitting
    # their texts again every run. Articles stored before this have none and are split as before.
    db.execute(
        "CREATE TABLE article_statements (article_id INTEGER PRIMARY KEY "
        "REFERENCES articles(id) ON DELETE CASCADE, statements BLOB NOT NULL)"
    )


def _v15(db: sqlite_utils.Database) -> None:
    # A new article enters the full-text index from ArticleQueries.insert, not from a trigger: a
    # statement firing a trigger opens a savepoint, and FTS5 writes its pending terms out at each,
    # so every article became an index segment of its own, merged again later.
    db.execute("DROP TRIGGER IF EXISTS articles_ai")


def _v16(db: sqlite_utils.Database) -> None:
    # Fingerprints are kept as the story index holds them (dedup.stored_form): band keys, the
    # quantised embedding, 16-bit words; half the bytes, read into the index without parsing or
    # mixing. Old rows cannot be converted here (their band keys need the MinHash values mixed):
    # load_index computes the missing ones again from the stored articles.
    db.execute("DROP TABLE IF EXISTS fingerprints")
    db.execute(
        """CREATE TABLE fingerprints (
               article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
               seen REAL,
               arrived REAL NOT NULL,
               kept BLOB NOT NULL,
               words BLOB NOT NULL,
               terms BLOB NOT NULL,
               titles INTEGER NOT NULL
           )"""
    )
    db.execute("CREATE INDEX fingerprints_arrived ON fingerprints(arrived)")
    # A run's start reads each windowed article's cluster from this index, not from the article's
    # row (its text): 0.01 s for 21,000 articles where the rows took 0.03 s.
    db.execute("CREATE INDEX articles_cluster_of ON articles(id, cluster_id)")


def _v17(db: sqlite_utils.Database) -> None:
    # Lookups that scanned a table growing with the store (seen as a store path slowing from 230
    # to 130 articles a second between 100,000 and 500,000 stored): the window's stories by when
    # they were first seen (cross-language links, each commit chunk), a topic's alerts on a story
    # or an article (each match), a story's topic matches (each merge, the review list).
    db.execute("CREATE INDEX clusters_first_seen ON clusters(first_seen)")
    db.execute("CREATE INDEX alerts_story ON alerts(cluster_id, topic)")
    db.execute("CREATE INDEX alerts_article ON alerts(article_id, topic)")
    db.execute("CREATE INDEX topic_matches_story ON topic_matches(cluster_id)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
    _v8,
    _v9,
    _v10,
    _v11,
    _v12,
    _v13,
    _v14,
    _v15,
    _v16,
    _v17,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; a no-op on a current database."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
