"""The article item: exactly the JSON-lines fields of the output spec.

Items are plain dataclasses handled through itemadapter, so Scrapy's feed
exporters serialise them as they are. Images and galleries are nested
dictionaries (``{url, caption, credit}`` and ``{title, images: [...]}``),
which is what the JSON-lines format holds; the TypedDicts below document
their shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TypedDict


class Image(TypedDict):
    url: str
    caption: str | None
    credit: str | None


class GalleryImage(TypedDict):
    url: str
    title: str | None
    caption: str | None
    credit: str | None


class Gallery(TypedDict):
    title: str | None
    images: list[GalleryImage]


@dataclass
class Article:
    """One article (or picture gallery) of a site, as written to the outputs."""

    site: str
    id: str | None
    url: str | None
    title: str | None
    published: str | None
    updated: str | None = None
    #: how exactly the page gives ``published``: ``second``, ``minute`` or ``day`` (then
    #: ``published`` is the calendar day ``YYYY-MM-DD`` the page shows, no time of day)
    published_precision: str | None = None
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    lead: str | None = None
    body_markdown: str | None = None
    images: list[Image] = field(default_factory=list)
    gallery: Gallery | None = None
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    lang: str | None = None
    source_name: str | None = None
    crawled_at: str | None = None
    content_hash: str | None = None
    #: whether the page had to be rendered by the browser (JavaScript) to give this item
    rendered: bool = False
    #: the archived version this line is (1 for the first; set by the archive)
    version: int | None = None
    #: the content hash of the version before it (``None`` for the first)
    previous_hash: str | None = None


ARTICLE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Article))
