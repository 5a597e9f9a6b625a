"""Backfills: a listing walked back to a date, or sitemaps read back to it (``-a since=``).

A run with ``-a since=2024-01-01`` archives everything its listings (and, with ``-a
sitemaps=1``, its sitemaps) list back to that date, with no page cap. The walk of a listing is
remembered in the state (table ``backfills``): the next page to read, the pages read, the
articles asked for and archived, the newest and oldest dates reached. A run stopped or killed
part-way leaves it there; the next run with ``since=`` first fetches the articles the last one
asked for and did not finish (the frontier), reads the listing's first pages as any hourly run
does, then goes on from the remembered page. ``-a backfill_pages=N`` lets one run read at most
N pages of backfill, so that a backfill shares the site with the hourly runs: it takes the same
site lock and politeness, and its pages wait until the articles before them are fetched (they
are asked for at :data:`BACKFILL_PRIORITY`, after everything else).

Where the walk stops: at a page whose every dated entry is older than ``since`` (the site
dates an entry by :meth:`~newscrawl.sites.base.Site.link_date`: the Epoch Times by the day in
its URL, a sitemap entry by its ``<lastmod>``), or at the listing's last page. Entries dated
before ``since`` are not asked for; undated ones are. A listing's pages move down as the site
adds articles at the top, so going on from the remembered page number reads some entries twice
(asked for once: the state knows them) and misses none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from newscrawl.archive import Archive
from newscrawl.sites.base import Link, Site

#: Backfill pages are fetched after everything else a run has queued (Scrapy: higher first),
#: so a backfill's articles drain before its next page is read and the hourly work goes first.
BACKFILL_PRIORITY = -10
#: The source name of a backfill of the sitemaps (one per site).
SITEMAPS = "sitemaps"
#: A URL's day may be the day before publication (the Epoch Times: the creation day): entries
#: dated up to this much before ``since`` are still asked for.
GRACE = timedelta(days=1)


def parse_since(value: str) -> str | None:
    """Why ``value`` is not a date ``YYYY-MM-DD``, or ``None``."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date (YYYY-MM-DD)"
    return None


def positive_count(value: str) -> str | None:
    """Why ``value`` is not a whole number above 0, or ``None``."""
    return None if value.isdigit() and int(value) > 0 else f"{value!r} is not a whole number above 0"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def pages_left(pages: int, newest: str | None, oldest: str | None, since: str) -> int | None:
    """An estimate of the pages a walk has still to read to get back to ``since``, at the
    pace it has gone so far (days per page); ``None`` when it cannot tell yet. A walk that
    is back beyond ``since`` and not finished reads one more page: the one that shows only
    older entries."""
    if not (pages and newest and oldest):
        return None
    walked = (date.fromisoformat(newest) - date.fromisoformat(oldest)).days
    left = (date.fromisoformat(oldest) - date.fromisoformat(since)).days
    if left <= 0:
        return 1
    if walked <= 0:
        return None
    return max(1, round(left * pages / walked))


@dataclass
class PageVerdict:
    """What one backfill page says: the links to ask for (none dated before ``since``), how
    many were left out as older, the dates it shows, and whether the walk goes on past it."""

    links: list[Link]
    older: int
    newest: str | None
    oldest: str | None
    past_since: bool


class Backfill:
    """The backfills of one run: ``since`` and the page budget; the state remembers each walk."""

    def __init__(self, archive: Archive, site: Site, since: str, page_budget: int | None = None,
                 logger: logging.Logger | logging.LoggerAdapter | None = None) -> None:
        self.archive = archive
        self.site = site
        self.since = since
        self.page_budget = page_budget
        self.logger = logger or logging.getLogger(__name__)
        #: backfill pages read in this run (all sources)
        self.pages_read = 0
        #: the oldest day an entry may have and be asked for
        self._oldest_kept = date.fromisoformat(since) - GRACE

    # ---- where a walk starts -------------------------------------------------------
    def begin(self, source: str, first_url: str) -> tuple[str, int] | None:
        """Where the backfill of ``source`` reads next (``(url, page number)``), or ``None``
        when it has finished (said in the log)."""
        row = self.archive.state.backfill_begun(source, self.since, first_url)
        if row["finished"] or not row["next_url"]:
            self.logger.info("Backfill of %s back to %s: finished %s (%s, %s asked for, %d archived,"
                             " back to %s)", source, row["since"], row["finished"],
                             plural(row["pages"], "page"), plural(row["requested"], "article"),
                             row["archived"], row["oldest"] or "no dated entry")
            return None
        if row["pages"]:
            self.logger.info("Backfill of %s back to %s: going on at page %d (%d read before)",
                             source, self.since, row["page"] + 1, row["pages"])
        return row["next_url"], row["page"] + 1

    def may_read(self) -> bool:
        """Whether this run may read another backfill page (``-a backfill_pages``)."""
        return self.page_budget is None or self.pages_read < self.page_budget

    # ---- one page ------------------------------------------------------------------
    def judge(self, links: Iterable[Link]) -> PageVerdict:
        """The page's links without those dated before ``since``; whether every dated one is."""
        dated = [(link, self.site.link_date(link)) for link in links]
        keep = [link for link, day in dated if day is None or day >= self._oldest_kept]
        dates = [day for _, day in dated if day is not None]
        older = len(dated) - len(keep)
        return PageVerdict(keep, older, max(dates).isoformat() if dates else None,
                           min(dates).isoformat() if dates else None,
                           past_since=bool(dates) and older == len(dates))

    def walked(self, source: str, url: str, page: int, verdict: PageVerdict, requested: int,
               next_url: str | None) -> bool:
        """Remember page ``page`` (at ``url``) read, its articles asked for first (they are in
        the frontier), and log the progress; whether the walk goes on to ``next_url`` in this
        run. A walk that ends at entries older than ``since`` remembers this page as where to
        go on: a backfill to an earlier date reads it again, for the entries left out."""
        self.pages_read += 1
        finished = next_url is None or verdict.past_since
        resume, resume_page = (url, page - 1) if verdict.past_since else (next_url, page)
        self.archive.state.backfill_walked(
            source, page=resume_page, next_url=resume, requested=requested, newest=verdict.newest,
            oldest=verdict.oldest, finished=finished)
        row = self.archive.state.backfill(source) or {}
        self.logger.info("%s", progress_line(source, self.since, page, row, finished, next_url))
        return not finished and self.may_read()

    def archived(self, source: str) -> None:
        """An article a backfill of ``source`` asked for is archived."""
        self.archive.state.backfill_archived(source)


def progress_line(source: str, since: str, page: int, row: dict[str, Any], finished: bool,
                  next_url: str | None) -> str:
    """``Backfill of <source> back to <since>: page 37 read (37 pages, 512 articles asked
    for, 498 archived), back to 2024-06-02, about 20 pages left``."""
    pages, asked = plural(row.get("pages", 0), "page"), plural(row.get("requested", 0), "article")
    counts = f"{pages}, {asked} asked for, {row.get('archived', 0)} archived"
    reached = f"back to {row['oldest']}" if row.get("oldest") else "no dated entry yet"
    if finished:
        why = "the listing ends" if next_url is None else f"its entries are older than {since}"
        return f"Backfill of {source} back to {since}: finished at page {page}, {why} ({counts}), {reached}"
    left = pages_left(row.get("pages", 0), row.get("newest"), row.get("oldest"), since)
    estimate = f", about {plural(left, 'page')} left" if left is not None else ""
    return f"Backfill of {source} back to {since}: page {page} read ({counts}), {reached}{estimate}"
