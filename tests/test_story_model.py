"""Story clustering by meaning: the bundled embedding model, offline, and the story model's
decisions as `clusters --explain` shows them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from wirewatch.dedup import StoryIndex, fingerprint_text
from wirewatch.dedup.article_table import quantized
from wirewatch.dedup.embedding import DIMENSIONS, embed
from wirewatch.dedup.explain import member_reason
from wirewatch.dedup.index import new_entry
from wirewatch.dedup.stored_form import KEPT
from wirewatch.dedup.story_model import FEATURES
from wirewatch.records import ClusterMember


def test_the_bundled_model_sees_meaning_not_words() -> None:
    apple, maker, veto, empty = embed(
        [
            "Apple unveils new iPhone",
            "iPhone maker shows off its new phone",
            "Russia vetoes UN sanctions panel",
            "",
        ]
    )
    assert apple.shape == (DIMENSIONS,) and abs(float(np.linalg.norm(apple)) - 1) < 1e-4
    assert float(apple @ maker) > 0.5 > float(apple @ veto)
    assert not empty.any()  # an empty text has no meaning, not NaN
    # Kept quantised (int8 steps of its largest component / 127): the cosine survives to 1e-3.
    codes, scales = quantized(apple)
    kept = codes[0].astype(np.float32) * np.float32(scales[0])
    assert abs(float(kept @ maker) - float(apple @ maker)) < 1e-3


def test_fingerprints_made_together_equal_those_made_one_by_one() -> None:
    """commit_articles fingerprints a batch in one call of the model: nothing may change."""
    from wirewatch.dedup.fingerprint import fingerprint_many

    items = [
        ("Apple unveils new iPhone", ""),
        ("Russia vetoes UN panel", "Moscow blocked the renewal. " * 30),
        ("", ""),
    ]
    for one, together in zip([fingerprint_text(*i) for i in items], fingerprint_many(items), strict=True):
        assert np.array_equal(one.embedding, together.embedding)
        assert one.words == together.words and np.array_equal(one.word_hashes, together.word_hashes)
        assert np.array_equal(one.shingle_hash.hashvalues, together.shingle_hash.hashvalues)


def _place(index: StoryIndex, article_id: int, title: str, at: float) -> int | None:
    """Place a headline as commit_articles does; returns the article it matched."""
    fp = fingerprint_text(title, "")
    lsh_hash = index.lsh_hash(fp)
    placement = index.place(fp, index.candidates(fp, lsh_hash, at, at))
    matched = placement.matched_article_id
    story = index.cluster_of(matched) if matched is not None else article_id
    index.add(new_entry(article_id, story, fp, at, at, lsh_hash))
    return matched


def test_a_headline_joins_its_story_by_meaning_and_a_stranger_stays_apart() -> None:
    index = StoryIndex()
    story = [
        "Apple unveils larger iPhone 6 at Cupertino event",
        "Apple shows off iPhone 6 and iPhone 6 Plus",
        "Apple's new iPhone 6 comes with bigger screen",
    ]
    for n, title in enumerate(story):
        _place(index, n, title, 1000.0 + n)
    assert index.cluster_of(1) == index.cluster_of(2) == 0
    assert _place(index, 10, "iPhone maker Apple reveals bigger iPhone 6 Plus", 1100.0) is not None
    assert index.cluster_of(10) == 0
    # Same vocabulary of product launches, another event: a story of its own.
    assert _place(index, 11, "Samsung unveils Galaxy S5 with fingerprint scanner", 1200.0) is None
    assert _place(index, 12, "Mozambique election results delayed", 1300.0) is None


def test_a_headline_that_fits_two_stories_of_one_event_merges_them() -> None:
    """A story's first headlines may share no two words and start two stories; a later headline
    the model rates highly against both, sharing two title words with each, joins them into one."""
    index = StoryIndex()
    first = [
        "Malaysia Airlines jet missing over South China Sea",
        "Malaysia Airlines flight vanishes with 239 aboard",
    ]
    second = ["Search for missing Boeing 777 widens to Andaman Sea", "Boeing 777 search teams find no debris"]
    for n, title in enumerate(first):
        index.add(new_entry(n, 0, fingerprint_text(title, ""), 1000.0 + n, 1000.0 + n))
    for n, title in enumerate(second, start=10):
        index.add(new_entry(n, 10, fingerprint_text(title, ""), 1000.0 + n, 1000.0 + n))
    fp = fingerprint_text("Malaysia Airlines Boeing 777 search widens", "")
    placement = index.place(fp, index.candidates(fp, index.lsh_hash(fp), 1100.0, 1100.0))
    assert (placement.story, placement.merges) == (0, (10,))
    assert placement.basis == "story_model"
    # A headline sharing words with one of them only joins it and merges nothing.
    fp = fingerprint_text("Malaysia Airlines shares fall after jet goes missing", "")
    placement = index.place(fp, index.candidates(fp, index.lsh_hash(fp), 1100.0, 1100.0))
    assert (placement.story, placement.merges) == (0, ())


def test_explain_names_the_model_and_every_score_that_decided() -> None:
    scores = tuple((name, 0.5) for name in FEATURES)
    member = ClusterMember(7, "t", "s", None, "related", 3, "m", 0.83, "story_model", scores)
    reason = member_reason(member)
    assert reason.startswith("same story as #3 and its story: model probability 0.83 >= ")
    for name in FEATURES:
        assert f"{name.replace('_', ' ')} 0.50" in reason


_GUARD = """
import socket

