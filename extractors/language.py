"""The language of an article: as its page or feed declares it, else detected from its text with
py3langid (its model ships inside its wheel: nothing is downloaded)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from wirewatch.settings import declared_language

# Below this many characters detection is a guess; such texts get no language.
MIN_DETECT_CHARS = 20


@lru_cache(maxsize=1)
def _classify() -> Any:
    import py3langid  # loads its model (about 0.1 s) on first use, not at import of this module

    return py3langid.classify


def detected_language(text: str) -> str | None:
    sample = " ".join(text.split())[:2000]
    if len(sample) < MIN_DETECT_CHARS:
        return None
    return str(_classify()(sample)[0])


def language_of(declared: str | None, text: str) -> str | None:
    """The declared language when there is one, else the detected one."""
    return declared_language(declared) or detected_language(text)
