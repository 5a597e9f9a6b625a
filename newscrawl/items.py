"""The article item: exactly the JSON-lines fields of the output spec.

Items are plain dataclasses handled through itemadapter, so Scrapy's feed
exporters serialise them as they are. Images and galleries are nested
dictionaries (``{url, caption, credit}`` and ``{title, images: [...]}``),
which is what the JSON-lines format holds; the TypedDicts below document
their shape. With pictures kept (``NEWSCRAWL_IMAGES``), each image also has
``file``: its kept copy (:class:`newscrawl.pictures.KeptPicture`) or ``None``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from itemadapter import ItemAdapter

if TYPE_CHECKING:
    from newscrawl.pictures import KeptPicture


class Image(TypedDict):
    url: str
    caption: str | None
    credit: str | None
    file: NotRequired[KeptPicture | None]


class GalleryImage(TypedDict):
    url: str
    title: str | None
    caption: str | None
    credit: str | None
    file: NotRequired[KeptPicture | None]


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
    #: the WARC record the item was parsed from: ``{"file": <WARC file>, "record":
    #: <WARC-Record-ID>}`` (``None`` with WARC capture off)
    capture: dict[str, str] | None = None
    #: what this version is (set by the dedupe): ``site`` — what the site published (a first
    #: version, or the page changed); ``parser`` — derived by a changed parser from a page that
    #: did not change (a parser fix, or a layout regression): not the publisher's edit
    origin: str | None = None
    #: the parser that made it: ``<site>/<layout> (newscrawl <version>)``
    parser: str | None = None
    #: the story this version tells, across sites (set by the archive, see newscrawl.related):
    #: ``<site>/<id>`` of the story's first-indexed article (its own for a story told once)
    cluster: str | None = None
    #: ``<site>/<id>`` of the archived articles of either site with the same text (verified)
    related: list[str] | None = None


ARTICLE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Article))


def adapt(item: Any) -> MutableMapping[str, Any]:
    """The item's fields, read and written by name: ``ItemAdapter(item)`` without its cost
    for the project's own item, whose instance dict *is* its fields (writing a name sets
    the attribute). Any other item goes through ItemAdapter."""
    return vars(item) if type(item) is Article else ItemAdapter(item)


def item_dict(item: Any) -> dict[str, Any]:
    """The item as a plain dict of its fields, in field order, for JSON (an :class:`Article`'s
    values as they are, not deep-copied: only read them)."""
    if type(item) is Article:
        return {name: getattr(item, name) for name in ARTICLE_FIELDS}
    return asdict(item) if is_dataclass(item) and not isinstance(item, type) else ItemAdapter(item).asdict()
