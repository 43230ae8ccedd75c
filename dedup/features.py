"""Text features for similarity: word shingles for copies, content-word sets for rewrites."""

from __future__ import annotations

import re
from collections.abc import Callable
from zlib import crc32

import numpy as np

from wirewatch.dedup.runs import sorted_unique
from wirewatch.query import CJK_RUN, cjk_pairs, has_cjk

# \w+ over lower-cased text, as the extraction benchmark tokenises: stable across languages.
_WORD = re.compile(r"\w+", re.UNICODE)

# Function words carry no story identity; removing them is what lifts same-story rewrites
# (content-word Jaccard ~0.18-0.36 on the seeds) above different stories on one topic (~0.10).
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves said says say told tell new one two also would could
    last next week year years day days monday tuesday wednesday thursday friday saturday sunday
    mr mrs ms s t re ve ll d m
    """.split()
)


def _upper_ranges() -> str:
    """A regex character class body of the upper-case letters of the Latin, Greek and Cyrillic
    blocks: `re` has no \\p{Lu}, and finding capitalised words by it skips the lower-case ones
    in C instead of testing every word in Python."""
    codes = [cp for cp in range(0x530) if chr(cp).isupper()]
    spans: list[tuple[int, int]] = []
    for cp in codes:
        if spans and cp == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


UPPER = _upper_ranges()
# A capitalised word (not the inside of "eBay"), or a sentence end. Written to open with one
# character class, the lookbehind checked after it, so that `re` skips to candidates in C.
CAPITALISED_OR_END = re.compile(rf"[{UPPER}.!?。！？\n](?<![\w'’][{UPPER}])(?:(?<=[{UPPER}])[\w'’]*)?")
LETTER = re.compile(r"[^\W\d_]")

# Word 3-shingles: a verbatim copy keeps nearly all of them, a rewrite keeps few (0.03-0.15 on seeds).
SHINGLE_WORDS = 3


# Scripts written without spaces between words (Han, Kana) and Hangul, whose words carry their
# particles ("북한이", "북한을"): their runs are read as overlapping character pairs, as CJK search
# engines do, so a copy or a light edit shares most "words" however the run is segmented.
# The runs are wirewatch.query's, which search reads the same way.


def words_of(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if not has_cjk(text):
        return words  # most news: no CJK at all
    out: list[str] = []
    for word in words:
        out.extend(_cjk_pairs(word) if has_cjk(word) else (word,))
    return out


def words_of_text_without_cjk(text: str) -> list[str]:
    """words_of(text) for a text known to hold no CJK."""
    return _WORD.findall(text.lower())


def _cjk_pairs(word: str) -> list[str]:
    """A word's CJK runs as overlapping character pairs (a lone character as itself), the rest as is."""
    out: list[str] = []
    at = 0
    for run in CJK_RUN.finditer(word):
        if run.start() > at:
            out.append(word[at : run.start()])
        out.extend(cjk_pairs(run.group()))
        at = run.end()
    if at < len(word):
        out.append(word[at:])
    return out


def content_words(text: str) -> set[str]:
    return content_words_of(words_of(text))


def content_words_of(words: list[str]) -> set[str]:
    found = set(words) - _NOT_CONTENT  # not -=, which would walk all of _NOT_CONTENT
    return _longer_than_one(found) if found and min(map(len, found)) < 2 else found


def content_frozenset(words: list[str]) -> frozenset[str]:
    """frozenset(content_words_of(words)), built once."""
    found = frozenset(words) - _NOT_CONTENT
    return frozenset(_longer_than_one(found)) if found and min(map(len, found)) < 2 else found


def _longer_than_one(words: set[str] | frozenset[str]) -> set[str]:
    return {w for w in words if len(w) > 1}


# The stop words and the one-character words of the Latin, Greek and Cyrillic blocks (a digit, an
# initial), taken out by one set difference in C; a one-character word of another script is
# rarer, and taken out after (content words have two characters or more).
_NOT_CONTENT = STOP_WORDS | {c for c in map(chr, range(0x530)) if c.isalnum() or c == "_"}


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    words = words_of(text)
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


# Odd 64-bit multiplier (golden ratio) for combining word hashes into shingle hashes.
_SHINGLE_MIX = np.uint64(0x9E3779B97F4A7C15)


