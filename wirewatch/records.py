"""Records that cross package boundaries. Dicts only appear at the SQLite edge, inside store/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, before its page is fetched."""

    feed_url: str
    source: str
    url: str  # canonical: the article's identity in the store
    title: str
    summary: str
    published: datetime | None
    author: str | None = None
    link: str | None = None  # as the feed gave it: what is fetched
    content_html: str = ""  # the article itself when the feed carries it (content:encoded, Atom content)
    language: str | None = None  # as the feed declares it (RSS <language>, Atom xml:lang)


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched or read document, not yet extracted."""

    url: str
    source: str
    body: str
    content_type: str  # "text/html" or "text/plain"
    entry: FeedEntry | None = None
    error: str | None = None  # why the page could not be fetched (body is then empty)


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """Clean text and metadata of one page."""

    url: str
    title: str | None
    author: str | None
    date: datetime | None
    sitename: str | None
    text: str
    language: str | None = None
    canonical_url: str | None = None


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article ready to be stored: extracted text plus where it came from."""

    url: str
    source: str
    title: str
    text: str
    published: datetime | None
    author: str | None = None
    sitename: str | None = None
    feed_url: str | None = None
    from_feed_only: bool = False
    # Keys of the page's short paragraphs before template stripping (extractors.templates).
    paragraph_keys: tuple[str, ...] = ()
    page_error: str | None = None  # set when the article is stored from its feed entry alone
    text_source: str = "page"  # "page" (extracted) or "feed" (the feed's summary or full text)
    language: str | None = None  # ISO 639-1 (or -3) code: declared by the page or feed, else detected


@dataclass(frozen=True, slots=True)
class Placement:
    """dedup's decision for one article: the story it joins (or a new one), the stories it shows
    are the same one, the article it matched, how, and every score that decided it.
    flows.commit.place_article records it in the store (dedup.merges picks the cluster a merge
    keeps)."""

    matched_article_id: int | None
    tier: str  # "original", "near_duplicate", "related"
    score: float
    also_matched: tuple[int, ...] = ()
    # What the score measures: "shingles" (a copy), "words" (a rewrite of one article),
    # "teaser_words" (the same, against or from a short text), "headlines" (a headline close to
    # a story's headlines), "story_model" (the story model's probability: dedup.story_model),
    # "other_language" (an original: it retold a story in another language, flows.commit._place).
    basis: str = ""
    # What decided a story-model match: each feature by name (dedup.story_model.FEATURES).
    scores: tuple[tuple[str, float], ...] = ()
    story: int | None = None  # the cluster it joins; None: it starts a new one
    merges: tuple[int, ...] = ()  # other clusters it bridges, merged into `story`


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    """What the story index keeps of an article, as the store keeps it (dedup.stored_form says
    what each part is)."""

    article_id: int
    seen: float | None  # POSIX seconds: published, or fetched if that is earlier; None: undated
    arrived: float  # POSIX seconds: when it was stored
    kept: bytes  # fixed-size record: band keys, quantised embedding, shingles' low bits
    words: bytes  # uint16 content-word values, sorted
    terms: bytes  # uint32 title hashes, then salient-term hashes
    titles: int  # how many of `terms` are title hashes


@dataclass(frozen=True, slots=True)
class StoredWindow:
    """The stored fingerprints of a story window as columns (one list per field of
    StoredFingerprint, oldest first, with each article's cluster): what opening the story index
    reads, as whole lists rather than an object per article."""

    article_ids: list[int]
    cluster_ids: list[int | None]
    seen: list[float | None]
    arrived: list[float]
    kept: list[bytes]
    words: list[bytes]
    terms: list[bytes]
    titles: list[int]

    def __len__(self) -> int:
        return len(self.article_ids)


@dataclass(frozen=True)
class AlertSentence:
    """A new sentence a development alert carries, with the article and outlet that said it."""

    text: str
    article_id: int
    source: str


