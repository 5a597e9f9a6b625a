"""The incremental policy: which article pages a run fetches, and how.

Given what the state remembers (through the :class:`~newscrawl.archive.Archive`) and the
settings, it decides — and only decides: the spider makes the requests, counts the stats
(``newscrawl/incremental/<why>``, ``newscrawl/conditional/<why>``) and tells the archive.

* an article the state has archived is fetched again when its re-check is due (the decaying
  schedule of :mod:`newscrawl.schedule`, up to its last step), or on a *signal*: a listing or
  feed shows it under a new title (compared after :meth:`~newscrawl.sites.Site.fold_title`),
  a full-text feed's text of it changed, a sitemap's ``<lastmod>`` for it is later than
  its last check (``sitemap_lastmod``), or a listing's date of it (:attr:`Link.modified
  <newscrawl.sites.base.Link.modified>`: DW's teasers carry the article's last publication
  date) is later than its last check (``listed_date``);
* a due re-check is *vouched* for — the article marked checked, its page not fetched — by a
  full-text feed that shows its text unchanged (``feed_vouched``) or a listing whose date of
  it is not later than its last check (``listing_vouched``). A link that can do neither
  leaves the due re-check to the end of the sources (another source of the run may vouch);
  then the page is fetched (``recheck_due``). Where a site's sources carry no such signal
  (The Epoch Times' listings; an article no source shows any more), every due re-check is a
  whole page;
* past the last step an article is settled: besides signals, only the *audit* fetches it —
  ``NEWSCRAWL_AUDIT_BUDGET`` settled articles a run, oldest-checked first, each at most once
  a last step; ``-a recheck=all`` audits the whole archive (in batches, as the spider idles;
  the state remembers the audit under way, so a run stopped part-way is continued by the
  next ``recheck=all``). So what re-checks cost a run does not grow with the archive;
* a page that gave no item is tried again only after ``NEWSCRAWL_RETRY_FAILED_HOURS``;
* requests for pages the state has validators for are conditional (``If-None-Match`` /
  ``If-Modified-Since``); a 304, or a body with the remembered hash, is "unchanged";
* ``-a full=1`` (``full``) ignores the state: everything is fetched, unconditionally.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.settings import BaseSettings

from newscrawl.archive import Archive
from newscrawl.sites import Site
from newscrawl.sites.base import Link
from newscrawl.state import Known
from newscrawl.text import clean_text, parse_datetime

#: Why a verdict was reached (the stats key under ``newscrawl/incremental/``).
FEED_CHANGED = "feed_changed_refetched"
RECHECK_DUE = "recheck_due"
RETITLED = "retitled_refetched"
SITEMAP_LASTMOD = "sitemap_lastmod"
LISTED_DATE = "listed_date"
AUDITED = "audited"
KNOWN_SKIPPED = "known_skipped"
FAILED_SKIPPED = "failed_skipped"
FAILED_RETRIED = "failed_retried"
#: The re-checks of archived articles, by why (stats key → the name the run summary and the
#: run report's ``rechecks`` give it): the schedule, a signal of a source, the audit.
RECHECKS = {RECHECK_DUE: "schedule", FEED_CHANGED: "feed_text", RETITLED: "new_title",
            SITEMAP_LASTMOD: "sitemap_lastmod", LISTED_DATE: "listed_date", AUDITED: "audit"}
#: What stood in for a due re-check (the stats key under ``newscrawl/incremental/``).
FEED_VOUCHED = "feed_vouched"
LISTING_VOUCHED = "listing_vouched"
#: How many articles of an audit of the whole archive are asked for at once.
AUDIT_BATCH = 50


def later_than_checked(date: str | None, known: Known) -> bool:
    """A date a source gives for an article (a sitemap's ``<lastmod>``, a listing's date) is
    later than the last time a fetch of it was archived or found unchanged (``last_checked``):
    the site says it changed since."""
    when, checked = parse_datetime(date), parse_datetime(known.last_checked)
    return bool(when and checked and when > checked)


def rechecks(stats: dict[str, Any]) -> dict[str, int]:
    """How many re-checks of archived articles a run made, by why (:data:`RECHECKS`; only
    the reasons it had), from its stats."""
    counts = {name: stats.get(f"newscrawl/incremental/{key}", 0) for key, name in RECHECKS.items()}
    return {name: count for name, count in counts.items() if count}


#: Why a response counts as unchanged (the stats key under ``newscrawl/conditional/``).
NOT_MODIFIED = "not_modified"
SAME_BODY = "same_body"


def body_hash(response: Response) -> str:
    """The hash of a response's bytes (what "the same page" means without validators)."""
    return hashlib.sha256(response.body).hexdigest()[:32]


