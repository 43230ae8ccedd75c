"""Canonical article URLs, so one article reached through different links is stored once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader; they never select different content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "ito",
        "smid",
        "sr_share",
        "__twitter_impression",
        "ncid",
        "rss",
        "taid",
        "soc_src",
    }
)


# Host prefixes of the mobile and AMP editions of a site: same article, other template. They
# fold into www., the usual main edition; the page itself is still fetched from the feed's link.
MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")
# Query parameters that only switch to the AMP or mobile edition.
EDITION_PARAMS = frozenset({"amp", "outputtype", "output", "mobile", "view"})
_EDITION_VALUES = frozenset({"", "1", "true", "amp", "mobile"})


def canonical_url(url: str) -> str:
    """One spelling per article: lower-case scheme and host, default port and fragment gone,
    tracking parameters dropped, the rest sorted, and AMP/mobile editions folded into the
    main one (m./amp. hosts, a trailing /amp segment or .amp suffix, ?amp=1, ?outputType=amp)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    for prefix in MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = "www." + host[len(prefix) :]
            break
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS
        and not k.lower().startswith("utm_")
        and not (k.lower() in EDITION_PARAMS and v.lower() in _EDITION_VALUES)
    ]
    path = parts.path or "/"
    if path.endswith("/amp") or path.endswith("/amp/"):
        path = path[: path.rstrip("/").rfind("/amp")] or "/"
    elif path.endswith(".amp"):
        path = path[: -len(".amp")]
    elif path.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))
