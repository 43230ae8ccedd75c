"""Meaning, not words: a static embedding of each article from the model inside the wordllama wheel.

Headlines of one event share meaning more than words ("iPhone maker" / "Apple"); a static
embedding (a token-vector average, ~30,000 headlines/s on one core) sees that. The model is
wordllama's l2_supercat, 256-d, which ships in the wheel: it is loaded from the package's own
files and never downloaded (wordllama 0.4.0's own loader looks for the tokenizer under the wrong
folder name and then asks the Hugging Face hub).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

DIMENSIONS = 256
_WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
# A full text is embedded by its title and lead: a static embedding of a whole body sees its
# topic only (every pair of the seed bodies scores 0.85-0.96, same event or not).
LEAD_CHARS = 400

_lock = threading.Lock()
_model: Any = None


def bundled_model_files() -> tuple[Path, Path]:
    """The weights and tokenizer inside the installed wordllama package."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("wordllama is not installed (pip install 'wordllama==0.4.0.post1')")
    package = Path(spec.origin).resolve().parent
    files = package / _WEIGHTS, package / _TOKENIZER
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"wordllama's bundled model is missing {', '.join(missing)}")
    return files


def _load() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here asks the hub; belt and braces
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from safetensors import safe_open
    from tokenizers import Tokenizer

    # wordllama's import calls logging.basicConfig(level=INFO) on the root logger: undo that.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from wordllama import WordLlamaInference

    root.setLevel(level)
    root.handlers[:] = handlers

    weights, tokenizer_file = bundled_model_files()
    with safe_open(str(weights), framework="np", device="cpu") as tensors:
        matrix = tensors.get_tensor(_TENSOR)
    if matrix.ndim != 2 or matrix.shape[1] != DIMENSIONS:
        raise ValueError(f"{weights}: expected a (vocabulary, {DIMENSIONS}) matrix, got {matrix.shape}")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    return WordLlamaInference(matrix, tokenizer, binary=False)


def model() -> Any:
    """The model, loaded once per process (0.15 s)."""
    global _model
    with _lock:
        if _model is None:
            _model = _load()
        return _model


def embedding_text(title: str, text: str) -> str:
    """What is embedded: the title, and the lead of a full text."""
    lead = text[:LEAD_CHARS] if text and text.strip() != title.strip() else ""
    return f"{title}\n{lead}".strip()


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text); an empty text gets a zero vector."""
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    filled = [i for i, t in enumerate(texts) if t.strip()]
    if filled:
        vectors = mean_token_vectors(model(), [texts[i] for i in filled])
        out[filled] = np.nan_to_num(vectors)
    return out


def mean_token_vectors(inference: Any, texts: list[str]) -> np.ndarray:
    """Unit mean token vectors: bit for bit what WordLlamaInference.embed(texts, norm=True) gives
    (a text of no token: NaN), in 45% of its time on article leads. It pads each batch to its
    longest text and sums the padded rows position by position; here the texts, longest first,
    add their tokens position by position without the padding: the same additions in the same
    order."""
    encodings = _unpadded(inference.tokenizer).encode_batch_fast(
        texts, is_pretokenized=False, add_special_tokens=False
    )
    lengths = np.fromiter(map(len, encodings), dtype=np.int64, count=len(texts))
    order = np.argsort(-lengths, kind="stable")
    longest = int(lengths.max())
    ids = np.zeros((len(texts), longest), dtype=np.int64)
    for row, k in enumerate(order.tolist()):
        ids[row, : lengths[k]] = encodings[k].ids
    vocabulary = inference.embedding
    np.clip(ids, 0, vocabulary.shape[0] - 1, out=ids)
    # The texts with a token at position p are the first having[p] (longest first).
    having = np.searchsorted(-lengths[order], -np.arange(longest), side="left").tolist()
    sums = np.zeros((len(texts), vocabulary.shape[1]), dtype=np.float32)
    for position, count in enumerate(having):
        sums[:count] += vocabulary[ids[:count, position]]
    vectors = np.empty_like(sums)
    vectors[order] = sums
    vectors /= np.maximum(lengths, 1).astype(np.float32)[:, None]
    with np.errstate(invalid="ignore"):  # a text of no token: 0/0, NaN as the model gives
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


_unpadded_copy: tuple[Any, Any] | None = None  # (the model's tokenizer, its copy without padding)


def _unpadded(tokenizer: Any) -> Any:
    """The tokenizer without the padding its configuration asks for (to the batch's longest text),
    which only the attention mask tells apart: the same ids, a third less time with encode_batch_fast
    (no character offsets)."""
    global _unpadded_copy
    with _lock:
        if _unpadded_copy is None or _unpadded_copy[0] is not tokenizer:
            from tokenizers import Tokenizer

            copy = Tokenizer.from_str(tokenizer.to_str())
            copy.no_padding()
            _unpadded_copy = (tokenizer, copy)
        return _unpadded_copy[1]
