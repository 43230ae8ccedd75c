"""Names and text in one comparable form: lower-case ASCII words, so that "KIM, Jong Un",
"Kim Jong-un" and "Ким Чен Ын" can meet.

normality transliterates any script to Latin (text-unidecode: normality 3's ICU would need a
compiled PyICU) and drops punctuation (hyphens become spaces).
On top of it each word is folded the same way on both sides, so the common spellings of one
transliterated name meet (Nebenzia / Nebenzya, Zelensky / Zelenskiy / Zelenskyy): y and j read
as i, doubled letters as one, kh as h."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from normality import normalize

# normality suggests installing PyICU once per process; unidecode's transliteration is our choice.
warnings.filterwarnings("ignore", message="Install 'pyicu'")

# Company forms that papers drop: "Korea Mining Development Trading Corporation" is "Korea
# Mining Development Trading" in a headline. Folded like every word.
LEGAL_FORMS = frozenset(
    "co company corp corporation inc incorporated llc ltd limited plc gmbh ag sa spa srl bv nv "
    "jsc ojsc pjsc cjsc ooo zao oao llp lp pte sdn bhd group holding holdings".split()
)
# Russian, Ukrainian and Belarusian patronymics (folded): lists give "SURNAME, Given Patronymic",
# news mostly "Given Surname".
_PATRONYMIC = re.compile(r"(ovich|evich|ich|ovna|evna|ichna|inichna)$")
_FOLDS = (("kh", "h"), ("ph", "f"), ("ck", "k"), ("tz", "z"), ("y", "i"), ("j", "i"), ("w", "v"))
_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """One spelling for the transliterations of a word (applied to lists and articles alike)."""
    for old, new in _FOLDS:
        word = word.replace(old, new)
    return _DOUBLED.sub(r"\1", word)


def words_of(text: str) -> list[str]:
    """The text's words, transliterated, lower-case, folded."""
    normal = normalize(text, lowercase=True, latinize=True) or ""
    return [fold_word(w) for w in normal.split()]


def name_forms(name: str) -> set[tuple[str, ...]]:
    """The word sequences a listed name is written as in news: as listed; "SURNAME, Given" both
    ways round; given names run together (Jong Un / Jongun); a company without its legal form."""
    if "," in name:
        surname, given = (words_of(part) for part in name.split(",", 1))
        orders = [surname + given, given + surname] if surname and given else [surname or given]
        if len(given) >= 2 and _PATRONYMIC.search(given[-1]):
            orders += [surname + given[:-1], given[:-1] + surname]
    else:
        orders = [words_of(name)]
    forms: set[tuple[str, ...]] = set()
    for words in orders:
        if not words:
            continue
        forms.add(tuple(words))
        if len(words) >= 3:  # the given names of "kim jong un" run together: "kim jongun"
            forms.add((words[0], "".join(words[1:])))
            forms.add(("".join(words[:-1]), words[-1]))
        bare = [w for w in words if w not in LEGAL_FORMS]
        if len(bare) >= 2 and len(bare) < len(words):
            forms.add(tuple(bare))
    return forms
