"""How a run went: one notion of a failed run for ``scrapy crawl`` and ``scrapy crawlall``.

Exit status (both commands; ``crawlall`` takes the worst of its spiders, 1 before 75):

* ``0`` — every spider finished: its sources answered, its archive was written;
* ``1`` — a spider failed: it did not start or did not finish (``start_error``, a forced
  shutdown (a second Ctrl-C or SIGTERM),
  ``write_failed``, ``jobdir_crashed``, ``shutdown``, a ``CLOSESPIDER_*`` limit…), its archive
  could not be written or its state used (``newscrawl/failed/*``), a source that is not
  optional failed, answered empty or linked no article (``newscrawl/sources/failed``), every
  URL given with ``-a urls`` failed (was dropped: ``newscrawl/urls/failed``), its ``-o``/``-O``
  feed could not be written (``newscrawl/feeds/failed``: a full disk mid-crawl), it
  logged more than ``NEWSCRAWL_MAX_ERRORS`` errors, or its run report raised a layout-drift
  alarm;
* ``2`` — a usage or config mistake (unknown spider, argument or setting, a wrong value, a
  broken ``crawl.toml``): one line on stderr, nothing was crawled;
* ``75`` (EX_TEMPFAIL) — nothing failed, but a spider did not run because another run of it
  holds its lock: try again later.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from newscrawl.crawling.incremental import rechecks
from newscrawl.runlog import readable

EX_OK = 0
EX_FAILED = 1
EX_USAGE = 2
EX_TEMPFAIL = 75


def archive_failures(stats: dict[str, Any]) -> list[str]:
    """What the archive could not do (``newscrawl/failed/<what>`` stats): write failures, a
    state it could not use."""
    return [f"{what.removeprefix('newscrawl/failed/')} ({count}x)" for what, count in sorted(stats.items())
            if what.startswith("newscrawl/failed/") and count]


def judge(reason: str | None, stats: dict[str, Any], *, max_errors: int,
          expect_articles: bool = True) -> list[str]:
    """Why a crawl counts as failed (empty: it did not). ``reason`` is its finish reason
    (``None``: it never started, or — with a ``start_time`` in its stats — it started but was
    stopped before it could close); a ``locked`` run is not judged here (see :func:`exit_status`)."""
    if reason is None:
        if stats.get("start_time"):  # it ran, but never closed: the reactor was stopped under it
            return ["it was stopped before it finished (a forced shutdown: a second Ctrl-C or SIGTERM)"]
        return ["it did not start (see the error above)"]
    if reason == "locked":
        return []
    problems = []
    if reason != "finished" and not stats.get(f"newscrawl/failed/{reason}"):
        problems.append(f"finish reason {reason!r}")  # (the archive's own reasons are listed below)
    errors = stats.get("log_count/ERROR", 0)
    if errors > max_errors:
        problems.append(f"{errors} errors logged (more than {max_errors})")
    failed_sources = stats.get("newscrawl/sources/failed", 0)
    if failed_sources:
        problems.append(f"{failed_sources} source{'s' if failed_sources > 1 else ''} failed")
    # a source that answered "not modified" links only what it linked before
    seen = sum(stats.get(k, 0) for k in (
        "newscrawl/requests/article", "newscrawl/incremental/known_skipped",
        "newscrawl/incremental/failed_skipped", "newscrawl/conditional/not_modified",
        "newscrawl/conditional/same_body"))
    if (expect_articles and reason == "finished" and seen == 0 and not failed_sources
            and not stats.get("newscrawl/sources/optional_failed")):
        problems.append("its sources gave no article at all")
    asked, lost = stats.get("newscrawl/urls/requested", 0), stats.get("newscrawl/urls/failed", 0)
    if asked and lost >= asked:
        problems.append(f"{'the URL' if asked == 1 else f'all {asked} URLs'} given with -a urls failed")
    problems.extend(archive_failures(stats))
    if stats.get("newscrawl/feeds/failed", 0):
        problems.append("its -o/-O feed could not be written (see the error above)")
    if stats.get("newscrawl/drift/alarms", 0):
        problems.append(f"{stats['newscrawl/drift/alarms']} layout-drift alarm(s) in its run report")
    return problems


@dataclass
class Outcome:
    """One spider's run as the commands report it."""

    spider: str
    reason: str | None
    stats: dict[str, Any]
    problems: list[str]
    failed_sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> int:
        if self.problems:
            return EX_FAILED
        return EX_TEMPFAIL if self.reason == "locked" else EX_OK

    def summary(self) -> str:
        """One line: verdict, articles, drops by reason, re-checks of archived articles by
        why, backfill pages, failed sources, duration, report."""
        if self.problems:
            verdict = f"FAILED ({'; '.join(self.problems)})"
        elif self.reason == "locked":
            return f"{self.spider}: skipped, another run holds its lock (exit status 75: try again later)"
        else:
            verdict = "ok"
        s = self.stats
        items = f"{s.get('item_scraped_count', 0)} archived ({s.get('newscrawl/items/new', 0)} new, " \
                f"{s.get('newscrawl/items/updated', 0)} updated"
        if s.get("newscrawl/failed/write"):
            items += f", {s['newscrawl/failed/write']} not written"
        items += f"), {s.get('newscrawl/items/unchanged', 0)} unchanged"
        drops = {k.removeprefix("newscrawl/dropped/"): v for k, v in sorted(s.items())
                 if k.startswith("newscrawl/dropped/") and v}
        dropped = f"{sum(drops.values())} dropped"
        if drops:
            dropped += f" ({', '.join(f'{k} {v}' for k, v in drops.items())})"
        parts = [f"{items}, {dropped}"]
        if why := rechecks(s):  # re-checks of archived articles, by why
            parts.append(f"{sum(why.values())} re-checked ({', '.join(f'{k} {v}' for k, v in why.items())})")
        if pages := s.get("newscrawl/backfill/pages"):  # -a since: how far this run walked
            asked = s.get("newscrawl/backfill/requested", 0)
            parts.append(f"backfill {pages} page{'' if pages == 1 else 's'}"
                         f" ({asked} article{'' if asked == 1 else 's'} asked for)")
        if self.failed_sources:
            listed = "; ".join(
                f"{readable(f['label'])} {f['reason']}{' (optional)' if f['optional'] else ''}"
                for f in self.failed_sources)
            parts.append(f"failed sources: {listed}")
        if "elapsed_time_seconds" in s:
            parts.append(f"{s['elapsed_time_seconds']:.1f} s")
        if s.get("newscrawl/run_report"):
            parts.append(f"report {s['newscrawl/run_report']}")
        return f"{self.spider}: {verdict} — {'; '.join(parts)}"


def outcome_of(crawler: Any, reason: str | None, *, max_errors: int, expect_articles: bool = True) -> Outcome:
    """The outcome of a crawler that has run (``reason``: its finish reason, None if it
    never started)."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = getattr(crawler, "spider", None)
    return Outcome(crawler.spidercls.name, reason, stats,
                   judge(reason, stats, max_errors=max_errors, expect_articles=expect_articles),
                   list(getattr(spider, "failed_sources", []) or []))


def report(lines: list[str], settings: Any) -> None:
    """The summary lines at the end of a command: on stderr, and in the log file too when
    the log goes to one (``LOG_FILE``: scrapyd's job log, for one)."""
    for line in lines:
        print(line, file=sys.stderr)
        if settings.get("LOG_FILE"):
            logging.getLogger("newscrawl.outcome").info("%s", line)


def exit_status(outcomes: list[Outcome]) -> int:
    """1 if any failed, else 75 if any was locked out, else 0."""
    statuses = {o.status for o in outcomes}
    return EX_FAILED if EX_FAILED in statuses else EX_TEMPFAIL if EX_TEMPFAIL in statuses else EX_OK
