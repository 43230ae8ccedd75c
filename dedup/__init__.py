"""Near-duplicate detection and story clustering with MinHash LSH. No SQL, no Prefect."""

from wirewatch.dedup.fingerprint import Fingerprint, fingerprint_text
from wirewatch.dedup.index import IndexedArticle, StoryIndex, decide_placement

__all__ = ["Fingerprint", "IndexedArticle", "StoryIndex", "decide_placement", "fingerprint_text"]
