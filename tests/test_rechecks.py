"""Re-checks whose cost does not grow with the archive: settled articles, the audit, signals.

An Epoch Times archive of old articles (generated copies of a mirror page, published months
before the simulated days; plus the feed's ten), re-crawled daily with nothing new, on
article pages whose sidebar changes every day (``MirrorServer.day``: a re-check is a whole
page, never a 304). Past the last step of the schedule an article is settled: only a signal
or the audit (``NEWSCRAWL_AUDIT_BUDGET`` a run, oldest-checked first, each at most once a
last step; ``-a recheck=all`` the whole archive, resumable) fetches it again. So runs cost
the same article requests at two archive sizes; an edit of an old article is caught by the
audit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newscrawl.crawling.incremental import rechecks
from newscrawl.schedule import Schedule, iso, parse_steps
from newscrawl.state import ArticleStore
from tests.crawl import CrawlResult, crawl
from tests.mirror.server import ARTICLE_PAGE, DEFAULT_SITES, MIRROR_ROOT, MirrorServer, default_dirs

ET = MIRROR_ROOT / "epochtimes"
TEMPLATE_ID, TEMPLATE_FILE = "13954402", "pages/n13954402-gb.html"
TEMPLATE_TITLE = "美国半导体行业报告：对华销售占比连续下降"
TEMPLATE_SENTENCE = "报告显示，美国企业在东南亚和印度的销售增长较快"
#: day 0 of the simulation: the articles (published 2023-03-07 and before) are months old
DAY0 = datetime(2023, 6, 1, 6, 0, tzinfo=UTC)
FEED = ("-a", "feed=1")


def clock(day: int) -> str:
    return iso(DAY0 + timedelta(days=day))


def old_articles(directory: Path, count: int, first: int = 0) -> list[str]:
    """A mirror overlay of ``count`` old Epoch Times articles (copies of one mirror page under
    other ids and titles); their URLs."""
    template = (ET / TEMPLATE_FILE).read_text(encoding="utf-8")
    assert template.count(TEMPLATE_TITLE) >= 3 and TEMPLATE_ID in template
    (directory / "pages").mkdir(parents=True, exist_ok=True)
    manifest, urls = {}, []
    for k in range(first, first + count):
        article_id = f"2{k:07d}"
        page = template.replace(TEMPLATE_ID, article_id)
        page = page.replace(TEMPLATE_TITLE, f"{TEMPLATE_TITLE}（之{k + 1}）")
        file = f"pages/n{article_id}-gb.html"
        (directory / file).write_text(page, encoding="utf-8")
        url = f"https://www.epochtimes.com/gb/23/3/7/n{article_id}.htm"
        manifest[url] = {"file": file, "content_type": "text/html; charset=utf-8"}
        urls.append(url)
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return urls


def article_hits(server: MirrorServer) -> int:
    """Requests the mirror saw for article pages."""
    return sum(n for url, n in server.hits.items() if ARTICLE_PAGE.search(urlsplit(url).path))


class Simulation:
    """One archive re-crawled on simulated days against the mirror (with the day's sidebars)."""

    def __init__(self, server: MirrorServer, out: Path, dirs: list[Path]):
        self.server, self.out, self.dirs = server, out, dirs

    def run(self, day: int, *args: str, dirs: list[Path] | None = None) -> tuple[CrawlResult, int]:
        """A crawl on ``day``: its result and the article pages the mirror served it."""
        self.server.load(dirs or self.dirs)
        self.server.day = day
        self.server.hits.clear()
        result = crawl("epochtimes", self.server.base_url, self.out, *args,
                       "-s", f"NEWSCRAWL_CLOCK={clock(day)}")
        return result, article_hits(self.server)


def archive_of(server: MirrorServer, tmp: Path, size: int) -> Simulation:
    """An archive of ``size`` old articles and the feed's, crawled on day 0."""
    pages = tmp / f"old-{size}"
    urls = old_articles(pages, size)
    sim = Simulation(server, tmp / f"out-{size}", [*default_dirs(DEFAULT_SITES), pages])
    first, _ = sim.run(0, *FEED, "-a", f"urls={','.join(urls)}")
    assert first.returncode == 0, first.log[-3000:]
    assert first.stat("newscrawl/items/new") == size + 10  # and the feed's ten
    return sim


def state(sim: Simulation) -> ArticleStore:
    return ArticleStore(sim.out / "state" / "newscrawl.sqlite3")


# ---- the schedule and the state, without a crawl -----------------------------------------

def test_past_the_last_step_an_article_is_settled():
    schedule = Schedule(parse_steps("1h,6h,1d,3d,7d,30d"), DAY0)
    published = DAY0 - timedelta(days=10)
    assert schedule.next_check(published, DAY0, changed=False) == published + timedelta(days=30)
    assert schedule.next_check(published, published + timedelta(days=30), changed=False) is None
    assert schedule.next_check(DAY0 - timedelta(days=200), DAY0, changed=False) is None
    # a new version pulls the next re-check close again, at any age
    assert schedule.next_check(DAY0 - timedelta(days=200), DAY0, changed=True) == DAY0 + timedelta(hours=1)
    assert not schedule.due(None) and schedule.due(DAY0) and not schedule.due(DAY0 + timedelta(seconds=1))
    assert schedule.audit_before() == DAY0 - timedelta(days=30)


def settled_rows(store: ArticleStore, rows: list[tuple[str, str | None, str | None]]) -> None:
    """Archived articles ``(id, last_checked, next_check)`` of the site ``s``."""
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO articles (site, id, url, content_hash, post_path, first_seen, last_changed,"
            " last_checked, next_check) VALUES ('s', ?, 'https://x/' || ?, 'h', ? || '.md', '', '', ?, ?)",
            [(i, i, i, checked, next_check) for i, checked, next_check in rows])


def test_unchanged_rechecks_are_written_in_batches_before_any_other_statement(tmp_path, monkeypatch):
    """A 304's re-check waits for the next batch; another process (a kill's survivor) sees
    the article as it was, still due. Any statement of the crawl's own on the state writes
    the batch first, a trivial change is written at once, and a full batch by itself."""
    import sqlite3

    from newscrawl import state

    monkeypatch.setattr(state, "CHECKS_SECONDS", 1e9)  # batches end by their size (a slow machine)
    path = tmp_path / "state.sqlite3"
    store = ArticleStore(path)
    settled_rows(store, [(f"a{k:03d}", "2023-01-01T00:00:00Z", "2023-06-01T00:00:00Z")
                         for k in range(state.CHECKS_BATCH + 4)])
    store.frontier_add("s", "a000", "https://x/a000", None)
    other = sqlite3.connect(path)

    def next_checks() -> dict[str, str | None]:
        return dict(other.execute("SELECT id, next_check FROM articles WHERE site = 's'").fetchall())

    store.checked("s", "a000", last_checked="2023-06-02T00:00:00Z", next_check="2024-06-02T00:00:00Z",
                  validators={"urls": ["https://x/a000"], "etag": '"v2"'})
    store.checked("s", "a001", last_checked="2023-06-02T00:00:00Z", next_check=None)
    assert next_checks()["a000"] == next_checks()["a001"] == "2023-06-01T00:00:00Z"  # killed now: still due
    assert other.execute("SELECT count(*) FROM frontier").fetchone()[0] == 1
    known = store.get("s", "a000")  # the crawl's own read: the batch is written first
    assert known is not None and known.next_check == "2024-06-02T00:00:00Z"
    assert next_checks()["a000"] == "2024-06-02T00:00:00Z" and next_checks()["a001"] is None
    assert other.execute("SELECT count(*) FROM frontier").fetchone()[0] == 0
    assert other.execute("SELECT etag FROM validators WHERE url = 'https://x/a000'").fetchone()[0] == '"v2"'
    store.checked("s", "a002", last_checked="2023-06-03T00:00:00Z", next_check=None, exact_hash="e2")
    assert next_checks()["a002"] is None  # a trivial change (its post refreshed): at once
    for k in range(3, state.CHECKS_BATCH + 4):
        assert next_checks()[f"a{k:03d}"] == "2023-06-01T00:00:00Z"  # not one written before its batch
        store.checked("s", f"a{k:03d}", last_checked="2023-06-03T00:00:00Z", next_check=None)
    assert next_checks()[f"a{state.CHECKS_BATCH + 2:03d}"] is None  # the batch's last filled it
    assert next_checks()[f"a{state.CHECKS_BATCH + 3:03d}"] == "2023-06-01T00:00:00Z"
    store.close()  # and closing writes the rest
    assert set(next_checks().values()) == {None, "2024-06-02T00:00:00Z"}
    other.close()

def test_the_audit_takes_settled_articles_oldest_checked_first(tmp_path):
    store = ArticleStore(tmp_path / "state.sqlite3")
    settled_rows(store, [("a", "2023-05-01T00:00:00Z", None), ("b", "2023-04-01T00:00:00Z", None),
                         ("c", None, None), ("d", "2023-05-20T00:00:00Z", None),
                         ("e", "2023-04-01T00:00:00Z", "2023-07-01T00:00:00Z")])  # e: scheduled
    # checked before 05-10 and settled, never-checked first, then the oldest
    assert [r[0] for r in store.settled_unchecked("s", "2023-05-10T00:00:00Z", 10)] == ["c", "b", "a"]
    assert [r[0] for r in store.settled_unchecked("s", "2023-05-10T00:00:00Z", 2)] == ["c", "b"]


def test_the_audit_of_the_whole_archive_pages_through_it_and_is_remembered(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = ArticleStore(path)
    settled_rows(store, [(f"a{k:03d}", f"2023-05-{1 + k % 28:02d}T00:00:00Z", None) for k in range(250)])
    started = store.audit_started("s", "2023-06-01T00:00:00Z")
    assert store.audit_started("s", "2023-06-02T00:00:00Z") == started  # one audit under way
    seen, key = [], ("", "")
    while batch := store.audit_left("s", started, key, 100):
        seen += [r[0] for r in batch]
        key = (batch[-1][3], batch[-1][0])
    assert sorted(seen) == [f"a{k:03d}" for k in range(250)] and len(seen) == 250
    checked = [r[3] for r in store.audit_left("s", started, ("", ""), 250)]
    assert checked == sorted(checked)  # oldest-checked first
    store.checked("s", "a000", last_checked="2023-06-01T00:00:00Z", next_check=None)
    assert store.audit_count("s", started) == 249  # checked since the audit began: done
    store.close()
    reopened = ArticleStore(path)  # a later run continues the same audit
    assert reopened.audit_started("s", "2023-06-05T00:00:00Z") == started
    reopened.audit_finished("s")
    assert reopened.audit_started("s", "2023-06-05T00:00:00Z") == "2023-06-05T00:00:00Z"


def test_a_sitemap_lastmod_after_the_last_check_fetches_a_settled_article(archive):
    """A settled article (archived years after its publication) is not fetched when a source
    links it — unless a sitemap's ``lastmod`` for it is later than its last check."""
    from newscrawl.crawling.incremental import KNOWN_SKIPPED, SITEMAP_LASTMOD, IncrementalPolicy
    from newscrawl.items import Article
    from newscrawl.pipelines import normalize_article
    from newscrawl.sites.base import Link
    from newscrawl.sites.dw import SITE

    url = "https://www.dw.com/zh/x/a-9"
    archive.write(normalize_article(Article(
        site="dw", id="a-9", url=url, title="标题", published="2023-10-31T14:28:57Z",
        body_markdown="第一段，内容。", source_name="德国之声", lang="zh-Hans")))
    known = archive.state.known("a-9")
    assert known.next_check is None and known.last_checked  # settled at once: years old
    checked = datetime.fromisoformat(known.last_checked.replace("Z", "+00:00"))
    policy = IncrementalPolicy(archive, SITE)
    assert policy.decide("a-9", Link(url, "标题")) == policy.decide("a-9", Link(url)) \
        == policy.decide("a-9", Link(url, "标题", lastmod=iso(checked - timedelta(days=1)))) \
        == policy.decide("a-9", Link(url, lastmod="not a date")) != policy.decide("a-9", Link(url, "新标题"))
    assert policy.decide("a-9", Link(url)).why == KNOWN_SKIPPED
    later = policy.decide("a-9", Link(url, "标题", lastmod=iso(checked + timedelta(minutes=5))))
    assert later.fetch and later.why == SITEMAP_LASTMOD


# ---- crawls --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mirror():
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        yield server


@pytest.fixture(scope="module")
def archives(mirror, tmp_path_factory):
    """Archives of 10 and 50 old articles (and the feed's 10), re-crawled on days 1 and 30."""
    tmp = tmp_path_factory.mktemp("rechecks")
    days = {}
    for size in (10, 50):
        sim = archive_of(mirror, tmp, size)
        days[size] = (sim, {day: sim.run(day, *FEED, "-s", "NEWSCRAWL_AUDIT_BUDGET=5") for day in (1, 30)})
    return days


def test_a_nothing_new_run_costs_the_same_at_two_archive_sizes(archives):
    for size, (_, days) in archives.items():
        (day1, hits1), (day30, hits30) = days[1], days[30]
        assert day1.returncode == 0 and day30.returncode == 0, day30.log[-3000:]
        # the day after: every article settled (months old), nothing fetched
        assert (day1.stat("newscrawl/requests/article"), hits1) == (0, 0), size
        # a month later, when every article was re-checked before: the audit budget alone
        assert (day30.stat("newscrawl/requests/article"), hits30) == (5, 5), size
        assert day30.stat("newscrawl/incremental/recheck_due") == 0
        assert day30.report["rechecks"] == {"audit": 5} == rechecks(day30.stats)
        assert day30.log.splitlines()[-1].startswith("epochtimes: ok — 0 archived (0 new, 0 updated), ")
        assert "5 re-checked (audit 5)" in day30.log.splitlines()[-1]
        # the sidebar changed since day 0: whole pages, parsed and found unchanged
        assert day30.stat("newscrawl/conditional/not_modified") == 1  # the feed
        assert day30.stat("newscrawl/items/unchanged") == 5


def test_the_audit_takes_the_oldest_checked_and_moves_them_to_the_back(archives):
    sim, _ = archives[50]
    store = state(sim)
    rows = store.db.execute("SELECT last_checked, next_check FROM articles WHERE site = 'epochtimes'"
                            " AND content_hash IS NOT NULL").fetchall()
    assert Counter(rows) == {(clock(0), None): 55, (clock(30), None): 5}


def test_an_edit_of_an_old_article_is_caught_by_the_audit(archives, tmp_path):
    sim, _ = archives[10]
    edited = tmp_path / "edited"
    [url] = old_articles(edited, 1, first=3)  # the fourth of the old articles
    page = edited / "pages" / "n20000003-gb.html"
    text = page.read_text(encoding="utf-8")
    assert TEMPLATE_SENTENCE in text
    page.write_text(text.replace(TEMPLATE_SENTENCE, "（更新）" + TEMPLATE_SENTENCE, 1), encoding="utf-8")
    dirs = [*sim.dirs, edited]
    # the per-run audit reaches it: oldest-checked first, five a run (the feed's ten and the
    # first old ones were audited on day 30; checked on day 0: the rest, in id order)
    found = None
    for day in (31, 32):
        result, hits = sim.run(day, *FEED, "-s", "NEWSCRAWL_AUDIT_BUDGET=5", dirs=dirs)
        assert result.returncode == 0 and hits == result.stat("newscrawl/incremental/audited") == 5
        if result.stat("newscrawl/items/updated"):
            found = day
    assert found == 32
    versions = [json.loads(x) for x in (sim.out / "epochtimes/articles.jsonl").read_text(encoding="utf-8")
                .splitlines() if json.loads(x)["url"] == url]
    assert [v["version"] for v in versions] == [1, 2] and "（更新）" in versions[1]["body_markdown"]


def test_recheck_all_audits_the_whole_archive_and_a_stopped_audit_is_continued(archives):
    sim, _ = archives[50]
    archived = 60
    # stopped part-way (a page count limit): the audit stays under way in the state
    stopped, hits = sim.run(40, *FEED, "-a", "recheck=all", "-s", "CLOSESPIDER_PAGECOUNT=12")
    assert stopped.report["finish_reason"] == "closespider_pagecount"
    store = state(sim)
    [(started,)] = store.db.execute("SELECT started FROM audits WHERE site = 'epochtimes'").fetchall()
    assert started == clock(40)
    left = store.audit_count("epochtimes", started)
    checked_first = archived - left
    assert 0 < checked_first < archived and stopped.stat("newscrawl/incremental/audited") >= checked_first
    store.close()
    # the next recheck=all (a day later) goes on with what is left, not from the start (the
    # pages the stopped run had asked for are in its frontier: known, settled, so left to the
    # audit, which asks for them with the rest)
    rest, hits = sim.run(41, *FEED, "-a", "recheck=all")
    assert rest.returncode == 0, rest.log[-3000:]
    assert rest.stat("newscrawl/incremental/audited") == left == hits
    assert rest.report["rechecks"] == {"audit": left}
    assert "Audit of the whole archive: every article asked for" in rest.log
    store = state(sim)
    assert store.db.execute("SELECT COUNT(*) FROM audits").fetchone()[0] == 0  # over
    assert store.audit_count("epochtimes", clock(41)) == checked_first  # the rest: checked on day 40
    # a nothing-new run after it: no audit left, the budget finds nothing due (all checked lately)
    after, hits = sim.run(42, *FEED)
    assert (after.stat("newscrawl/requests/article"), hits) == (0, 0)


# ---- a month of daily runs --------------------------------------------------------------

def month(mirror: MirrorServer, tmp: Path, size: int, days: int = 30) -> tuple[int, int, Counter]:
    """An archive of ``size`` old articles re-crawled daily for ``days`` days with nothing new:
    the article requests of the month (the spider's count, the mirror's), re-checks by why."""
    sim = archive_of(mirror, tmp, size)
    requested = served = 0
    why: Counter[str] = Counter()
    for day in range(1, days + 1):
        result, hits = sim.run(day, *FEED)
        assert result.returncode == 0, result.log[-3000:]
        assert not result.stat("newscrawl/items/new") and not result.stat("newscrawl/items/updated")
        requested += result.stat("newscrawl/requests/article")
        served += hits
        why.update(result.report["rechecks"])
    return requested, served, why


@pytest.mark.slow
def test_a_month_of_daily_runs_costs_the_same_at_40_and_400_articles(mirror, tmp_path):
    """30 simulated days of nothing-new daily runs (the default audit budget, 20): the same
    article requests at 40 and at 400 old articles — the audit's 20 on the day the first
    ones have gone a last step (30 days) unchecked — where every article used to be
    re-checked once a month (50 and 410 requests)."""
    small = month(mirror, tmp_path, 40)
    large = month(mirror, tmp_path, 400)
    assert small == large == (20, 20, Counter({"audit": 20}))


def test_article_pages_change_their_sidebar_daily_but_not_their_article():
    """What the month's re-checks cost: the sidebar makes a 304 impossible."""
    url = "https://www.epochtimes.com/gb/23/3/7/n13954402.htm"
    from tests.mirror.server import with_sidebar

    body = (ET / TEMPLATE_FILE).read_bytes()
    days = [with_sidebar(body, url, day) for day in (1, 2, 3)]
    assert len(set(days)) == 3 and all(b"\xe7\x83\xad\xe9\x97\xa8\xe6\x96\xb0\xe9\x97\xbb" in d for d in days)
    assert re.search(rb'<ol class="hot_list">(.*?)</ol>', days[0]).group(1) != \
        re.search(rb'<ol class="hot_list">(.*?)</ol>', days[1]).group(1)
