"""Normalisation: NFC and whitespace, lone surrogates repaired, image URLs absolute and http(s)
only, dates to UTC ISO 8601.

The body is already safe Markdown when it gets here: the site parsers build it with
:func:`newscrawl.markdown.to_markdown`, which sanitises the HTML and escapes the text. Here
any raw tag or brace left in it (Markdown of another origin) is escaped, never deleted:
no pattern can remove text.
"""

from __future__ import annotations

from typing import Any

from newscrawl.html import absolute_url
from newscrawl.items import adapt
from newscrawl.markdown import inert_markdown
from newscrawl.text import (
    PRECISIONS,
    clean_multiline,
    clean_text,
    repair_surrogates,
    to_published,
    to_utc_iso,
    unique,
    utc_now_iso,
)
from newscrawl.versions import content_hash

_TEXT_FIELDS = ("title", "lead", "category", "editor", "lang", "source_name")


def _absolute(base: str | None, url: str | None) -> str | None:
    """An absolute http(s) URL, or ``None`` (``javascript:``, ``data:`` … are no images)."""
    url = clean_text(url)
    return absolute_url(base or "", url) if url else None


def _repaired(value: Any) -> Any:
    """Every string in a field (nested in lists and dicts too) with lone surrogates repaired."""
    if isinstance(value, str):
        return repair_surrogates(value)
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, dict):
        return {k: _repaired(v) for k, v in value.items()}
    return value


def normalize_article(item: Any, *, hashed: bool = True) -> Any:
    """Normalise an item in place and return it (idempotent); with ``hashed``, set its
    ``content_hash`` (:func:`newscrawl.versions.content_hash`) as well."""
    a = adapt(item)
    for name in list(a):
        if a.get(name) is not None:
            a[name] = _repaired(a[name])
    for name in _TEXT_FIELDS:
        a[name] = clean_text(a.get(name))
    a["url"] = clean_text(a.get("url"))
    a["authors"] = unique([text for x in a.get("authors") or [] if (text := clean_text(x))])
    a["tags"] = unique([text for x in a.get("tags") or [] if (text := clean_text(x))])
    body = a.get("body_markdown")
    a["body_markdown"] = clean_multiline(inert_markdown(body)) if body else None
    base = a.get("url")
    images = []
    for image in a.get("images") or []:
        url = _absolute(base, image.get("url"))
        if url:  # an image without a URL is not an image (the old archive kept src="")
            images.append({"url": url, "caption": clean_text(image.get("caption")),
                           "credit": clean_text(image.get("credit"))})
    a["images"] = images
    gallery = a.get("gallery")
    if gallery:
        gimages = [{"url": _absolute(base, g.get("url")), "title": clean_text(g.get("title")),
                    "caption": clean_text(g.get("caption")), "credit": clean_text(g.get("credit"))}
                   for g in gallery.get("images") or []]
        gimages = [g for g in gimages if g["url"]]
        a["gallery"] = {"title": clean_text(gallery.get("title")), "images": gimages} if gimages else None
    a["published"] = to_published(a.get("published"), a.get("published_precision"))
    if not a["published"]:
        a["published_precision"] = None
    elif len(a["published"]) == 10:  # a calendar day
        a["published_precision"] = "day"
    elif a.get("published_precision") not in PRECISIONS:
        a["published_precision"] = "second"
    a["updated"] = to_utc_iso(a.get("updated"))
    if a["updated"] and a["published"] and a["updated"] <= a["published"]:
        a["updated"] = None  # only a later modification time is an update
    a["crawled_at"] = to_utc_iso(a.get("crawled_at")) or utc_now_iso()
    if hashed:
        a["content_hash"] = content_hash(item)
    return item


class NormalizePipeline:
    """:func:`normalize_article`, but for the content hash: in a crawl the DedupePipeline
    computes it, once the PicturesPipeline has kept the pictures (which picture is shown is
    part of it); ``scrapy extract`` runs no such pipeline and hashes here."""

    def process_item(self, item: Any) -> Any:
        return normalize_article(item, hashed=False)
