"""Reading's shortcuts give what the plain functions give: the words the sentences read are the
fingerprint's, and the patterns rewritten for speed find what their plain forms find."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from wirewatch.dedup import anchors, features, sentences
from wirewatch.dedup.fingerprint import fingerprint_many
from wirewatch.dedup.reading import read_many

TEXTS = [
    "UNITED NATIONS, March 10 (Global Wire) - The U.S. on Monday circulated a draft. Mr. Smith said "
    "\"it's done.\" 'Next?' Yes!\n\nThe cap falls from 500,000 barrels to 250,000 barrels.",
    "ΑΘΗΝΑ. Ο ΚΥΡΙΑΚΟΣ ΜΗΤΣΟΤΑΚΗΣ είπε: «ΝΑΙ». ΟΔΟΣ. ΣΑΣ'Β ΤΕΛΟΣ.\nΣ",
    "北朝鮮は18日、ミサイル1発を発射した。政府は厳重に抗議した！本当か？はい。Kim Jong Un said so.",
    '북한이 18일 오전 동해상으로 미사일 1발을 발사했다. 합참은 "경계를 강화했다"고 말했다.',
    "İzmir İİİ. Die Stadt hat １２３ Einwohner am 28. Juni ２０２４. ﬁnal Ⅻ ½ ＡＢＣ Corp.",
    "Москва, 12 марта. Лавровым и Сергеем Небензя встретились. 2,5 млн рублей.\u2028Ещё.",
    "",
    "   \n\n  ",
    "A. B. C. D.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_sentences_read_the_words_of_the_text(text: str) -> None:
    found, words = sentences.sentences_and_words(text)
    assert words == features.words_of(text)
    assert found == sentences.sentences_of(text)


def test_read_many_fingerprints_as_fingerprint_many() -> None:
    items = [(title[:40], text, "de") for title in TEXTS for text in TEXTS[:4]]
    read = read_many(items)
    plain = fingerprint_many([(title, text) for title, text, _ in items])
    for reading, fp in zip(read, plain, strict=True):
        got = reading.fingerprint
        assert (got.shingle_hash.hashvalues == fp.shingle_hash.hashvalues).all()
        for field in ("salient_hashes", "word_hashes", "title_hashes", "embedding"):
            assert getattr(got, field).tobytes() == getattr(fp, field).tobytes()
        assert got.words == fp.words


# The plain forms of the patterns rewritten to open with one character class.
_PLAIN = {
    "anchors number": (
        r"(?<![\w.,])\d{1,3}(?:([.,\u00a0\u202f ])\d{3}(?!\d))(?:\1\d{3}(?!\d))*(?:[.,]\d+)?|\d+(?:[.,]\d+)?",
        anchors._NUMBER,
    ),
    "iso date": (r"\b(\d{4})-(\d{2})-(\d{2})\b", anchors._ISO_DATE),
    "day": (r"(?<![\d.,])\d{1,2}(?!\d|[.,]\d)", anchors._DAY),
    "katakana": (r"[\u30a0-\u30ff]{3,}", anchors._KATAKANA),
    "capitalised": (rf"(?<![\w'’])[{features.UPPER}][\w'’]*|[.!?。！？\n]", features.CAPITALISED_OR_END),
    "sentence number": (r"\d+(?:[.,\u00a0\u202f]\d+)*", sentences._NUMBER),
    "sentence end": (sentences._SENTENCE_END.pattern, sentences._LATIN_SENTENCE_END),
}
_PIECES = list("0123456789١٢０.,-  \u00a0\u202f\n\t\u2028aZé_'’年月ーアイ・ABCÉ\"“”‘«)(.!?xİ") + [
    "2024-06-28",
    "1,000",
    "1.718,5",
    "Mr. Smith",
    '. "A',
    ".\n\nB",
    ".) Y",
    "’s",
]


@pytest.mark.parametrize("name", sorted(_PLAIN))
def test_rewritten_patterns_match_as_their_plain_forms(name: str) -> None:
    plain, fast = re.compile(_PLAIN[name][0]), _PLAIN[name][1]
    pieces = [p for p in _PIECES if name != "sentence end" or p not in "。！？"]
    rng = random.Random(name)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
            (m.span(), m.groups()) for m in plain.finditer(text)
        ], text
        assert fast.split(text) == plain.split(text), text


def test_gazetteer_finds_what_a_plain_automaton_finds() -> None:
    import ahocorasick

    automaton, ids = anchors._gazetteer()
    plain = ahocorasick.Automaton()
    for index, (name, _) in enumerate(ids):
        plain.add_word(name, index)
    plain.make_automaton()
    names = [name for name, _ in ids]
    pieces = sorted(set("".join(names))) + list(anchors._NOT_FIRST) + ["x", "İ"]
    rng = random.Random(5)
    for _ in range(20_000):
        parts = [rng.choice(names) if rng.random() < 0.5 else rng.choice(pieces) for _ in range(8)]
        text = "".join(p[: rng.randint(1, len(p))] if rng.random() < 0.4 else p for p in parts)
        assert [m for m in automaton.iter_long(text) if m[1] >= 0] == list(plain.iter_long(text)), text


def test_unpadded_tokenizer_gives_the_models_ids() -> None:
    from wirewatch.dedup import embedding

    tokenizer = embedding.model().tokenizer
    texts = [t for t in TEXTS if t] + ["x", "  a  b   ", "A much longer lead. " * 30, "é\u00a0日本 Ωmega!"]
    padded = tokenizer.encode_batch(texts, is_pretokenized=False, add_special_tokens=False)
    fast = embedding._unpadded(tokenizer).encode_batch_fast(texts, add_special_tokens=False)
    assert [e.ids[: sum(e.attention_mask)] for e in padded] == [e.ids for e in fast]
    assert embedding._unpadded(tokenizer) is embedding._unpadded(tokenizer)


# Pieces random texts are made of: digits of several scripts, spaces and separators, letters whose
# case is unusual (title case, Turkish İ, final sigma), quotes, sentence ends and words around them.
_PIECES = list("0123456789١٢０.,-  \u00a0\n\t\u2028aZé_'’ÉΣⅫⒶǅ\"“”«)(.!?xİ") + [
    "Mr. Smith",
    ". A",
    ".\n\nB",
    "the",
    "The",
    "U.S.",
    "A380",
    "𝟎",
]


def _same_on_texts(fast: Callable[[str], object], plain: Callable[[str], object], pieces: list[str]) -> None:
    """`fast` gives what `plain` gives on the real texts and on 50,000 random ones of `pieces`."""
    for text in TEXTS:
        assert fast(text) == plain(text)
    rng = random.Random(3)
    for _ in range(50_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert fast(text) == plain(text), text


def test_salient_terms_as_token_by_token() -> None:
    # 𐐀: beyond the BMP, read step by step
    _same_on_texts(
        features.salient_terms, features._salient_terms_stepwise, [*_PIECES, "\x1c", "mid-20", "𐐀"]
    )


def test_bmp_classes_are_the_plain_ones() -> None:
    upper = re.compile(f"[{features._BMP_UPPER}]")
    digit = features._DIGIT_ON
    for cp in range(0x10000):
        c = chr(cp)
        assert (upper.match(c) is not None) == (c.isupper() and re.match(r"\w", c) is not None), hex(cp)
        assert (digit.match(c) is not None) == (re.match(r"\d", c) is not None), hex(cp)


# Beyond them: CJK sentence ends and characters, possessives, and a Brahmi digit (beyond the BMP,
# kept by NFKC).
_TERM_PIECES = [*_PIECES, *"。！？月アႠ", "3D", "’s", "'s", "\U00011066"]


def test_terms_as_word_by_word() -> None:
    _same_on_texts(sentences.terms_of, sentences._terms_of_stepwise, _TERM_PIECES)


def test_nfkc_takes_no_bmp_text_to_digits_beyond_it() -> None:
    import unicodedata

    for cp in range(0x10000):
        normal = unicodedata.normalize("NFKC", chr(cp))
        assert not any(ord(c) > 0xFFFF and c.isdecimal() for c in normal), hex(cp)


def test_content_words_as_plainly() -> None:
    rng = random.Random(5)
    pieces = ["a", "the", "x", "1", "12", "é", "日", "日本", "ж", "ـ", "word", "Σ", "ς", "_", "ab", "ى"]
    for _ in range(20_000):
        words = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        plain = {w for w in set(words) - features.STOP_WORDS if len(w) > 1}
        assert features.content_words_of(words) == plain
        assert features.content_frozenset(words) == frozenset(plain)
        assert type(features.content_frozenset(words)) is frozenset


def test_sentences_as_the_dataclass_makes_them() -> None:
    for text in [*TEXTS, "Ein Satz mit \U00011066\U00011067 Zahlen wie Berlin. Noch einer hier dazu."]:
        for made in sentences.sentences_of(text):
            plain = sentences.Sentence(made.text, made.words, made.terms, made.quote)
            assert made == plain and hash(made) == hash(plain) and made.__dict__ == plain.__dict__
            assert made.terms == sentences._terms_of_stepwise(made.text)
