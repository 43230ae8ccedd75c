"""Rules that recognise page furniture in a line or paragraph of text, by kind, not by wording.

Each rule names a kind of furniture (share widget, comment footer, notice, caption ...). They
are written for the shapes such furniture takes across sites, so unseen pages come out clean too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line this short with no sentence in it is a label, button or menu item, not prose.
SHORT_LINE_WORDS = 6


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    short_only: bool  # only applies to lines of at most SHORT_LINE_WORDS words


def _rule(kind: str, regex: str, *, short_only: bool = False) -> Rule:
    return Rule(kind, re.compile(regex, re.IGNORECASE), short_only)


_SOCIAL = (
    r"(facebook|twitter|x|linkedin|whatsapp|reddit|telegram|kakao\w*|line|pinterest|tumblr|"
    r"email|e-mail|mail|sms|link|copy link|print)"
)

RULES: tuple[Rule, ...] = (
    # Share and engagement widgets.
    _rule("share", r"\bshare\b.*\bbutton\b"),
    _rule("share", r"\bshare (this|on|via|to)\b", short_only=True),
    _rule(
        "share",
        rf"^\W*(share( on| via)?\s+)?{_SOCIAL}(\s+(share|this|button|us))*\W*$",
        short_only=True,
    ),
    _rule(
        "share",
        r"^\W*(share|tweet|print|email)( (this|it|story|article|page))?\W*$",
        short_only=True,
    ),
    _rule("share", r"\b(send|e-?mail) (a|this) (link|story|article|page) to a friend\b"),
    _rule("comments", r"^\W*\d+\s+(comments?|replies|responses)\W*$"),
    _rule(
        "comments",
        r"^\W*(post|leave|add|write|view|show|read|see|join)( a| all| the| your)? "
        r"(comments?|reply|replies|discussion|conversation)\b",
        short_only=True,
    ),
    _rule("comments", r"^\W*(comments?|discussion)( \(\d+\))?\W*$"),
    # The footer feed software appends to each entry (WordPress, Ghost, feed bridges).
    _rule("feed", r"^\W*the post .{1,300} appeared first on\b"),
    _rule(
        "feed",
        r"^\W*(continue|read( the)?( full| more| rest)?)( (reading|article|story|on|at)\b.*)?\W*$",
        short_only=True,
    ),
    # Navigation and page widgets.
    _rule(
        "widget",
        r"\bfont[- ]?size\b|\btext size\b|^\W*[A-Za-z]?[+-]\s*\d?\s*$|^\W*[+-]?\d\W*$",
        short_only=True,
    ),
    _rule(
        "widget",
        r"\b(menu|navigation|settings|close|search|log ?in|sign ?(in|up)|subscribe|"
        r"newsletter|skip to( main)? content|advertisement|cookie\w*|accept all|home)\b",
        short_only=True,
    ),
    _rule(
        "widget",
        r"^\W*(\[?\s*)?(go |back |jump |return )?to top\b|\bgo top\b|^\W*top of (the )?page\b",
    ),
    _rule("widget", r"^[\W_]*$"),  # a lone "|", "•", "X" stripped to nothing
    _rule("widget", r"^\W*[A-Za-z]\W*$"),
    # Teasers and tails.
    _rule(
        "teaser",
        r"^\W*(related|recommended|trending|popular|latest|more)\b"
        r"( (stories|articles|content|news|posts|links|reading|videos?|from|on|in)\b.*)?\W*$",
        short_only=True,
    ),
    _rule(
        "teaser",
        r"^\W*(top|most)\s+(\d+\s+)?(stories|news|read|popular|viewed|shared|articles)\b",
        short_only=True,
    ),
    _rule(
        "teaser",
        r"^\W*(read|see|also read|read also|see also|check out|don't miss|you may also like)"
        r"\b.*\b(more|also|other|content|stories|articles|coverage|here)\b",
        short_only=True,
    ),
    # Notices: disclaimers, copyright, redistribution.
    _rule(
        "notice",
        r"\b(views|opinions)\b.{0,40}\bexpressed\b.{0,80}\b(do|does)\s*(not|n't)\s+"
        r"(necessarily\s+)?(reflect|represent)",
    ),
    _rule("notice", r"©|\(c\)\s*\d{4}|\bcopyright\b.{0,40}\d{4}|\ball rights reserved\b"),
    _rule(
        "notice",
        r"\bmay not be (re)?published, broadcast\b|\b(rewritten|redistributed) (or|and) "
        r"(rewritten|redistributed)\b",
    ),
    _rule("notice", r"\bis solely responsible for (this|the|its) content\b"),
    # Photo captions and image references.
    _rule("caption", r"\((photo|image|picture|file photo|graphic)\b[^)]*\)\s*$"),
    _rule("caption", r"\b(photo|image|picture)\s*(credit|courtesy|by)\b\s*:?", short_only=True),
    _rule("caption", r"\b(file photo|getty images|stock photo|photo illustration)\W*$"),
    _rule("caption", r"\b(photo|photograph|image|picture)\s*(by|:)\s*[\w .'-]{2,40}\W*$"),
    # A wire story's sign-off, a line of its own under 250 characters: "Reporting by ...; Editing
    # by ...", "Mitarbeit: ...; Redaktion: ...".
    _rule(
        "credit",
        r"^\W*((additional |further )?(reporting|writing|editing) by|compiled by|"
        r"(mitarbeit|redaktion|bearbeitung|rédaction|édition|redacción|edición)\s*:)(?!.{250})",
    ),
    # A credit after the last sentence: ". AP-Yonhap", ". REUTERS/Jane Doe/File Photo".
    _rule("caption", r"[.!?]\s+[A-Z][A-Za-z]*(?:[-/][A-Z][\w.']*(?: [A-Z][\w.']*){0,3})+\s*$"),
    # Image and media addresses left as lines; other bare links can be the article's own content.
    _rule(
        "caption",
        r"^\W*(https?://|www\.)\S*(/(images?|img|photos?|pictures?|media|uploads)/|"
        r"\.(jpe?g|png|gif|webp|svg|avif)\b)\S*\s*$",
    ),
)


def word_count(line: str) -> int:
    return len(line.split())


def furniture_kind(line: str) -> str | None:
    """The kind of furniture a line is, or None for article text."""
    text = line.strip()
    short = word_count(text) <= SHORT_LINE_WORDS
    for rule in RULES:
        if rule.short_only and not short:
            continue
        if rule.pattern.search(text):
            return rule.kind
    return None


def is_prose(line: str, min_words: int = 12) -> bool:
    """A sentence-bearing paragraph: enough words and sentence punctuation."""
    text = line.strip()
    return word_count(text) >= min_words and bool(re.search(r"[.!?…\"'”’)]\s*$|[.!?]\s", text))
