"""Every article screened against every watchlist name at once: an Aho-Corasick automaton over
the names' word forms (pyahocorasick), so 20,000 names cost about what 20 do.

A name counts where its whole word sequence appears (never part of a word). Weak forms need more:
a one-word name ("KOMID"), a weak alias, or a name made of common words only ("Ocean Star") is
taken only when a strong form of the same entity is in the same article, or another of its forms
is in the same sentence. A surname alone never names anyone, and another person with the same
surname has another word sequence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from wirewatch.records import EntityHit, WatchEntity
from wirewatch.watchlists.names import fold_word, name_forms, words_of

# Words so common in news that a name made only of them is not evidence on its own.
COMMON_WORDS = frozenset(
    fold_word(w)
    for w in (
        "the of and a an in on at for to new old golden silver star sun moon sea ocean river "
        "mountain east west north south central general national international united global "
        "trade trading company group bank first grand great royal pacific atlantic asia asian "
        "europe european africa african america american express line lines shipping marine "
        "maritime energy oil gas petroleum industrial industries development investment capital "
        "finance financial services service technology technologies systems power light peace "
        "hope victory glory fortune lucky happy freedom liberty union state people peoples korea "
        "korean russia russian china chinese iran iranian syria syrian world city"
    ).split()
)
# Words that, in the same sentence, say a weak name is the listed thing of its kind: "the tanker
# Ocean Star" is the vessel, "the Ocean Star hotel" is not.
KIND_WORDS = {
    "vessel": frozenset(
        fold_word(w)
        for w in (
            "vessel vessels ship ships tanker tankers freighter carrier boat barge trawler mv cargo imo"
        ).split()
    ),
    "aircraft": frozenset(fold_word(w) for w in "aircraft plane jet airliner tail".split()),
}
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True, slots=True)
class _Form:
    entity: int  # index into Screen.entities
    words: str  # the form, as the words it matches
    strong: bool
    listed: str  # the name or alias as the list spells it


class Screen:
    """The names of one or more watchlists, ready to find in text."""

    def __init__(self, entities: Iterable[WatchEntity]) -> None:
        self.entities = list(entities)
        self._automaton = ahocorasick.Automaton()
        forms: dict[str, list[_Form]] = {}
        for index, entity in enumerate(self.entities):
            names = [(entity.name, True), *((a, True) for a in entity.aliases)]
            names += [(a, False) for a in entity.weak_aliases]
            for name, listed_strong in names:
                # A vessel's or an aircraft's name is made of ordinary words ("Wise Honest"): it
                # counts only in a sentence that says what it is.
                named_by_kind = entity.kind in KIND_WORDS
                for words in name_forms(name):
                    strong = (
                        listed_strong
                        and not named_by_kind
                        and len(words) >= 2
                        and not all(w in COMMON_WORDS for w in words)
                    )
                    key = " " + " ".join(words) + " "
                    forms.setdefault(key, []).append(_Form(index, key.strip(), strong, name))
        for key, found in forms.items():
            self._automaton.add_word(key, tuple(found))
        if forms:
            self._automaton.make_automaton()
        self.forms = len(forms)

    def hits(self, title: str, text: str) -> list[EntityHit]:
        """The entities named in an article, one hit each (its first convincing sentence)."""
        if not self.forms:
            return []
        found: dict[int, list[tuple[_Form, int, str]]] = {}  # entity -> (form, sentence no., sentence)
        words: list[set[str]] = []
        for number, sentence in enumerate(_sentences(title, text)):
            folded = words_of(sentence)
            words.append(set(folded))
            for _, forms in self._automaton.iter(" " + " ".join(folded) + " "):
                for form in forms:
                    found.setdefault(form.entity, []).append((form, number, sentence))
        hits = []
        for index, seen in found.items():
            context = KIND_WORDS.get(self.entities[index].kind, frozenset())
            chosen = _convincing(seen, [bool(context & w) for w in words])
            if chosen is not None:
                entity = self.entities[index]
                form, _, sentence = chosen
                hits.append(EntityHit(entity.list_name, entity.entity_id, entity.name, form.listed, sentence))
        return sorted(hits, key=lambda h: (h.list_name, h.entity_id))


def _convincing(seen: list[tuple[_Form, int, str]], of_its_kind: list[bool]) -> tuple[_Form, int, str] | None:
    """The first strong mention; else a weak one beside another form of the entity, or in a
    sentence that says it is a thing of the entity's kind (a vessel, an aircraft)."""
    strong = [s for s in seen if s[0].strong]
    if strong:
        return strong[0]
    for form, number, sentence in seen:
        if of_its_kind[number] or any(other.words != form.words and n == number for other, n, _ in seen):
            return form, number, sentence
    return None


def _sentences(title: str, text: str) -> list[str]:
    parts = [title] if title.strip() else []
    parts += [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    return parts
