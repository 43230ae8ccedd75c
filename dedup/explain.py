"""Sentences that say why each article joined its story cluster, beside the thresholds they name."""

from __future__ import annotations

from wirewatch.dedup.centroids import HEADLINE_COSINE
from wirewatch.dedup.index import NEAR_DUPLICATE_JACCARD, SHORT_STORY_JACCARD, STORY_JACCARD
from wirewatch.dedup.story_model import SHIPPED
from wirewatch.records import ClusterMember, ClusterMerge


def member_reason(member: ClusterMember) -> str:
    if member.basis == "other_language":
        return "first article of the story in its language (it retells a story in another language: linked)"
    if member.tier == "original" or member.matched_article_id is None:
        return "first article of the story"
    target = f"#{member.matched_article_id}"
    score = member.score or 0.0
    if member.tier == "near_duplicate":
        return f"copy of {target}: 3-shingle Jaccard ~{score:.2f} >= {NEAR_DUPLICATE_JACCARD}"
    if member.basis == "story_model":
        scores = ", ".join(f"{name.replace('_', ' ')} {value:.2f}" for name, value in member.scores)
        return f"same story as {target} and its story: model probability {score:.2f} >= {SHIPPED.join}" + (
            f" ({scores})" if scores else ""
        )
    if member.basis == "headlines":
        return (
            f"headline close to the story's headlines (nearest {target}): "
            f"IDF-weighted cosine {score:.2f} >= {HEADLINE_COSINE}"
        )
    threshold = SHORT_STORY_JACCARD if member.basis == "teaser_words" else STORY_JACCARD
    return f"rewrite of {target}: content-word Jaccard {score:.2f} >= {threshold}"


def merge_reason(merge: ClusterMerge) -> str:
    return (
        f"cluster #{merge.from_cluster} merged into #{merge.into_cluster} at {merge.merged_at}: "
        f"article #{merge.article_id} matched both (copied articles of each, or the story model rated "
        f"both >= {SHIPPED.merge} with two title words shared)"
    )
