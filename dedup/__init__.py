"""Near-duplicate detection and story clustering with MinHash LSH. No SQL, no Prefect."""

from dedup.fingerprint import Fingerprint, fingerprint_text
from dedup.index import CandidateDetails, StoryIndex, decide_placement

__all__ = ["CandidateDetails", "Fingerprint", "StoryIndex", "decide_placement", "fingerprint_text"]
