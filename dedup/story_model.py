"""Does an article belong to a story? A logistic regression over article-to-story features.

An article joins the story it rates highest, at least `join`; every other story it rates at least
`merge` and shares two title words with is the same story, split when its first headlines
arrived before they had words in common, and is merged into it. Without merges the held-out
recall was 0.78: a story's first few headlines each started a story of their own, and they grew
side by side.

The features are those of Miranda et al. 2018 ("Multilingual Clustering of Streaming News"),
measured against a whole story rather than one article: the article's embedding against the
story's centroid, its title words against the story's titles (IDF-weighted cosine, the share it
has in common and whether two words are shared), its best title-word Jaccard with one member
and its best embedding cosine with one member (a broad story's centroid is diffuse). The weights
are fitted on the headline stream of ../shared/eval/clustering with `python -m
benchmarks.story_cv --fit`, which also reports their grouped cross-validation (5 folds of
stories, both thresholds chosen inside each training part); the figures are in the README.

Neither time nor a story's size is a feature. The development stream's timestamps are crawl
times, each story's within minutes and no two stories overlapping: a time feature learns a rule
real news breaks (a story runs for days), and held-out F1 rose to 0.955 with it, an artefact.
Its stories are Google News' broad clusters of 9-322 headlines: a size feature learnt that a
story of one or two articles takes almost anything (two headlines sharing only "election"
scored 0.92). Time only bounds the index's window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FEATURES = (
    "title_cosine",
    "shared_words",
    "two_shared",
    "embedding_cosine",
    "best_title_jaccard",
    "best_member_cosine",
)


@dataclass(frozen=True, slots=True)
class StoryFeatures:
    title_cosine: float  # IDF-weighted cosine of the title words to the story's summed titles
    shared_words: float  # share of the title words found in the story's titles
    two_shared: float  # 1 when at least two of them are: one shared word is weak evidence
    embedding_cosine: float  # cosine of the embedding to the story's centroid
    best_title_jaccard: float  # best title-word Jaccard with one member
    best_member_cosine: float  # best embedding cosine with one member

    def values(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class StoryModel:
    """Standardised logistic regression; joins the best story whose probability reaches `join`."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    join: float
    merge: float = 2.0  # another story rated at least this is the same story: merged (2: never)

    def probability(self, features: StoryFeatures) -> float:
        z = (features.values() - np.array(self.mean)) / np.array(self.scale)
        logit = float(z @ np.array(self.coef)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, join: float, merge: float = 2.0, l2: float = 1e-2
) -> StoryModel:
    """Newton's method on the L2-regularised log-loss (a few hundred thousand rows, 5 features)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(len(w), l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return StoryModel(
        mean=tuple(round(float(v), 6) for v in mean),
        scale=tuple(round(float(v), 6) for v in scale),
        coef=tuple(round(float(v), 6) for v in w[:-1]),
        intercept=round(float(w[-1]), 6),
        join=join,
        merge=merge,
    )


# Fitted on all 48 stories of the development stream by `python -m benchmarks.clustering --fit`;
# `join` and `merge` are the thresholds most training folds chose in that run's cross-validation.
SHIPPED = StoryModel(
    mean=(0.049449, 0.196684, 0.25731, 0.133268, 0.080144, 0.225234),
    scale=(0.126736, 0.225942, 0.437151, 0.201817, 0.145556, 0.187915),
    coef=(1.122937, 0.082106, 0.054312, 0.990854, 0.201784, 1.440417),
    intercept=-4.440834,
    join=0.05,
    merge=0.8,
)
