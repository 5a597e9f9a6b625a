"""Whose change a new version is: the site's, or ours (a changed parser).

A parse that differs from the archived version may come from the page (the publisher edited
the article) or from the parser (a fix, or a layout regression that loses a field). To tell
them apart, the capture the archived version was parsed from (its JSON line names it) is
parsed again with the current parser: when that gives what was archived, the parser did not
change and the new version is the **site**'s; when it gives something else, the parser's
output changed on the same bytes (*drift*), and a new parse equal to it is **parser**-derived:
recorded as such, never as an edit and never with an invented ``updated`` time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from newscrawl.items import item_dict
from newscrawl.pipelines.normalize import normalize_article
from newscrawl.replay import CaptureReader, decoded
from newscrawl.sites import ParseError, Site
from newscrawl.sites.base import ParseContext
from newscrawl.versions import exact_hash

logger = logging.getLogger(__name__)

SITE, PARSER = "site", "parser"


def _uncopied(images: Any) -> list[dict[str, Any]]:
    """Images without their kept copy (``file``: what the pictures pipeline adds)."""
    return [{k: v for k, v in image.items() if k != "file"} for image in images or []
            if isinstance(image, dict)]


def parsed_signature(item: Any) -> str:
    """What the parser made of a page: the exact hash (:func:`newscrawl.versions.exact_hash`:
    every published field but the bookkeeping) of the item without its kept pictures' copies."""
    data = item_dict(item)
    data["images"] = _uncopied(data.get("images"))
    if data.get("gallery"):
        data["gallery"] = {**data["gallery"], "images": _uncopied(data["gallery"].get("images"))}
    return exact_hash(data)


class ChangeOrigin:
    """Decides :data:`SITE` or :data:`PARSER` for a parse that differs from the archived
    version, by re-parsing that version's capture from the spider's WARC files (read beside a
    crawl that may be writing them: the index is read as it is)."""

    def __init__(self, folder: Path, site: Site, settings: BaseSettings, context: ParseContext | None = None):
        self.folder = folder
        self.site = site
        #: the crawl's parse context: a capture is re-parsed knowing what the crawl's parses know
        self.context = context
        self.settings = settings
        self._reader: CaptureReader | None = None
        self._unreadable = False

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def reader(self) -> CaptureReader | None:
        if self._reader is None and not self._unreadable:
            try:
                self._reader = CaptureReader(self.folder, rebuild=False)
            except (OSError, ValueError) as exc:
                self._unreadable = True
                logger.info("No capture index in %s (%s): changes are taken as the site's", self.folder, exc)
        return self._reader

    def reparsed(self, record_id: str) -> Any | None:
        """The current parser's item from the capture ``record_id`` (``None`` when it cannot
        be read or parsed)."""
        reader = self.reader()
        capture = reader.index.by_record_id(record_id) if reader else None
        if reader is None or capture is None:
            return None
        try:
            response = decoded(reader.response(capture), self.settings)
            parsed = self.site.parse(response, self.context)
        except ParseError as exc:
            logger.info("The archived capture %s no longer parses (%s)", record_id, exc.reason)
            return None
        except Exception as exc:  # an unreadable record: no judgement
            logger.warning("Cannot re-parse the capture %s: %s", record_id, exc)
            return None
        return parsed

    def origin(self, item: Any, stored: dict[str, Any] | None) -> tuple[str, bool]:
        """(``site`` or ``parser``, whether the parser's output changed on the archived
        version's capture) for ``item``, a parse that differs from ``stored``."""
        stored = stored or {}
        record = (stored.get("capture") or {}).get("record")
        if not record:
            return SITE, False
        parsed = self.reparsed(record)
        if parsed is None:
            return SITE, False
        again = parsed.item
        if parsed.gallery_url:  # its captions came from the gallery's own page
            again.gallery = stored.get("gallery")
        again.crawled_at = stored.get("crawled_at")
        again = normalize_article(again)
        drift = parsed_signature(again) != parsed_signature(stored)
        if drift and parsed_signature(again) == parsed_signature(item):
            return PARSER, True
        return SITE, drift
