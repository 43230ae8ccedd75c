"""Turn pages into clean article text and metadata. No SQL, no Prefect, no network."""

from wirewatch.extractors.article import MIN_ARTICLE_WORDS, extract_page

__all__ = ["MIN_ARTICLE_WORDS", "extract_page"]
