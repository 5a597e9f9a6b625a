"""Ten simulated days of both sites, against a crawler that fetches only what changed.

``make bench-sim`` (``PYTHONPATH=. .venv/bin/python benchmarks/simulation.py``): the two sites
of :mod:`tests.mirror.daily` (DW and The Epoch Times, each with its feed and one listing; new
articles every day; text edits on various days, of articles still listed and of articles no
source shows any more; article pages whose sidebar changes daily, so that a re-check is a
whole page), crawled once a simulated day (``NEWSCRAWL_CLOCK``) by ``scrapy crawl dw`` and
``scrapy crawl epochtimes`` with the sources of a deployment's hourly runs. Pictures are off
(``NEWSCRAWL_IMAGES=0``): the requests counted are pages.

For every run it counts the requests the mirror served (robots.txt, feeds, listing pages,
article pages) and those of an *ideal* crawler: robots.txt, the feed and the listing's first
page, and the articles that are new or were edited since the run before. At the end it checks
the archive: no article twice in one version and no version without a change (duplicates),
every published article archived (missed), every edit whose re-check came archived (stale);
and, for every edit, the run that caught it against the run by which the schedule had to
(the first run at or after the first step of ``NEWSCRAWL_RECHECK_STEPS`` — an age the article
reaches — after the edit). ``--steps`` tries another schedule; ``-s NAME=VALUE`` other
settings. Prints a table and writes ``benchmarks/out/simulation.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newscrawl.schedule import DEFAULT_STEPS, iso, parse_steps
from tests.crawl import crawl
from tests.mirror.daily import DW_FEED_URL, DW_TOPIC_URL, ET_FEED_URL, SOURCES, DailySites, Edit
from tests.mirror.server import ARTICLE_PAGE, MirrorServer, default_dirs

REPO = Path(__file__).resolve().parents[1]
START = datetime(2024, 5, 6, 6, 0, tzinfo=UTC)
#: (site, article number, simulated day of the edit — a fraction is a time of day)
EDITS = [
    ("dw", 13, 3.5),  # listed (the topic page shows its new date)
    ("dw", 5, 5.2),  # on no source any more
    ("dw", 20, 5.5),  # listed
    ("dw", 13, 8.2),  # again, no longer listed
    ("epochtimes", 13, 3.5),  # in the full-text feed
    ("epochtimes", 2, 2.2),  # on the listing's second page only
    ("epochtimes", 9, 4.3),  # on the listing's first page, out of the feed
    ("epochtimes", 30, 8.1),  # in the feed
]
SITES = ("dw", "epochtimes")
FEEDS = {DW_FEED_URL, ET_FEED_URL}


@dataclass
class Run:
    """What one spider's run on one day cost and brought."""

    day: int
    site: str
    requests: Counter = field(default_factory=Counter)
    ideal: int = 0
    new: int = 0
    updated: int = 0
    rechecks: dict[str, int] = field(default_factory=dict)
    vouched: int = 0
    #: URLs of the requests that were none of robots.txt, feed, listing or article
    others: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def kind_of(url: str) -> str:
    """What a request the mirror served was for."""
    path = urlsplit(url).path
    if path.endswith("/robots.txt"):
        return "robots"
    if url in FEEDS:
        return "feed"
    if ARTICLE_PAGE.search(path):
        return "article"
    if url == DW_TOPIC_URL or "/gb/nsc413" in path:
        return "listing"
    return "other"


def deadline(sites: DailySites, edit: Edit, steps: list) -> int | None:
    """The day of the run by which the schedule must catch ``edit``: the first run at or after
    the first step (an age of the article) reached after the edit; ``None`` past the last."""
    article = sites.articles[edit.site][edit.index]
    due = [article.published + step for step in steps if article.published + step >= edit.when]
    if not due:
        return None
    return next((d for d in range(1, sites.days + 1) if sites.clock(d) >= due[0]), None)


