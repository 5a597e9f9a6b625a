"""The sources of a run: the feeds and listing pages the user asked for, which of them may
fail (``-a optional=…``), and which did.

Every source is accountable: one that fails, answers empty or links no article is recorded
in :attr:`SourceLedger.failed` (the run report's ``failed_sources``); the spider counts it in
``newscrawl/sources/failed`` (which fails the run), or ``newscrawl/sources/optional_failed``
for an optional one, and warns naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any

from scrapy.http import Response

from newscrawl.arguments import ArgumentError


def split_arg(value: str | list[str] | None) -> list[str]:
    """``-a x=a,b`` → ``["a", "b"]`` (a list passes through)."""
    if value is None:
        return []
    values = value if isinstance(value, list) else str(value).split(",")
    return [v.strip() for v in values if v and v.strip()]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Source:
    """A feed or listing the user asked for: its kind, as the user spelled it, its URL."""

    kind: str
    given: str
    url: str

    @property
    def label(self) -> str:
        """``topic t-123``, ``tag 王毅``, ``feed https://…``."""
        return f"{self.kind} {self.url if self.given in ('feed', 'sitemaps', self.url) else self.given}"


@dataclass(frozen=True)
class FailedSource:
    """A source that failed in this run, and why (``answered HTTP 404``, ``has no item``)."""

    source: Source
    reason: str
    optional: bool

    @property
    def stat(self) -> str:
        return "newscrawl/sources/optional_failed" if self.optional else "newscrawl/sources/failed"

    @property
    def warning(self) -> str:
        """The line after ``Source failed:``, naming the source as given and by URL."""
        label, url = self.source.label, self.source.url
        named = label if label.endswith(url) else f"{label} ({url})"
        return f"{named} {self.reason}" + (
            "; it is optional: the run does not fail" if self.optional else
            f"; the run fails unless it is optional (-a optional={self.source.given})")

    def report(self) -> dict[str, Any]:
        """As the run report lists it."""
        return {"source": self.source.url, "label": self.source.label, "given": self.source.given,
                "reason": self.reason, "optional": self.optional}


class SourceLedger:
    """The feeds and listings of one run (URL → :class:`Source`), the optional ones, the
    failed ones."""

    def __init__(self) -> None:
        #: listing pages (topics, tags, categories) and feeds, in the order they are read
        self.listings: list[str] = []
        self.feeds: list[str] = []
        #: URL → the source the user asked for (feeds and listings)
        self.sources: dict[str, Source] = {}
        #: URLs of the sources that may fail without failing the run
        self.optional: set[str] = set()
        #: the sources that failed in this run, as the run report lists them
        self.failed: list[dict[str, Any]] = []

    def add_listing(self, kind: str, given: str, url: str) -> None:
        """A listing to walk (once, however often it is given)."""
        if url not in self.sources:
            self.listings.append(url)
            self.sources[url] = Source(kind, given, url)

    def choose_feeds(self, feed: bool | list[str] | None, default: str, others: bool) -> list[str]:
        """``-a feed``: 1 for the site's feed, 0 for none, or feed URLs; unset, the site's
        feed is read only when no ``others`` (listings, single URLs) were given."""
        if feed is None:
            feeds = [] if others else [default]
        elif feed is True:
            feeds = [default]
        elif feed is False:
            feeds = []
        else:
            feeds = [default if truthy(f) else f for f in split_arg(feed)]
        for url in feeds:
            self.sources.setdefault(url, Source("feed", "feed", url))
        return list(dict.fromkeys(feeds))

    def add_sitemaps(self, urls: list[str]) -> list[str]:
        """Where the run reads sitemaps (``-a sitemaps=1``): sources given as ``sitemaps``."""
        for url in urls:
            self.sources.setdefault(url, Source("sitemaps", "sitemaps", url))
        return list(dict.fromkeys(urls))

    def choose_optional(self, entries: list[str], resolve: Callable[[str], list[str]]) -> None:
        """``-a optional=…``: each entry names sources of this run — as given, by URL,
        ``feed`` for the feeds, ``sitemaps`` for the sitemaps, ``*`` for all, or what
        ``resolve(entry)`` makes of it (the URLs it would be as each kind of listing) — or it
        is an ArgumentError."""
        for entry in entries:
            if entry == "*":
                self.optional |= set(self.sources)
                continue
            matched = {url for url, source in self.sources.items()
                       if entry in (source.given, source.url)
                       or (entry == "feed" and source.kind == "feed")}
            if not matched:
                matched = {url for url in resolve(entry) if url in self.sources}
            if not matched:
                given = ", ".join(s.given for s in self.sources.values()) or "none"
                raise ArgumentError(f"optional: {entry!r} is not one of this run's sources ({given})")
            self.optional |= matched

    def fail(self, url: str, reason: str) -> FailedSource:
        """Record that the source at ``url`` failed, answered empty or linked no article."""
        source = self.sources.get(url) or Source("feed" if url in self.feeds else "listing", url, url)
        failed = FailedSource(source, reason, url in self.optional)
        self.failed.append(failed.report())
        return failed


def emptiness(response: Response, entries: Sized, what: str) -> str:
    """Why a feed or listing page that linked no article failed: an empty page, a page with
    no ``what`` (``item``, ``article link``), or entries none of which is an article."""
    if not response.body.strip():
        return f"answered an empty page (HTTP {response.status})"
    if not entries:
        return f"has no {what}"
    return "links no article"