def response_validators(response: Response) -> dict[str, Any]:
    """What the state remembers of a response to ask next time whether it changed: its
    ``ETag``, ``Last-Modified`` and body hash, under the URL first asked for (a link the next
    run follows again) and the one that answered (the URL a scheduled re-check asks for)."""
    headers = response.headers
    request = response.request
    asked = (response.meta.get("redirect_urls") or [request.url if request else response.url])[0]
    return {"urls": sorted({asked, response.url}),
            "etag": (headers.get(b"ETag") or b"").decode("latin-1") or None,
            "last_modified": (headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            "body_hash": body_hash(response)}


@dataclass(frozen=True)
class Verdict:
    """Whether to fetch an article page, and why (a key of ``newscrawl/incremental/``;
    ``None``: nothing to count — new to the state, asked for by the user, or ``full``)."""

    fetch: bool
    why: str | None = None
    #: a line for the log (a retitled article: its URL and new title)
    note: str | None = None
    #: a due re-check a source stands in for (:data:`FEED_VOUCHED`, :data:`LISTING_VOUCHED`,
    #: the stats key): the spider marks the article checked
    vouched: str | None = None


@dataclass(frozen=True)
class Due:
    """An article page due for another fetch though no source of the run linked it."""

    article_id: str
    url: str
    title: str | None
    #: ``schedule`` (a due re-check), ``audit`` (a settled article's audit) or ``failed``
    #: (a failed page's next try)
    source: str

    @property
    def why(self) -> str:
        return {"schedule": RECHECK_DUE, "audit": AUDITED}.get(self.source, FAILED_RETRIED)


class IncrementalPolicy:
    """What a run fetches, given the archive's state and the settings."""

    def __init__(self, archive: Archive, site: Site, *, full: bool = False,
                 retry_failed_after: timedelta = timedelta(hours=24), retry_failed_times: int = 3,
                 recheck_limit: int = 1000, audit_budget: int = 20, audit_all: bool = False) -> None:
        self.archive = archive
        self.site = site
        self.full = full
        self.retry_failed_after = retry_failed_after
        self.retry_failed_times = retry_failed_times
        self.recheck_limit = recheck_limit
        self.audit_budget = audit_budget
        self.audit_all = audit_all
        self._known: dict[str, Known | None] = {}
        #: the audit of the whole archive: when it began, and the key it has got to in this run
        self._audit_started: str | None = None
        self._audit_key = ("", "")

    @classmethod
    def from_settings(cls, archive: Archive, site: Site, settings: BaseSettings,
                      full: bool = False, audit_all: bool = False) -> IncrementalPolicy:
        """``NEWSCRAWL_RETRY_FAILED_HOURS``, ``NEWSCRAWL_RETRY_FAILED_TIMES``,
        ``NEWSCRAWL_RECHECK_LIMIT`` and ``NEWSCRAWL_AUDIT_BUDGET``."""
        return cls(archive, site, full=full,
                   retry_failed_after=timedelta(hours=settings.getfloat("NEWSCRAWL_RETRY_FAILED_HOURS")),
                   retry_failed_times=settings.getint("NEWSCRAWL_RETRY_FAILED_TIMES"),
                   recheck_limit=settings.getint("NEWSCRAWL_RECHECK_LIMIT"),
                   audit_budget=max(0, settings.getint("NEWSCRAWL_AUDIT_BUDGET")), audit_all=audit_all)

    # ---- what the state knows ------------------------------------------------------
    def known(self, article_id: str) -> Known | None:
        """The state's record of an article as the run started to look at it (a listing page
        asks before deciding on its requests: one query per id)."""
        if article_id not in self._known:
            self._known[article_id] = self.archive.state.known(article_id)
        return self._known[article_id]

    def archived(self, article_id: str) -> bool:
        """Whether a version of the article was written completely (before this run)."""
        known = self.known(article_id)
        return known is not None and known.complete

    # ---- whether to fetch ----------------------------------------------------------
    def decide(self, article_id: str, link: Link, explicit: bool = False) -> Verdict:
        """Whether to fetch an article a source of this run links to: archived articles only
        when due, retitled or changed in the feed; pages that failed only after a while;
        everything else, and every URL the user gave (``explicit``), yes."""
        if explicit or self.full:
            return Verdict(True)
        known = self.known(article_id)
        if known is not None and known.complete:
            verdict = self.refetch(known, link)
            return verdict if verdict.fetch else Verdict(False, KNOWN_SKIPPED, vouched=verdict.vouched)
        failure = self.archive.state.last_failure(article_id)
        failed_at = parse_datetime(failure[2]) if failure else None
        if failed_at and self.archive.schedule.now() - failed_at < self.retry_failed_after:
            return Verdict(False, FAILED_SKIPPED)
        return Verdict(True)

    def refetch(self, known: Known, link: Link) -> Verdict:
        """Whether an archived article is worth fetching again: its full text in the feed
        changed, a sitemap's ``<lastmod>`` or a listing's date of it is later than its last
        check, or a listing shows it under a new title. A due re-check is ``vouched`` for by
        a feed showing its text unchanged or a listing's date not later than its last check;
        else it waits for the end of the sources (:meth:`due`), where another source of the
        run may vouch for it first."""
        if self.feed_says_changed(known, link):
            return Verdict(True, FEED_CHANGED)
        if self.sitemap_says_changed(known, link):
            return Verdict(True, SITEMAP_LASTMOD, f"Changed since it was last fetched, says a sitemap"
                                                  f" ({link.lastmod}): {known.url}")
        if self.listing_says_changed(known, link):
            return Verdict(True, LISTED_DATE, f"Changed since it was last fetched, says a listing"
                                              f" ({link.modified}): {known.url}")
        due = self.archive.schedule.due(parse_datetime(known.next_check))
        if due and (vouched := self.vouches(known, link)):
            return Verdict(False, vouched=vouched)
        title = clean_text(link.title)
        if title:
            folded = self.site.fold_title(title)
            seen = {self.site.fold_title(t) for t in (known.title, known.listed_title) if t}
            if folded not in seen | set(known.shown_titles):
                note = f"Listed under a new title, fetching again: {known.url} {title!r}"
                return Verdict(True, RECHECK_DUE if due else RETITLED, note)
        return Verdict(False)

    @staticmethod
    def feed_says_changed(known: Known, link: Link) -> bool:
        """A full-text feed's text of the article differs from the one its last fetch saw."""
        return bool(link.digest and known.feed_digest and link.digest != known.feed_digest)

    @staticmethod
    def sitemap_says_changed(known: Known, link: Link) -> bool:
        """A sitemap's ``<lastmod>`` for the article is later than the last time a fetch of it
        was archived or found unchanged (``last_checked``): the site says it changed since."""
        return later_than_checked(link.lastmod, known)

    @staticmethod
    def listing_says_changed(known: Known, link: Link) -> bool:
        """A listing's date of the article (its last publication or modification) is later
        than its last check: the site says it changed since."""
        return later_than_checked(link.modified, known)

    def vouches(self, known: Known, link: Link) -> str | None:
        """Whether the link stands in for the article's due re-check, and how: a full-text
        feed's text unchanged (:data:`FEED_VOUCHED`), or a listing's date of it not later than
        its last check nor earlier than its publication (a date before it is no date of this
        article) (:data:`LISTING_VOUCHED`) — but for the last re-check before the article
        settles: that one is a whole page, so that an edit a listing's date does not show
        (a correction saved without republishing) is found by then."""
        if link.digest and link.digest == known.feed_digest:
            return FEED_VOUCHED
        listed, checked = parse_datetime(link.modified), parse_datetime(known.last_checked)
        published = parse_datetime(known.published)
        if not (listed and checked and published and published <= listed <= checked):
            return None
        schedule = self.archive.schedule
        settles = schedule.next_check(published, schedule.now(), changed=False) is None
        return None if settles else LISTING_VOUCHED

    def reconsider(self, article_id: str, link: Link) -> bool:
        """Whether a link to an article this run has already decided on (and not fetched)
        is decided again: it says the article changed (a full-text feed's text, a sitemap's
        or a listing's date later than its last check) or can vouch for its due re-check —
        so the order in which a run's sources answer loses no edit and wastes no vouch."""
        known = self.known(article_id)
        if known is None or not known.complete or not (link.lastmod or link.modified or link.digest):
            return False
        if (self.feed_says_changed(known, link) or self.sitemap_says_changed(known, link)
                or self.listing_says_changed(known, link)):
            return True
        return self.archive.schedule.due(parse_datetime(known.next_check)) and bool(self.vouches(known, link))

    def stop_walking(self, article_ids: Iterable[str], resume: bool = False,
                     newest_first: bool = False) -> bool:
        """Whether a listing stops paginating at a page linking these articles (in the
        page's order): every one of them is archived, or, in a listing that lists the newest
        first, the last one is (the pages after it list older articles, which the walks
        before went through) — unless the last walk of the listing did not end (``resume``:
        it is walked to its end) or ``full``."""
        ids = list(article_ids)
        if not ids or self.full or resume:
            return False
        return self.archived(ids[-1]) if newest_first else all(map(self.archived, ids))

    def due(self) -> Iterator[Due]:
        """Re-checks the schedule says are due (at most ``NEWSCRAWL_RECHECK_LIMIT``, most
        overdue first); the run's audit (``NEWSCRAWL_AUDIT_BUDGET`` settled articles not
        checked for a last step, oldest-checked first; none when the whole archive is audited);
        then pages that failed, once ``NEWSCRAWL_RETRY_FAILED_HOURS`` have passed, up to
        ``NEWSCRAWL_RETRY_FAILED_TIMES`` tries in all. Nothing under ``full``."""
        if self.full:
            return
        state = self.archive.state
        for article_id, known in state.due(self.recheck_limit):
            self._known.setdefault(article_id, known)  # what the re-check's request asks
            assert known.url is not None, "due re-checks have a URL"
            yield Due(article_id, known.url, known.listed_title, "schedule")
        if self.audit_budget and not self.audit_all:
            for article_id, url, title in state.settled_unchecked(self.archive.schedule.audit_before(),
                                                                  self.audit_budget):
                yield Due(article_id, url, title, "audit")
        for article_id, url in state.failed_due(self.retry_failed_after, self.retry_failed_times,
                                                self.recheck_limit):
            yield Due(article_id, url, None, "failed")

    def audit_batch(self) -> list[Due] | None:
        """The next :data:`AUDIT_BATCH` articles of the audit of the whole archive
        (``-a recheck=all``): every archived article last checked before the audit began,
        oldest-checked first. ``None`` once this run has asked for all of them: the audit is
        over (the state forgets it; a run stopped before leaves it, and the next continues)."""
        if not self.audit_all or self.full:
            return None
        state = self.archive.state
        if self._audit_started is None:
            self._audit_started = state.audit_started()
        rows = state.audit_left(self._audit_started, self._audit_key, AUDIT_BATCH)
        if not rows:
            state.audit_finished()
            return None
        self._audit_key = (rows[-1][3], rows[-1][0])
        return [Due(article_id, url, title, "audit") for article_id, url, title, _ in rows]

    def audit_left(self) -> int:
        """How many articles the audit of the whole archive has still to re-check."""
        return self.archive.state.audit_count(self._audit_started) if self._audit_started else 0

    # ---- how to fetch --------------------------------------------------------------
    def fetch_whole(self, article_id: str | None) -> bool:
        """Whether an article page is fetched whole, not conditionally: some of its pictures
        are not kept yet (they are tried again from the page)."""
        known = self.known(article_id) if article_id else None
        return bool(known is not None and known.pictures_missing)

    def conditional(self, request: scrapy.Request) -> scrapy.Request:
        """The request with ``If-None-Match`` / ``If-Modified-Since`` from the validators the
        state remembers for its URL (a 304 then reaches the callback), and the remembered
        body hash in its meta. ``full`` asks unconditionally."""
        validators = None if self.full else self.archive.state.validators(request.url)
        if not validators:
            return request
        etag, last_modified, known_hash = validators
        if etag:
            request.headers[b"If-None-Match"] = etag
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        request.meta["handle_httpstatus_list"] = [304]
        request.meta["newscrawl_body_hash"] = known_hash
        return request

    @staticmethod
    def unconditional(request: scrapy.Request) -> scrapy.Request:
        """The request without what :meth:`conditional` added: its whole page is needed."""
        request.headers.pop(b"If-None-Match", None)
        request.headers.pop(b"If-Modified-Since", None)
        request.meta.pop("newscrawl_body_hash", None)
        return request

    @staticmethod
    def unchanged(response: Response) -> str | None:
        """Why the response shows nothing new (a 304, or the same bytes as when the validators
        were remembered; a rendered page is never compared), or ``None``."""
        if response.status == 304:
            return NOT_MODIFIED
        known_hash = response.meta.get("newscrawl_body_hash")
        if known_hash and not response.meta.get("playwright") and body_hash(response) == known_hash:
            return SAME_BODY
        return None
