"""Normalisation: NFC and whitespace, absolute URLs, dates to UTC ISO 8601, no scripts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from itemadapter import ItemAdapter

from newscrawl.text import (
    PRECISIONS,
    clean_multiline,
    clean_text,
    content_hash,
    to_published,
    to_utc_iso,
    unique,
    utc_now_iso,
)

_RAW_SCRIPT = re.compile(r"<(script|style|iframe)\b[^>]*>.*?</\1\s*>|<(script|style)\b[^>]*/?>", re.I | re.S)
_TEXT_FIELDS = ("title", "lead", "category", "editor", "lang", "source_name")


def _absolute(base: str | None, url: str | None) -> str | None:
    url = clean_text(url)
    return urljoin(base or "", url) if url else None


def normalize_article(item: Any) -> Any:
    """Normalise an item in place and return it (idempotent)."""
    a = ItemAdapter(item)
    for name in _TEXT_FIELDS:
        a[name] = clean_text(a.get(name))
    a["url"] = _absolute(None, a.get("url"))
    a["authors"] = unique([clean_text(x) for x in a.get("authors") or []])
    a["tags"] = unique([clean_text(x) for x in a.get("tags") or []])
    body = a.get("body_markdown")
    a["body_markdown"] = clean_multiline(_RAW_SCRIPT.sub("", body)) if body else None
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
    a["content_hash"] = content_hash(a["body_markdown"])
    return item


class NormalizePipeline:
    def process_item(self, item: Any) -> Any:
        return normalize_article(item)
