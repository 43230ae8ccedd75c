"""Canonical article URLs, so one article reached through different links is stored once.

courlan (trafilatura's URL library) normalises scheme, host and port (IDNA hosts included). The
path is kept as the site wrote it: courlan re-encodes it ("+" becomes "%2B", "(" "%28"), which
would make the links we show unreadable and give every article already stored under such a
path a second identity. On top of courlan we fold the AMP and mobile editions of a page into the main one and
drop tracking parameters by exact name. Not by courlan's tracker pattern: it matches parts of
names ("ga" in gallery and game, "cid", "uid", "source"), and a parameter that selects the page
dropped would store two articles as one."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

# Query parameters that only track the reader; they never select different content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
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
# Name prefixes of campaign trackers (Google Analytics, Matomo, Piwik).
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")

# Host prefixes of the mobile and AMP editions of a site: same article, other template. They
# fold into www., the usual main edition; the page itself is still fetched from the feed's link.
MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")
# Query parameters that only switch to the AMP or mobile edition.
EDITION_PARAMS = frozenset({"amp", "outputtype", "output", "mobile", "view"})
_EDITION_VALUES = frozenset({"", "1", "true", "amp", "mobile"})


def canonical_url(url: str) -> str:
    """One spelling per article: courlan's normalize_url for scheme and host (lower case,
    default port gone), the path as written, no fragment, tracking parameters dropped and
    the rest sorted, and AMP/mobile editions folded into the main one (m./amp. hosts, a trailing
    /amp segment or .amp suffix, ?amp=1, ?outputType=amp)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    for prefix in MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = "www." + host[len(prefix) :]
            break
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    path = parts.path
    if path.endswith("/amp") or path.endswith("/amp/"):
        path = path[: path.rstrip("/").rfind("/amp")]
    elif path.endswith(".amp"):
        path = path[: -len(".amp")]
    elif path.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    # The query is filtered here, not by normalize_url: courlan's own pass drops parameters
    # without a value, and a bare one can be what selects the page ("index.php?/2014/03/story").
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS
        and not k.lower().startswith(TRACKING_PREFIXES)
        and not (k.lower() in EDITION_PARAMS and v.lower() in _EDITION_VALUES)
    )
    main = urlsplit(normalize_url(SplitResult(parts.scheme, host, "/", "", "")))
    return urlunsplit((main.scheme, main.netloc, path or "/", urlencode(query), ""))


# Links shown to a reader (review page, Atom): the web, and the file: URIs of ingested pages.
# Anything else is either an identity (urn:wirewatch:entry:...) or a hazard (javascript:).
OPENABLE_SCHEMES = ("http://", "https://", "file://")


def is_openable(url: str) -> bool:
    return url.lower().startswith(OPENABLE_SCHEMES)