@dataclass(frozen=True, slots=True)
class AlertSubject:
    """What an alert is about, as the store holds it: the article that raised it, its story's
    headline and how many sources carry the story. alerts.messages makes the message of it."""

    title: str
    source: str
    url: str
    text: str
    headline: str | None  # None: the story's cluster is gone (the article's title stands in)
    sources_count: int
    cluster_id: int | None = None
    new_sentences: tuple[AlertSentence, ...] = ()  # a development's, as they arrived


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What a channel receives for one alert."""

    alert_id: int
    alert_key: str
    topic: str
    headline: str
    source: str
    url: str
    snippet: str
    sources_count: int
    entity_id: str | None = None  # a watchlist's alert: the entity (its list is the topic)
    entity_name: str | None = None
    kind: str = "new_story"  # new_story, development, digest, article or watchlist
    new_sentences: tuple[AlertSentence, ...] = ()  # a development's new sentences, with sources
    story_url: str | None = None  # the story's page on the review server
    summary: tuple[str, ...] = ()  # what most of the story's sources say (dedup.summary)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Counts a run reports to the user."""

    feeds_fetched: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    clusters: int = 0
    new_clusters: int = 0
    topic_matches: int = 0
    alerts_queued: int = 0
    alerts_sent: int = 0
    alerts_pending: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the store holds it, for listing and review."""

    id: int
    url: str
    title: str
    source: str
    published: str | None
    cluster_id: int | None
    tier: str | None
    text: str
    from_feed_only: bool = False
    text_source: str = "page"
    language: str | None = None
    # Sentences its story had not said when it joined (dedup.novelty); None when not known (the
    # first article of a story, all new, has an empty tuple and new_count its sentences).
    new_sentences: tuple[str, ...] | None = None
    new_count: int | None = None


@dataclass(frozen=True, slots=True)
class StoredCluster:
    id: int
    headline: str
    first_seen: str
    last_seen: str
    sources_count: int
    topics: tuple[str, ...]
    articles: tuple[StoredArticle, ...]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    key: str
    topic: str
    mode: str
    cluster_id: int | None
    article_id: int
    status: str
    created: str
    delivered: str | None
    attempts: int
    last_error: str | None
    next_attempt: str | None = None
    entity_id: str | None = None  # a watchlist's alert: the entity it is about (topic = the list)
    entity_name: str | None = None
    # new_story, development, digest, article (every_article) or watchlist
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one fetch of a feed came to, for the store: success (error None) or failure."""

    url: str
    status: int | None
    fetched: datetime
    next_fetch: datetime | None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    name: str
    etag: str | None
    last_modified: str | None
    last_status: int | None
    last_error: str | None
    consecutive_failures: int
    last_fetched: str | None
    next_fetch: str | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article matching a full-text query, with the matching words marked in a snippet."""

    article_id: int
    cluster_id: int | None
    headline: str | None
    title: str
    source: str
    url: str
    published: str | None
    snippet: str
    rank: float


@dataclass(frozen=True, slots=True)
class ClusterMember:
    """Why an article is in its cluster: its tier, the article it matched, and the score."""

    id: int
    title: str
    source: str
    published: str | None
    tier: str
    matched_article_id: int | None
    matched_title: str | None
    score: float | None
    basis: str | None = None  # see Placement.basis
    scores: tuple[tuple[str, float], ...] = ()  # see Placement.scores


@dataclass(frozen=True, slots=True)
class ClusterMerge:
    from_cluster: int
    into_cluster: int
    article_id: int | None
    merged_at: str


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One story cluster as the review page lists it, without article texts."""

    id: int
    headline: str
    first_seen: str
    last_seen: str
    sources_count: int
    articles_count: int
    topics: tuple[str, ...]
    read: bool
    muted: bool
    entities: tuple[str, ...] = ()  # the listed entities its articles name (watchlists)


@dataclass(frozen=True, slots=True)
class WatchEntity:
    """A listed person, company, vessel...: its list, its id there, its names."""

    list_name: str
    entity_id: str
    name: str
    kind: str = ""  # individual, vessel, company, ... as the list says
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()  # short or common aliases: found only beside a strong name


@dataclass(frozen=True, slots=True)
class EntityHit:
    """A listed entity named in an article: the words matched and the sentence they were in."""

    list_name: str
    entity_id: str
    name: str
    matched: str
    sentence: str


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run as the store records it: a scheduled or manual run, or an ingest."""

    id: int
    kind: str  # run, ingest
    started: str
    finished: str | None
    status: str  # running, completed, completed_with_errors, interrupted
    summary: dict[str, Any] | None  # the RunSummary's fields, once finished


@dataclass(frozen=True)
class StoryEvidence:
    """A story as the cross-language linker sees it (dedup.related): its members' language,
    when it was first reported, and the anchors its members tell (dedup.anchors)."""

    story: int
    language: str
    first_seen: datetime
    anchors: frozenset[str]


@dataclass(frozen=True)
class WindowStories:
    """The live stories first seen in a span of time, as the cross-language linker counts them:
    (first seen, language) once per story and language its members have, and the lowest id
    of their members."""

    languages: list[tuple[str, str]]
    first_member: int


@dataclass(frozen=True)
class RelatedStory:
    """A story in another language linked to this one, with the anchors both tell (rarest first)."""

    story: int
    language: str
    score: float
    shared: tuple[str, ...]