_LOG = {log!r}
_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo

def _outside(host):
    host = str(host)
    return not (host.startswith("127.") or host in ("localhost", "::1", "0.0.0.0", ""))

def connect(self, address):
    if isinstance(address, tuple) and _outside(address[0]):
        with open(_LOG, "a") as log:
            log.write(f"connect {{address!r}}\\n")
        raise OSError("outside connection refused by the test")
    return _real_connect(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host is not None and _outside(host):
        with open(_LOG, "a") as log:
            log.write(f"lookup {{host!r}}\\n")
        raise socket.gaierror("outside lookup refused by the test")
    return _real_getaddrinfo(host, *args, **kwargs)

socket.socket.connect = connect
socket.getaddrinfo = getaddrinfo
"""


def test_a_run_makes_no_outside_request(tmp_path: Path) -> None:
    """The demo run, model included, with every non-loopback connection and lookup refused and logged."""
    log = tmp_path / "outside.log"
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(textwrap.dedent(_GUARD.format(log=str(log))), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(guard), os.environ.get("PYTHONPATH", "")]),
        "WIREWATCH_CONFIG": "",
        "HOME": str(tmp_path),  # no model cache of a user's to fall back on
    }
    env.pop("PREFECT_API_URL", None)
    db = tmp_path / "offline.db"
    done = subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", "run", "--db", str(db), "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not log.exists(), log.read_text()
    assert json.loads(done.stdout)["new_articles"] == 21
    with sqlite3.connect(db) as conn:
        kept = np.frombuffer(b"".join(row[0] for row in conn.execute("SELECT kept FROM fingerprints")), KEPT)
    # Each article's embedding, stored quantised: its largest component is the step's 127.
    assert len(kept) == 21 and (np.abs(kept["codes"].astype(np.int16)).max(axis=1) == 127).all()


def test_our_pooling_gives_the_models_own_vectors_bit_for_bit() -> None:
    """Stored embeddings made before and after must compare: mean_token_vectors equals the model's
    own embed(norm=True) to the last bit, for texts of every length in one batch and past its
    batches of 64."""
    from wirewatch.dedup.embedding import mean_token_vectors, model

    rng = np.random.default_rng(11)
    words = [
        "sanctions",
        "Pyongyang",
        "tanker",
        "vote",
        "12",
        "Security",
        "Council",
        "日本",
        "Ωmega",
        "é",
        "!",
    ]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 90))) for _ in range(150)]
    texts += ["x", "A much longer lead. " * 30]
    theirs = model().embed(texts, norm=True)
    ours = mean_token_vectors(model(), texts)
    assert ours.dtype == np.float32
    assert np.array_equal(ours.view(np.uint32), np.asarray(theirs, dtype=np.float32).view(np.uint32))