def lines(out: Path, site: str) -> list[dict]:
    path = out / site / "articles.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def simulate(out: Path, work: Path, *, days: int = 10, steps: str = DEFAULT_STEPS,
             settings: tuple[str, ...] = (), log: Any = None) -> dict[str, Any]:
    """Run the simulation into ``out`` (mirror overlays under ``work``): runs, edits, checks."""
    sites = DailySites(START, days=days, edits=EDITS)
    step_list = parse_steps(steps)
    extra = ["-s", "NEWSCRAWL_IMAGES=0", "-s", f"NEWSCRAWL_RECHECK_STEPS={steps}"]
    for setting in settings:
        extra += ["-s", setting]
    runs: list[Run] = []
    caught: dict[int, int] = {}
    edits = sites.all_edits()
    with MirrorServer(default_dirs()) as server:
        for day in range(1, days + 1):
            overlay = sites.build(day, work)
            server.load([*default_dirs(), overlay])
            server.day = day
            now, before = sites.clock(day), sites.clock(day - 1) if day > 1 else None
            for site in SITES:
                server.hits.clear()
                result = crawl(site, server.base_url, out, *SOURCES[site], *extra,
                               "-s", f"NEWSCRAWL_CLOCK={iso(now)}")
                if result.returncode != 0:
                    raise RuntimeError(f"{site} on day {day} failed:\n{result.log[-3000:]}")
                run = Run(day, site)
                for url, n in server.hits.items():
                    run.requests[kind_of(url)] += n
                    if kind_of(url) == "other":
                        run.others.append(url)
                items = result.report["items"]
                run.new, run.updated = items.get("new", 0), items.get("updated", 0)
                run.rechecks = result.report.get("rechecks", {})
                run.vouched = sum(v for k, v in result.stats.items()
                                  if k.startswith("newscrawl/incremental/") and k.endswith("_vouched"))
                new = [a for a in sites.articles[site] if a.published <= now
                       and (before is None or a.published > before)]
                edited = {e.index for e in edits if e.site == site and before is not None
                          and before < e.when <= now} - {a.index for a in new}
                run.ideal = run.requests["robots"] + 2 + len(new) + len(edited)
                runs.append(run)
                archived = lines(out, site)
                for k, e in enumerate(edits):
                    if e.site == site and k not in caught and any(
                            x["id"] == sites.articles[site][e.index].id and e.sentence in x["body_markdown"]
                            for x in archived):
                        caught[k] = day
                if log:
                    print(f"day {day:2d} {site:10s} requests {run.total:3d} ideal {run.ideal:3d} "
                          f"{dict(run.requests)} new {run.new} updated {run.updated} "
                          f"re-checks {run.rechecks} vouched {run.vouched} {run.others or ''}",
                          file=log, flush=True)
    return report(sites, runs, edits, caught, step_list, out)


def report(sites: DailySites, runs: list[Run], edits: list[Edit], caught: dict[int, int],
           steps: list, out: Path) -> dict[str, Any]:
    """The ratio (days 2 on), per-day counts, the checks and each edit's catch."""
    end = sites.clock(sites.days)
    duplicates = missed = stale = 0
    for site in SITES:
        archived = lines(out, site)
        versions = Counter((x["id"], x["version"]) for x in archived)
        duplicates += sum(n - 1 for n in versions.values() if n > 1)
        by_id: dict[str, list[dict]] = {}
        for x in archived:
            by_id.setdefault(x["id"], []).append(x)
        for history in by_id.values():
            hashes = [x["content_hash"] for x in sorted(history, key=lambda x: x["version"])]
            duplicates += sum(1 for a, b in pairwise(hashes) if a == b)
        for article in sites.published_by(site, end):
            history = sorted(by_id.get(article.id, []), key=lambda x: x["version"])
            if not history:
                missed += 1
                continue
            due = [e for e in article.edits_by(end)
                   if (deadline(sites, e, steps) or sites.days + 1) <= sites.days]
            if any(e.sentence not in history[-1]["body_markdown"] for e in due):
                stale += 1
    later = [r for r in runs if r.day >= 2]
    total, ideal = sum(r.total for r in later), sum(r.ideal for r in later)
    by_site = {site: round(sum(r.total for r in later if r.site == site)
                           / max(1, sum(r.ideal for r in later if r.site == site)), 3) for site in SITES}
    edit_rows = []
    for k, e in enumerate(edits):
        must = deadline(sites, e, steps)
        edit_rows.append({"site": e.site, "article": sites.articles[e.site][e.index].id,
                          "edited": iso(e.when),
                          "caught_day": caught.get(k), "deadline_day": must,
                          "within_one_step": k in caught and must is not None and caught[k] <= must})
    return {
        "ratio": round(total / ideal, 3) if ideal else None, "by_site": by_site,
        "requests": total, "ideal": ideal,
        "article_requests": sum(r.requests["article"] for r in later),
        "duplicates": duplicates, "missed": missed, "stale": stale,
        "edits": edit_rows,
        "runs": [{**asdict(r), "requests": dict(r.requests), "total": r.total} for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--steps", default=DEFAULT_STEPS,
                        help="NEWSCRAWL_RECHECK_STEPS (default %(default)s)")
    parser.add_argument("-s", dest="settings", action="append", default=[], help="another setting NAME=VALUE")
    parser.add_argument("--keep", type=Path, help="keep the archive and the overlays in this folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        result = simulate(root / "out", root / "mirror", days=args.days, steps=args.steps,
                          settings=tuple(args.settings), log=sys.stdout)
    print(f"\ndays 2–{args.days}: {result['requests']} requests, ideal {result['ideal']}: "
          f"{result['ratio']}× ({result['article_requests']} article pages); "
          f"by site {result['by_site']}; duplicates {result['duplicates']}, "
          f"missed {result['missed']}, stale {result['stale']}")
    for e in result["edits"]:
        print(f"  edit of {e['site']} {e['article']} at {e['edited']}: caught on day {e['caught_day']}, "
              f"due by day {e['deadline_day']}{'' if e['within_one_step'] else '  LATE'}")
    print(f"({time.monotonic() - started:.0f} s)")
    target = REPO / "benchmarks" / "out" / "simulation.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps({"steps": args.steps, "settings": args.settings, **result}, indent=1) + "\n",
                      encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
