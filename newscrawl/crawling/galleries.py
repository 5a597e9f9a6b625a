"""Gallery completion: an article whose gallery's captions live on the gallery's own page
waits for that page (requested once per run, its own item archived from the same
response), then goes on with the full gallery — or, if that page gave none, with the
partial gallery it has (``newscrawl/gallery/completed`` / ``incomplete``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.statscollectors import StatsCollector

from newscrawl.items import Article, Gallery


class GalleryCompletion:
    """The galleries this run has parsed from their own page, and the items waiting for one."""

    def __init__(self, stats: StatsCollector | None,
                 logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.stats = stats
        self.logger = logger
        #: gallery page id → the gallery it gave (complete: its own page)
        self.galleries: dict[str, Gallery] = {}
        #: gallery page id → the items waiting for it
        self.waiting: dict[str, list[Article]] = {}

    def awaited(self, gallery_id: str) -> bool:
        """Whether items of this run wait for that gallery page (its captions are needed)."""
        return bool(self.waiting.get(gallery_id))

    def wait(self, item: Article, gallery_id: str, url: str) -> Article | None:
        """The item completed at once when this run has parsed the gallery's page (at
        ``url``), else ``None``: it waits for the page (:meth:`page_parsed`, :meth:`release`)."""
        if gallery_id in self.galleries:
            return self.complete(item, self.galleries[gallery_id], url)
        self.waiting.setdefault(gallery_id, []).append(item)
        return None

    def page_parsed(self, page_id: str, gallery: Gallery | None) -> Iterator[Article]:
        """A page of this run was parsed, with its complete ``gallery`` (if any): the items
        that waited for it."""
        if gallery:
            self.galleries[page_id] = gallery
        return self.release(page_id)

    def release(self, gallery_id: str) -> Iterator[Article]:
        """The items waiting for this gallery page: completed if it gave a gallery, else as
        they are (their partial gallery is kept; the page failed or had none)."""
        gallery = self.galleries.get(gallery_id)
        for item in self.waiting.pop(gallery_id, []):
            yield self.complete(item, gallery, gallery_id)

    def complete(self, item: Article, gallery: Gallery | None, where: str) -> Article:
        if gallery and gallery.get("images"):
            item.gallery = gallery
            self._stat("newscrawl/gallery/completed")
        else:
            self._stat("newscrawl/gallery/incomplete")
            self.logger.warning("Gallery page %s gave no captions; keeping the partial gallery of %s",
                                where, item.url)
        return item

    def _stat(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
