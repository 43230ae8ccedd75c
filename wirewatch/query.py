"""The query syntax topics and `wirewatch search` share: SQLite FTS5's, checked without a store."""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any


def check_fts_query(query: str) -> str | None:
    """Return FTS5's reason a query is invalid, or None when it parses."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(title, text, tokenize='porter')")
        conn.execute("SELECT rowid FROM probe WHERE probe MATCH ?", (query,)).fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None


# --- CJK: Han, Kana and Hangul runs searched as overlapping character pairs ----------------------
# FTS5's unicode61 tokenizer takes a whole run of CJK characters as one token, so 制裁 inside
# 北朝鮮への制裁 is never found. Articles with CJK text get a second index of their text with each
# run written as its character pairs; a query's runs become phrases of pairs (北朝鮮 -> "北朝 朝鮮").
# One definition for search and for story grouping (dedup.features): Hangul jamo included.
CJK_RUN = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def has_cjk(text: str) -> bool:
    return CJK_RUN.search(text) is not None


def cjk_pairs(run: str) -> list[str]:
    """A CJK run as its overlapping character pairs (a lone character as itself)."""
    return [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]


def _pairs(run: str) -> str:
    return " ".join(cjk_pairs(run))


def cjk_index_text(text: str) -> str:
    """The text as the CJK index holds it: each CJK run as its character pairs."""
    return CJK_RUN.sub(lambda m: f" {_pairs(m.group())} ", text)


def cjk_query(query: str) -> str:
    """The query for the CJK index: each CJK run a phrase of its pairs (inside a phrase, the
    pairs continue it); the rest of the FTS5 syntax as written."""
    out: list[str] = []
    in_phrase = False
    at = 0
    for match in CJK_RUN.finditer(query):
        before = query[at : match.start()]
        in_phrase ^= before.count('"') % 2 == 1
        out.append(before)
        pairs = _pairs(match.group())
        out.append(f" {pairs} " if in_phrase else f'"{pairs}"')
        at = match.end()
    out.append(query[at:])
    return "".join(out)


# --- Inflected languages: words searched by their Snowball stems ------------------------------------
# The main index stems with Porter, for English. Articles in these languages are also indexed with
# their own language's Snowball stemmer, and a query's words are looked up by their stems in each
# of them: "Sanktion" finds "Sanktionen", "санкции" finds "санкций".
SNOWBALL = {
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "nb": "norwegian",
    "fi": "finnish",
    "ru": "russian",
    "pl": "polish",
    "cs": "czech",
    "ro": "romanian",
    "hu": "hungarian",
    "tr": "turkish",
    "el": "greek",
    "ca": "catalan",
}
_WORD = re.compile(r"\w+")
_QUERY_TOKEN = re.compile(r'"(?:[^"]|"")*"|\w+:|\w+\*?|\S')
_OPERATORS = {"AND", "OR", "NOT"}


@lru_cache(maxsize=32)
def _stemmer(language: str) -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers in C

    return Stemmer.Stemmer(SNOWBALL[language])


def stemmed_text(text: str, language: str) -> str:
    """The text's words, lower-cased and stemmed for the index of `language`."""
    return " ".join(_stemmer(language).stemWords(_WORD.findall(text.lower())))


def stemmed_query(query: str, language: str) -> str | None:
    """The query for the stemmed index of `language`'s articles: each word and each phrase's
    words by their stems in that language; None for a query it does not rewrite (NEAR)."""
    stem = _stemmer(language)
    out: list[str] = []
    for token in _QUERY_TOKEN.findall(query):
        if token == "NEAR":
            return None
        if token in _OPERATORS or token in "()" or token.endswith(":"):
            out.append(token)
        elif token.endswith("*"):
            out.append(token.lower())
        elif token.startswith('"'):
            out.append('"' + " ".join(stem.stemWords(_WORD.findall(token.lower()))) + '"')
        elif _WORD.fullmatch(token):
            out.append(stem.stemWord(token.lower()))
        else:
            out.append(token)
    return " ".join(out)
