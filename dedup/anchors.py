"""What a report says that does not depend on its language: numbers, dates, places and names.

Two reports of one event in different languages share almost no words, but they give the same
vote count, the same date, the same city and the same people (each in its own script). These are
the anchors that link stories across languages (dedup.related). Each is a string with its kind:

- ``n:2500000000`` a number, its grouping and decimal marks read by the article's language and
  its scale word applied ("2,5 Mrd." and "25億" and "2.5 billion" meet);
- ``d:06-28`` a day of the year, in any language's date format (no year: reports often omit it);
- ``p:KP`` a country or ``p:Asia/Pyongyang`` a city, by CLDR's names in each language (babel);
- ``m:NBNS`` a name, transliterated to Latin and reduced to a consonant skeleton, so Nebenzia,
  Nebensja, Небензя and ネベンジャ meet.

Han-script names (涅边贾) and Hangul names cannot be told from words or transliterated back; for
Chinese and Korean reports the numbers, dates and places carry the link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from text_unidecode import unidecode

from wirewatch.dedup.features import CAPITALISED_OR_END, LETTER, STOP_WORDS
from wirewatch.query import has_cjk

# Languages whose CLDR names (countries, cities, months) are read in every article. The reader
# does not need to know the article's language for these: the names of all of them are looked up.
NAME_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "ja", "zh", "zh_Hant", "ko")
# Languages that write 1.718,5 (point groups, comma decimals); the rest write 1,718.5.
_COMMA_DECIMAL = frozenset("de fr es it pt nl pl ru uk sv da no nb fi cs ro hu tr el ca id".split())

# Every pattern scanned over a whole text opens with one character class (here \d, the lookbehind
# checked after it): `re` then skips to candidate characters in C instead of trying each position,
# which is most of a pass's cost on a page (same matches: the lookbehind sees the same character).
_NUMBER = re.compile(
    r"\d(?:(?<![\w.,]\d)\d{0,2}(?:([.,\u00a0\u202f ])\d{3}(?!\d))(?:\1\d{3}(?!\d))*(?:[.,]\d+)?"
    r"|\d*(?:[.,]\d+)?)"
)
# Scale words after a number, in the languages news is written in (lower-case, as written).
_SCALES = {
    "万": 1e4, "萬": 1e4, "만": 1e4, "億": 1e8, "亿": 1e8, "억": 1e8, "兆": 1e12, "조": 1e12,
    "thousand": 1e3, "tausend": 1e3, "тыс": 1e3, "тысяч": 1e3,
    "million": 1e6, "millions": 1e6, "mio": 1e6, "millionen": 1e6, "млн": 1e6, "миллион": 1e6,
    "миллиона": 1e6, "миллионов": 1e6, "millones": 1e6, "millón": 1e6, "milioni": 1e6,
    "billion": 1e9, "billions": 1e9, "mrd": 1e9, "milliarde": 1e9, "milliarden": 1e9, "milliard": 1e9,
    "milliards": 1e9, "млрд": 1e9, "миллиард": 1e9, "миллиарда": 1e9, "миллиардов": 1e9,
    "trillion": 1e12, "billionen": 1e12, "трлн": 1e12, "триллион": 1e12,
}  # fmt: skip
# A scale word right after its number: a CJK unit as it stands, a word only as a whole word.
_SCALE_AFTER = re.compile(
    r" ?(?:([万萬만億亿억兆조])|(" + "|".join(sorted((w for w in _SCALES if w.isalpha() and len(w) > 1),
    key=len, reverse=True)) + r")(?!\w))"
)  # fmt: skip
_CJK_DATE = re.compile(r"(?:(\d{4})\s*[年년]\s*)?(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_ISO_DATE = re.compile(r"(\d(?<!\w\d)\d{3})-(\d{2})-(\d{2})\b")
_KATAKANA = re.compile(r"[\u30a0-\u30ff][\u30a0-\u30ff]{2,}")


def _lower(text: str) -> str:
    """The text in lower case, character for character (positions must match the text's: a few
    letters, such as the Turkish İ, lower-case to two characters and are left as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def anchors_of(text: str, language: str | None = None) -> frozenset[str]:
    """The anchors of a report's title and text (see the module's doc)."""
    text = unicodedata.normalize("NFKC", text)
    found: set[str] = set()
    text = _dates(text, found)
    text = _places(text, found)
    _numbers(text, language, found)
    _names(text, found, language)
    return frozenset(found)


# --- dates -----------------------------------------------------------------------------------------


def _dates(text: str, found: set[str]) -> str:
    """Record the dates and blank them out, so their day is not read again as a number."""

    def day(month: int, dom: int) -> bool:
        if 1 <= month <= 12 and 1 <= dom <= 31:
            found.add(f"d:{month:02d}-{dom:02d}")
            return True
        return False

    def cjk(m: re.Match[str]) -> str:
        return " " if day(int(m[2]), int(m[3])) else m[0]

    def iso(m: re.Match[str]) -> str:
        return " " if day(int(m[2]), int(m[3])) else m[0]

    if "月" in text or "월" in text:  # a scan of the whole text for a few pages in CJK
        text = _CJK_DATE.sub(cjk, text)
    text = _ISO_DATE.sub(iso, text)
    return _worded_dates(text, day)


# A day beside a month's name: "28 June", "28. Juni", "28 de junio", "June 28", "Jan. 5". Each day
# number's neighbouring words are looked up among the month names (a dict, not a regex of 300).
_DAY = re.compile(r"\d(?<![\d.,]\d)\d?(?!\d|[.,]\d)")
_WORD_AFTER = re.compile(r"\.?\s+(?:de\s+)?([^\W\d_]+\.?)")
_WORD_BEFORE = re.compile(r"([^\W\d_]+\.?)\s+$")


def _worded_dates(text: str, day: Callable[[int, int], bool]) -> str:
    months = _months()
    spans: list[tuple[int, int]] = []
    for match in _DAY.finditer(text):
        number = int(match[0])
        after = _WORD_AFTER.match(text, match.end())
        if after and (month := _month_of(after[1], months)) and day(month, number):
            spans.append((match.start(), after.end()))
            continue
        before = _WORD_BEFORE.search(text, max(0, match.start() - 24), match.start())
        if before and (month := _month_of(before[1], months)) and day(month, number):
            spans.append((before.start(), match.end()))
    return _blank(text, spans)


def _month_of(word: str, months: dict[str, int]) -> int:
    word = word.lower()
    return months.get(word) or months.get(word.rstrip(".")) or 0


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with these spans (in order) replaced by a space each."""
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [text[at:start], " "]
        at = end
    out.append(text[at:])
    return "".join(out)


_ABBREVIATED = {"jan.": 1, "feb.": 2, "mar.": 3, "apr.": 4, "jun.": 6, "jul.": 7, "aug.": 8, "sep.": 9,
                "sept.": 9, "oct.": 10, "nov.": 11, "dec.": 12}  # fmt: skip


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    """The month of each month name (lower-case) in every language of NAME_LANGUAGES that writes
    months as words, and of the English abbreviations (with their point)."""
    from babel import Locale

    number: dict[str, int] = {}
    for code in NAME_LANGUAGES:
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for month, name in months[context]["wide"].items():
                if not any(c.isdigit() for c in name):  # CJK locales write 6月: matched above
                    number[name.lower()] = month
    for name, month in _ABBREVIATED.items():
        number.setdefault(name, month)
    return number


# --- numbers ---------------------------------------------------------------------------------------


def _numbers(text: str, language: str | None, found: set[str]) -> None:
    comma_decimal = (language or "").split("-")[0] in _COMMA_DECIMAL
    decimal, group = (",", ".") if comma_decimal else (".", ",")
    lowered = _lower(text)
    for match in _NUMBER.finditer(text):
        written = re.sub(r"[\u00a0\u202f ]", "", match[0]).replace(group, "").replace(decimal, ".")
        try:
            value = float(written)
        except ValueError:
            continue
        if scale := _SCALE_AFTER.match(lowered, match.end()):
            value *= _SCALES[scale[1] or scale[2]]
        if value < 10 and value == int(value):
            continue  # 1 to 9: counts of anything in any story
        found.add(f"n:{_canonical(value)}")


def _canonical(value: float) -> str:
    return str(int(value)) if value == int(value) and value < 1e18 else f"{value:.6g}"


# --- places ----------------------------------------------------------------------------------------


def _places(text: str, found: set[str]) -> str:
    """Record countries and cities named in any language; blank them so they are not names too."""
    automaton, ids = _gazetteer()
    lowered = _lower(text)
    spans: list[tuple[int, int]] = []
    for end, index in automaton.iter_long(lowered):
        if index < 0:
            continue  # the never-matching words of _gazetteer (no text lowered holds an A)
        name, place = ids[index]
        start = end - len(name) + 1
        if not has_cjk(name[0]):
            # Alphabetic names: capitalised whole words, with an inflection of at most three letters
            if start > 0 and lowered[start - 1].isalnum() or not text[start].isupper():
                continue
            tail = end + 1
            while tail < len(lowered) and tail - end <= 3 and lowered[tail].isalpha():
                tail += 1
            if tail < len(lowered) and lowered[tail].isalpha():
                continue
            end = tail - 1
        found.add(f"p:{place}")
        spans.append((start, end + 1))
    return _blank(text, spans)


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[Any, list[tuple[str, str]]]:
    """One automaton over CLDR's country and city names in NAME_LANGUAGES (lower-case); Cyrillic
    names without their last vowel, so the cases of Россия (России, Россией) are found."""
    import ahocorasick
    from babel import Locale

    names: dict[str, str] = {}
    for code in NAME_LANGUAGES:
        locale = Locale.parse(code)
        for territory, name in locale.territories.items():
            if territory.isalpha() and territory != "ZZ":  # not 001, 150: World, Europe
                names.setdefault(_name_key(name), territory)
        for zone, parts in _zone_cities(locale).items():
            names.setdefault(_name_key(parts), zone)
    ids = [(name, place) for name, place in names.items() if len(name) >= 2]
    automaton = ahocorasick.Automaton()
    # pyahocorasick finds a node's child by a linear scan of its children in insertion order, and
    # most characters of a page (spaces, punctuation, digits) begin no name: the root scanned all
    # its 556 children for each. The words added first make the root answer them at once: each is
    # such a character and an upper-case A, which a lowered text never holds, so they never match
    # (a node they lead to has no way on but the A; its failure link is the root's): the places
    # found are the same. The names follow with common letters first, which the children keep.
    for char in _NOT_FIRST:
        if not any(name.startswith(char) for name, _ in ids):
            automaton.add_word(char + "A", -1)
    for index in sorted(range(len(ids)), key=lambda i: [_RANK.get(c, 99 + ord(c)) for c in ids[i][0]]):
        automaton.add_word(ids[index][0], index)
    automaton.make_automaton()
    return automaton, ids


# Characters frequent in pages that begin no place name, and letters by their frequency in news.
_NOT_FIRST = " \n,.-’'\"“”()0123456789:;!?—–$/%"
_RANK = {c: i for i, c in enumerate("eainotsrlhdcumgpbyfwkvzjxqéáóíöüäèàçñ")}


def _zone_cities(locale: Any) -> dict[str, str]:
    from babel.dates import get_timezone_location

    cities: dict[str, str] = {}
    for zone in _known_zones():
        city = locale.time_zones.get(zone, {}).get("city")
        cities[zone] = city or get_timezone_location(zone, locale="en", return_city=True)
    return cities


# Cities of countries with several time zones that are news datelines in their own right.
_MAJOR_CITIES = (
    "Europe/Moscow", "America/New_York", "America/Los_Angeles", "America/Chicago", "Asia/Shanghai",
    "Europe/Kyiv", "Europe/Kiev", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo", "America/Toronto",
    "America/Mexico_City", "Asia/Jakarta", "Europe/Madrid", "Asia/Vladivostok", "Asia/Hong_Kong",
)  # fmt: skip


@lru_cache(maxsize=1)
def _known_zones() -> tuple[str, ...]:
    """The cities of CLDR's time zones that are well known: the one zone of a country (Pyongyang,
    Seoul, Berlin) and the major cities of larger ones, not Center (North Dakota) or Troll."""
    from collections import Counter

    from babel.core import get_global

    territory_of = get_global("zone_territories")
    zones_of = Counter(territory_of.values())
    single = [z for z, t in territory_of.items() if zones_of[t] == 1 and not z.startswith("Etc/")]
    return tuple(single) + tuple(z for z in _MAJOR_CITIES if z in territory_of)


def _name_key(name: str) -> str:
    key = name.lower()
    if key and "\u0400" <= key[-1] <= "\u04ff" and len(key) > 4:
        key = key.rstrip("аяоеиыуюьй")
    return key


# --- names -----------------------------------------------------------------------------------------

# Sounds that transliterations write differently, each reduced to one letter; vowels, h, w and y
# dropped. Order matters: longer spellings first.
_SPELLINGS = (
    ("tsch", "c"), ("sch", "s"), ("dzh", "j"), ("sh", "s"), ("ch", "c"), ("zh", "j"), ("kh", "k"),
    ("ph", "f"), ("th", "t"), ("ck", "k"), ("ts", "c"), ("tz", "c"), ("x", "ks"), ("qu", "kv"),
    ("ng", "n"),
)  # fmt: skip
_CLASSES = str.maketrans(
    {"b": "B", "p": "B", "v": "B", "f": "B", "w": "B", "k": "K", "g": "K", "q": "K", "c": "S", "s": "S",
     "z": "S", "j": "S", "t": "T", "d": "T", "l": "R", "r": "R", "m": "M", "n": "N"}
)  # fmt: skip
_DROPPED = re.compile(r"[^BKSTRMN]")
_GLIDE_J = re.compile(r"j(?![aeiou])")


@lru_cache(maxsize=65_536)
def name_key(name: str, katakana: bool = False) -> str:
    """A name's consonant skeleton: Nebenzia, Nebensja, Небензя and ネベンジャ all give NBNS."""
    latin = unidecode(name).lower()
    if katakana:
        latin = latin.replace("hu", "fu")  # フ: Kunrei writes hu for the f of foreign names
    latin = _GLIDE_J.sub("", latin)  # the j of Selenskyj, Jemen: a glide
    for spelling, sound in _SPELLINGS:
        latin = latin.replace(spelling, sound)
    skeleton = _DROPPED.sub("", latin.translate(_CLASSES))
    return re.sub(r"(.)\1+", r"\1", skeleton)