def shingle_hashes(words: list[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """32-bit hashes of the word `size`-shingles: each word is hashed once and numpy combines them,
    ~5x faster than hashing every shingle's string (the copy tier's cost per article)."""
    if not words:
        return np.zeros(0, dtype=np.uint32)
    hashed = np.fromiter(map(crc32, map(str.encode, words)), dtype=np.uint64, count=len(words))
    count = max(1, len(words) - size + 1)
    combined = hashed[:count].copy()
    for k in range(1, min(size, len(words))):
        combined = combined * _SHINGLE_MIX + hashed[k : k + count]  # wraps modulo 2**64
    return ((combined ^ (combined >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


# One scan finds both tokens and sentence ends (., ! or ? before a space, or a line break).
_SALIENT_SCAN = re.compile(r"[\w'’-]+|[.!?](?=\s)|\n")
_DIGIT = re.compile(r"\d")


def _bmp_class(test: Callable[[str], bool]) -> str:
    """A regex character class body of the Basic Multilingual Plane's characters passing `test`:
    written out, `re` checks a character against a bitmap, twice as fast as its \\d or a category."""
    spans: list[tuple[int, int]] = []
    for cp in range(0x10000):
        if test(chr(cp)):
            if spans and cp == spans[-1][1] + 1:
                spans[-1] = (spans[-1][0], cp)
            else:
                spans.append((cp, cp))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


# What salient_terms keeps, found by `re` without a Python step per token (its first form, which
# took every token and sentence end in turn, is _salient_terms_stepwise). Tokens are runs of
# [\w'’-]; a token opens a sentence when it comes first or after a sentence end. _CAPITALISED
# finds tokens starting with a capital (str.isupper) not opening a sentence, and a sentence end
# with the token opening the next sentence, which is what its end-led matches hold (dropped).
_BMP_UPPER = _bmp_class(lambda c: c.isupper() and c.isalnum())
_CAPITALISED = re.compile(
    rf"[.!?\n{_BMP_UPPER}](?:(?<=[.!?])\s[^\w'’-]*[\w'’-]+|(?<=\n)[^\w'’-]*[\w'’-]+"
    r"|(?<![.!?\n])(?<![\w'’-].)[\w'’-]*)"
)
# A token's first digit (\d: str.isdecimal) and the rest of the token.
BMP_DIGIT = _bmp_class(str.isdecimal)
_DIGIT_ON = re.compile(rf"[{BMP_DIGIT}][\w'’-]*")
_TOKEN_CHAR = re.compile(r"[\w'’-]")
_TOKEN_CHARS = re.compile(r"[\w'’-]*")
# The classes above are the BMP's: a text with characters beyond it is read step by step.
BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_ENDS = frozenset(".!?\n")


def salient_terms(text: str) -> set[str]:
    """Names and numbers: capitalised words not opening a sentence, and tokens with digits.

    They identify an event far better than topic words: on the seeds, same-story pairs share
    0.34-0.57 of them (Jaccard) against 0.21-0.25 for another story on the same topic, which is
    what lets MinHash LSH find same-story candidates without comparing against every article.
    """
    if not text.isascii() and BEYOND_BMP.search(text):
        return _salient_terms_stepwise(text)
    # "\n" first: the text's first token opens a sentence.
    terms = {token.lower() for token in _CAPITALISED.findall("\n" + text) if token[0] not in _ENDS}
    terms -= STOP_WORDS
    backwards = ""
    for match in _DIGIT_ON.finditer(text):
        start = match.start()
        if start and _TOKEN_CHAR.match(text, start - 1):  # the token began before its first digit
            backwards = backwards or text[::-1]
            run = _TOKEN_CHARS.match(backwards, len(text) - start)
            assert run is not None  # a * pattern always matches
            start = len(text) - run.end()
        terms.add(text[start : match.end()].lower())
    return terms


def _salient_terms_stepwise(text: str) -> set[str]:
    """salient_terms token by token."""
    terms: set[str] = set()
    opening = True  # the next token opens a sentence: its capital says nothing
    for token in _SALIENT_SCAN.findall(text):
        first = token[0]
        if first in ".!?\n":
            opening = True
            continue
        if not token.isalpha() and _DIGIT.search(token):
            terms.add(token.lower())
        elif not opening and first.isupper() and (lower := token.lower()) not in STOP_WORDS:
            terms.add(lower)
        opening = False
    return terms


def term_hashes(terms: set[str] | frozenset[str]) -> np.ndarray:
    """Stable 32-bit hashes of terms, sorted: compact sets that numpy intersects quickly.

    CRC-32 is stable across processes and machines (Python's hash() is not); two articles'
    ~150 words collide by chance with probability ~1e-5, which moves a Jaccard by ~0.003.
    """
    # map() rather than a generator: the same hashes without a Python frame per term.
    return sorted_unique(np.fromiter(map(crc32, map(str.encode, terms)), dtype=np.uint32, count=len(terms)))


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def overlap_coefficient(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
