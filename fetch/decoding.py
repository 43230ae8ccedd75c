"""Response bodies read from the wire and decompressed by us, within the byte cap.

httpx decompresses each chunk whole before we can count it, so a 25 KB body coded `gzip, gzip`
inflates to gigabytes inside one call. Here the cap holds on the wire and after decoding: every
decompress call is told how much it may still produce, and stacked or unknown codings are
refused (we only ask for gzip and deflate)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from wirewatch.errors import FetchError

_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


def content_coding(header: str, url: str) -> str:
    """The one coding a body may carry: "identity", "gzip" or "deflate"."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return "identity"
    if len(codings) > 1:
        raise FetchError(url, f"refused: stacked Content-Encoding '{header}'")
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if coding not in ("gzip", "deflate"):
        raise FetchError(url, f"refused: unsupported Content-Encoding '{header}'")
    return coding


def read_decoded(raw_chunks: Iterable[bytes], coding: str, max_bytes: int, url: str) -> bytes:
    """The body, decoded, or a FetchError once the wire or the decoded size passes max_bytes."""
    too_large = FetchError(url, f"larger than the {max_bytes}-byte cap")
    out = bytearray()
    wire = 0
    decoder = None if coding == "identity" else zlib.decompressobj(_GZIP if coding == "gzip" else _ZLIB)
    first = True
    for chunk in raw_chunks:
        wire += len(chunk)
        if wire > max_bytes:
            raise too_large
        if decoder is None:
            out += chunk
        else:
            if first and coding == "deflate" and not _looks_like_zlib(chunk):
                decoder = zlib.decompressobj(_RAW_DEFLATE)  # servers often send raw deflate
            first = False
            data = chunk
            while data:
                try:
                    out += decoder.decompress(data, max_bytes + 1 - len(out))
                except zlib.error as exc:
                    raise FetchError(url, f"cannot decode its {coding} body ({exc})") from exc
                if len(out) > max_bytes:
                    raise too_large
                data = decoder.unconsumed_tail
        if len(out) > max_bytes:
            raise too_large
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise too_large
    return bytes(out)


def _looks_like_zlib(chunk: bytes) -> bool:
    return len(chunk) >= 2 and (chunk[0] & 0x0F) == 8 and ((chunk[0] << 8) | chunk[1]) % 31 == 0