_ENDS = frozenset(".!?。！？\n")
# Russian case endings with a consonant (Лавровым, Сергеем, Путина is fine: vowels are dropped).
_CYRILLIC_CASE = re.compile(
    r"(?<=[\u0400-\u04ff]{3})(?:ого|его|ому|ему|ыми|ими|ами|ями|ом|ем|ым|им|ых|их|ах|ях)$"
)
_POSSESSIVE = re.compile(r"['’]s$")


def _names(text: str, found: set[str], language: str | None) -> None:
    for katakana in _KATAKANA.findall(text):
        for part in katakana.split("・"):
            if len(key := name_key(part, katakana=True)) >= 3:
                found.add(f"m:{key}")
    # Runs of capitalised words joined by spaces or hyphens: each word and the whole run (Kim Jong
    # Un, Ким Чен Ын) are names. A sentence's first word counts only as part of a longer run.
    german = (language or "").startswith("de")
    run: list[str] = []
    run_opens = False
    opening = True
    last_end = 0
    for match in CAPITALISED_OR_END.finditer(text):
        word = match[0]
        gap = text[last_end : match.start()]
        if run and (word in _ENDS or gap.strip(" -")):  # a run ends at anything but - or a space
            _add_name(run[1:] if run_opens and len(run) == 1 else run, found)
            run = []
        last_end = match.end()
        if word in _ENDS:
            opening = True
            continue
        if opening and LETTER.search(gap):
            opening = False  # a lower-case word came first
        if name := _name_word(word, german):
            if not run:
                run_opens = opening
            run.append(name)
        opening = False
    if run:
        _add_name(run[1:] if run_opens and len(run) == 1 else run, found)


@lru_cache(maxsize=65_536)
def _name_word(word: str, german: bool) -> str:
    """A capitalised word as a name is read ("" for a function word): pages repeat their names,
    so each is reduced once instead of by two substitutions at every occurrence."""
    if word.lower() in STOP_WORDS:
        return ""
    word = _CYRILLIC_CASE.sub("", _POSSESSIVE.sub("", word))
    if german and len(word) > 4 and word.endswith("s") and word[-2] not in "sxzß":
        word = word[:-1]  # the genitive of Lawrows, Selenskyjs
    return word


def _add_name(run: list[str], found: set[str]) -> None:
    for word in run:
        if len(key := name_key(word)) >= 3:
            found.add(f"m:{key}")
    if len(run) >= 2 and len(key := name_key("".join(run))) >= 4:
        found.add(f"m:{key}")
