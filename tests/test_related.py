"""The same story elsewhere (newscrawl.related): near-duplicates found at archive time.

The similarity on fixtures of our own (tests/related_texts.py: a wire story, its rewrite by
the other site, a traditional-script twin, two other stories on the same topic, short
notices), the index through the archive (persisted, shared by the sites' archives, edits),
and real Scrapy runs of both spiders, at once, over the mirror's pair of related articles
(DW's a-68200112 and the Epoch Times' n13951506 tell the same story), read back from the
JSON lines, the posts and the built site.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from newscrawl import related
from newscrawl.archive import Archive, ArchiveFiles
from newscrawl.items import Article
from newscrawl.pipelines import normalize_article
from newscrawl.rebuild import rebuild
from newscrawl.related import SAME_TEXT, folded, jaccard, shingles
from newscrawl.state import ArticleStore
from tests.crawl import REPO, CrawlResult, crawl
from tests.mirror.server import MirrorServer, default_dirs
from tests.related_texts import (
    AFTERMATH,
    FOLLOW_UP,
    OTHER_STORM,
    RETOLD,
    REWRITE,
    SHORT,
    SHORT_TWIN,
    TWIN,
    WIRE,
)

DW_URL = "https://www.dw.com/zh/德国联邦议院通过电子处方推广法案/a-68200112"
ET_URL = "https://www.epochtimes.com/gb/23/3/3/n13951506.htm"
#: a DW article of the mirror on another subject
OTHER_DW_URL = "https://www.dw.com/zh/欧盟就关键原材料供应链新规达成一致/a-68200101"


def similarity(a: dict, b: dict) -> float:
    return jaccard(shingles(folded(a)), shingles(folded(b)))


# ---- the similarity ---------------------------------------------------------------------

def test_folding_drops_script_punctuation_spacing_figures_and_link_targets():
    assert folded(TWIN) == folded(WIRE)  # traditional, 「」 and Taiwan variants: the same text
    text = folded({"title": "Ａ台风，「海燕」！", "lead": "導語",
                   "body_markdown": "![图](https://x.example/a.jpg)\n*图 · 来源*\n\n正文 [链接](https://y.example/b)"})
    assert text == "a台风海燕导语正文链接"  # a figure (picture, caption, credit) is each site's own


@pytest.mark.parametrize(("other", "low", "high"), [
    (TWIN, 1.0, 1.0),     # the /b5/ twin: the same text once folded
    (REWRITE, 0.8, 0.9),  # its own headline, the lead edited, a dateline and a picture: 0.86
    (RETOLD, 0.7, 0.8),   # that, with a sentence cut and two phrases reworded: 0.76
])
def test_the_same_story_elsewhere_scores_well_above_the_threshold(other, low, high):
    assert SAME_TEXT < low <= similarity(WIRE, other) <= high


@pytest.mark.parametrize("other", [AFTERMATH, OTHER_STORM])
def test_other_stories_on_the_same_topic_score_near_zero(other):
    """Same typhoon, same city, same mayor, same weather words: not the same text."""
    for story in (WIRE, REWRITE, TWIN):
        assert similarity(story, other) < 0.05
    assert similarity(AFTERMATH, OTHER_STORM) < 0.05


def test_a_follow_up_quoting_the_story_is_well_under_the_threshold():
    """Two of the wire story's five paragraphs quoted as background: 0.21, the closest pair
    of different stories measured; the follow-up is the same story as the one it extends."""
    assert 0.15 < similarity(WIRE, FOLLOW_UP) < 0.25 < SAME_TEXT
    assert similarity(AFTERMATH, FOLLOW_UP) > SAME_TEXT


def test_short_texts_are_not_compared():
    assert len(folded(SHORT)) < related.MIN_CHARS and shingles(folded(SHORT)).size == 0
    assert similarity(SHORT, SHORT_TWIN) == 0.0


def test_the_bands_make_a_pair_at_the_threshold_a_candidate_almost_surely():
    def candidate(j: float) -> float:
        return 1 - (1 - j ** related.ROWS) ** related.BANDS

    assert candidate(SAME_TEXT) > 0.98 and candidate(0.7) > 0.9999 and candidate(0.05) < 0.01
    # the rewrite's signature shares bands with the wire story's; the other stories' do not
    bands = set(related.band_hashes(related.signature(shingles(folded(WIRE)))))
    assert bands & set(related.band_hashes(related.signature(shingles(folded(REWRITE)))))
    assert not bands & set(related.band_hashes(related.signature(shingles(folded(AFTERMATH)))))


def test_signing_loads_datasketchs_minhash_without_scipy_and_signs_as_datasketch_does():
    """The first article signed imports datasketch's MinHash modules, not its whole package
    (scipy with it: 0.8 s of CPU a run), nor numpy.random and numpy.ma (3.7 MB resident: the
    permutations are drawn by the standard library's twister, the 5-grams made unique without
    np.unique); a later ``import datasketch`` still works whole; the signature is
    datasketch's MinHash of the 5-grams' hashes, which stay what they were (the index's bands
    are only comparable with one hashing), with datasketch's own permutations."""
    code = (
        "import sys\n"
        "from newscrawl.related import NUM_PERM, SCHEME, SEED, _permutations, jaccard, shingles, signature\n"
        "grams = shingles('台风海燕七号周二登陆' * 12)\n"
        "sig = signature(grams)\n"
        "assert jaccard(grams, shingles('台风海燕七号周二登陆' * 11)) == 1.0\n"
        "assert 'scipy' not in sys.modules and 'datasketch' not in sys.modules\n"
        "assert 'numpy.random' not in sys.modules and 'numpy.ma' not in sys.modules\n"
        "import datasketch\n"
        "m = datasketch.MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda h: h)\n"
        "assert (m.permutations == _permutations()).all() and SCHEME == m.scheme\n"
        "m.update_batch([int(h) for h in grams])\n"
        "assert (datasketch.LeanMinHash(m).hashvalues == sig.hashvalues).all()\n"
        "assert isinstance(sig, datasketch.LeanMinHash) and datasketch.MinHashLSH\n"
        "print(grams.size, ' '.join(map(str, grams[:3])), sig.hashvalues[0])\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == GOLDEN_SIGNING, result.stderr[-2000:]


#: the 10 distinct 5-grams of the text above, its first three hashes and its first MinHash value
GOLDEN_SIGNING = "10 93479992 285884078 326441645 322020966"


def test_five_grams_hash_each_once_and_compare_as_sets():
    text = folded(WIRE)
    grams = shingles(text)
    assert grams.size == len({text[i:i + related.SHINGLE] for i in range(len(text) - related.SHINGLE + 1)})
    assert list(grams) == sorted(set(grams.tolist()))
    assert jaccard(grams, grams) == 1.0 and jaccard(grams, shingles("")) == 0.0
    half = shingles(text[:len(text) // 2])
    assert jaccard(grams, half) == pytest.approx(half.size / grams.size)


def test_an_index_of_schema_8_is_signed_again_at_the_next_open_keeping_its_relations(tmp_path):
    """Schema 8's signatures (SHA-1 of each 5-gram) are made again with the 5-grams' hashes by
    the first archive opened after the migration, every site's; the relations stay, and the
    index finds the same story again."""
    out, state = tmp_path / "out", tmp_path / "out" / "state" / "newscrawl.sqlite3"
    dw = Archive(out, state, "dw")
    dw.write(item("dw", "a-1", WIRE))
    dw.close()
    et = Archive(out, state, "epochtimes")
    et.write(item("epochtimes", "n1", REWRITE))
    et.close()
    want = {row[0]: row[1:] for row in sqlite3.connect(state).execute(
        "SELECT id, signature, cluster, related FROM related_articles")}
    bands = set(sqlite3.connect(state).execute("SELECT * FROM related_bands"))
    db = sqlite3.connect(state)
    with db:  # as schema 8 left it: other signatures, their bands
        db.execute("DROP TABLE related_resign")
        db.execute("UPDATE related_articles SET signature = ?", (want["n1"][0],))
        db.execute("DELETE FROM related_bands WHERE id = 'a-1'")
        db.execute("PRAGMA user_version = 8")
    db.close()
    et = Archive(out, state, "epochtimes")  # migrates, and signs every site's articles again
    db = et.store.db
    assert db.execute("SELECT count(*) FROM related_resign").fetchone()[0] == 0
    assert {row[0]: row[1:] for row in db.execute(
        "SELECT id, signature, cluster, related FROM related_articles")} == want
    assert set(db.execute("SELECT * FROM related_bands")) == bands
    et.write(item("epochtimes", "n2", TWIN, lang="zh-Hant"))
    assert line_of(et, "n2")["related"] == ["dw/a-1", "epochtimes/n1"]
    et.close()


# ---- through the archive ----------------------------------------------------------------

def item(site: str, article_id: str, text: dict, **more) -> Article:
    url = (f"https://www.dw.com/zh/x/{article_id}" if site == "dw"
           else f"https://www.epochtimes.com/gb/26/12/8/{article_id}.htm")
    values = dict(site=site, id=article_id, url=url, published="2026-12-08T02:00:00Z",
                  source_name={"dw": "德国之声", "epochtimes": "大纪元"}[site], lang="zh-Hans", **text)
    values.update(more)
    return normalize_article(Article(**values))


def line_of(archive: Archive, article_id: str) -> dict:
    lines = [json.loads(x) for x in archive.jsonl_path().read_text(encoding="utf-8").splitlines()]
    return [x for x in lines if x["id"] == article_id][-1]


def front_matter(archive: Archive, article_id: str) -> dict:
    known = archive.store.get(archive.site, article_id)
    text = (archive.posts_dir() / known.post_path).read_text(encoding="utf-8")
    return yaml.safe_load(text[4:text.index("\n---\n", 4)])


@pytest.fixture
def two_sites(tmp_path):
    out, state = tmp_path / "out", tmp_path / "out" / "state" / "newscrawl.sqlite3"
    dw, et = Archive(out, state, "dw"), Archive(out, state, "epochtimes")
    yield dw, et
    dw.close()
    et.close()


def test_the_archive_links_the_same_story_across_sites_and_nothing_else(two_sites):
    dw, et = two_sites
    dw.write(item("dw", "a-1", WIRE))
    et.write(item("epochtimes", "n1", REWRITE))
    et.write(item("epochtimes", "n2", TWIN, lang="zh-Hant"))
    for article_id, text in (("n3", AFTERMATH), ("n4", OTHER_STORM), ("n5", SHORT), ("n6", RETOLD),
                             ("n7", FOLLOW_UP)):
        et.write(item("epochtimes", article_id, text))
    dw.write(item("dw", "a-2", SHORT_TWIN))

    first = line_of(dw, "a-1")
    assert (first["cluster"], first["related"]) == ("dw/a-1", [])  # nothing to relate to yet
    assert line_of(et, "n1")["cluster"] == "dw/a-1" and line_of(et, "n1")["related"] == ["dw/a-1"]
    twin = line_of(et, "n2")
    assert twin["cluster"] == "dw/a-1" and twin["related"] == ["dw/a-1", "epochtimes/n1"]  # most alike first
    for article_id in ("n3", "n4", "n5"):
        alone = line_of(et, article_id)
        assert alone["related"] == [] and alone["cluster"] == f"epochtimes/{article_id}"
    # the retold story: the rewrite it was made from first (0.89), then the wire text and its twin
    retold = line_of(et, "n6")
    assert retold["related"] == ["epochtimes/n1", "dw/a-1", "epochtimes/n2"] and retold["cluster"] == "dw/a-1"
    # the follow-up: the story it extends, not the one it quotes
    follow_up = line_of(et, "n7")
    assert follow_up["related"] == ["epochtimes/n3"] and follow_up["cluster"] == "epochtimes/n3"
    assert line_of(dw, "a-2")["related"] == []
    # the post's front matter names them; a post without related articles says nothing
    assert front_matter(et, "n2")["related"] == ["dw/a-1", "epochtimes/n1"]
    assert front_matter(et, "n2")["cluster"] == "dw/a-1"
    assert "related" not in front_matter(et, "n3") and "cluster" not in front_matter(dw, "a-1")
    # short texts are not indexed at all
    db = et.store.db
    assert db.execute("SELECT count(*) FROM related_articles WHERE id IN ('n5', 'a-2')").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM related_bands").fetchone()[0] == 7 * related.BANDS


def test_a_candidate_met_by_chance_is_left_out_by_its_signature_without_reading_its_text(two_sites):
    """A band shared by chance (another story): the signatures' estimate leaves the candidate
    out before its archived text is read and folded; a real twin is still verified."""
    dw, et = two_sites
    dw.write(item("dw", "a-1", WIRE))
    et.write(item("epochtimes", "n4", OTHER_STORM))
    db = et.store.db
    # the other story's first band collides with the wire story's: a candidate by chance
    grams = shingles(folded(item("epochtimes", "n9", OTHER_STORM)))
    band, value = related.band_hashes(related.signature(grams))[0]
    with db:
        db.execute("INSERT INTO related_bands (band, hash, site, id) VALUES (?, ?, 'dw', 'a-1')",
                   (band, value))
    index = et.related
    read: list[str] = []
    original = index._archived_text

    def reading(site, article_id, *at):
        read.append(article_id)
        return original(site, article_id, *at)

    index._archived_text = reading
    et.write(item("epochtimes", "n9", OTHER_STORM))
    assert (index.verified, index.estimated_out, read) == (1, 1, ["n4"])  # n4: the same text, verified
    assert line_of(et, "n9")["related"] == ["epochtimes/n4"]
    et.write(item("epochtimes", "n2", TWIN, lang="zh-Hant"))
    assert read[-1] == "a-1" and line_of(et, "n2")["related"] == ["dw/a-1"]


def test_the_old_article_shows_what_was_found_later_without_a_new_version(two_sites, tmp_path):
    dw, et = two_sites
    dw.write(item("dw", "a-1", WIRE))
    et.write(item("epochtimes", "n1", REWRITE))
    et.write(item("epochtimes", "n3", AFTERMATH))
    assert dw.store.get("dw", "a-1").version == 1  # a-1 was not written again
    links = related.site_links(dw.state_path)
    old = links["https://www.dw.com/zh/x/a-1"]
    assert [(x["key"], x["title"], x["source"], x["url"]) for x in old] == [
        ("epochtimes/n1", REWRITE["title"], "大纪元", "https://www.epochtimes.com/gb/26/12/8/n1.htm")]
    assert old[0]["path"].startswith("/epochtimes/2026/12/08/")
    assert [x["key"] for x in links["https://www.epochtimes.com/gb/26/12/8/n1.htm"]] == ["dw/a-1"]
    assert not any("n3" in url for url in links)
    assert related.write_site_data(dw.state_path, tmp_path / "_data") == 2
    assert json.loads((tmp_path / "_data" / "related.json").read_text(encoding="utf-8")) == links


def test_the_index_persists_across_runs_and_an_edit_replaces_the_signature(tmp_path):
    out, state = tmp_path / "out", tmp_path / "out" / "state" / "newscrawl.sqlite3"
    dw = Archive(out, state, "dw")
    dw.write(item("dw", "a-1", WIRE))
    dw.close()
    et = Archive(out, state, "epochtimes")  # another run, another spider: nothing loaded at start
    et.write(item("epochtimes", "n1", REWRITE))
    assert line_of(et, "n1")["related"] == ["dw/a-1"]
    before = set(et.store.db.execute("SELECT band, hash FROM related_bands WHERE id = 'n1'"))
    # the Epoch Times replaces the text by another story: a new version, a new signature
    et.write(item("epochtimes", "n1", AFTERMATH))
    edited = line_of(et, "n1")
    assert edited["version"] == 2 and edited["related"] == [] and edited["cluster"] == "epochtimes/n1"
    after = set(et.store.db.execute("SELECT band, hash FROM related_bands WHERE id = 'n1'"))
    assert len(after) == related.BANDS and not before & after
    assert related.site_links(state) == {}  # the relation is gone from both sides
    # a re-check that finds the same text (a trivial change) keeps the post's relations
    et.write(item("epochtimes", "n1", REWRITE))
    et.checked(item("epochtimes", "n1", REWRITE, title=REWRITE["title"] + " "), trivial=True)
    assert front_matter(et, "n1")["related"] == ["dw/a-1"]
    et.close()


def test_rebuild_state_indexes_the_last_lines_again(tmp_path):
    """A lost state rebuilt from the posts and JSON lines (``scrapy rebuild-state``) has the
    index again: the relations the lines recorded, and signatures a new article meets."""
    out, state = tmp_path / "out", tmp_path / "out" / "state" / "newscrawl.sqlite3"
    dw, et = Archive(out, state, "dw"), Archive(out, state, "epochtimes")
    dw.write(item("dw", "a-1", WIRE))
    et.write(item("epochtimes", "n1", REWRITE))
    et.write(item("epochtimes", "n3", AFTERMATH))
    links = related.site_links(state)
    dw.close()
    et.close()
    for path in state.parent.glob("newscrawl.sqlite3*"):
        path.unlink()
    store = ArticleStore(state)
    for site in ("dw", "epochtimes"):
        rebuild(ArchiveFiles(out, state, site), store, out=sys.stdout)
    store.close()
    assert related.site_links(state) == links
    et = Archive(out, state, "epochtimes")
    et.write(item("epochtimes", "n2", TWIN))
    assert line_of(et, "n2")["related"] == ["dw/a-1", "epochtimes/n1"]
    et.close()


def test_the_index_is_locked_across_spiders_from_lookup_to_commit(two_sites):
    """DW and the Epoch Times run as separate processes: a write waits for the index's lock
    (held here by another process for a second), so it sees what the other recorded."""
    dw, et = two_sites
    dw.write(item("dw", "a-1", WIRE))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; fh = open(sys.argv[1], 'a'); "
         "fcntl.flock(fh, fcntl.LOCK_EX); print('held', flush=True); time.sleep(1)",
         str(dw.related.lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        et.write(item("epochtimes", "n1", REWRITE))
        waited = time.monotonic() - started
    finally:
        holder.wait(10)
    assert waited > 0.5 and line_of(et, "n1")["related"] == ["dw/a-1"]


# ---- real crawls over the mirror ------------------------------------------------------------

@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> tuple[Path, CrawlResult, CrawlResult]:
    """Both spiders at once over the mirror, each given the article of the shared story and
    one other; the same output and state."""
    out = tmp_path_factory.mktemp("related") / "out"
    results: dict[str, CrawlResult] = {}
    with MirrorServer(default_dirs()) as server:
        runs = [threading.Thread(target=lambda s=spider, u=urls: results.__setitem__(
                    s, crawl(s, server.base_url, out, "-a", "urls=" + ",".join(u))))
                for spider, urls in (("dw", [DW_URL, OTHER_DW_URL]), ("epochtimes", [ET_URL]))]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
    assert results["dw"].returncode == 0, results["dw"].log[-3000:]
    assert results["epochtimes"].returncode == 0, results["epochtimes"].log[-3000:]
    return out, results["dw"], results["epochtimes"]


def test_two_spiders_at_once_link_the_shared_story_both_ways(crawled):
    out, dw, et = crawled
    lines = {f"{x['site']}/{x['id']}": x for x in dw.jsonl("dw") + et.jsonl("epochtimes")}
    assert set(lines) == {"dw/a-68200112", "dw/a-68200101", "epochtimes/n13951506"}
    shared = lines["dw/a-68200112"], lines["epochtimes/n13951506"]
    # whichever was archived second names the first; both are in its cluster
    later, earlier = sorted(shared, key=lambda x: len(x["related"]), reverse=True)
    assert later["related"] == [f"{earlier['site']}/{earlier['id']}"] and earlier["related"] == []
    assert later["cluster"] == earlier["cluster"] == f"{earlier['site']}/{earlier['id']}"
    assert lines["dw/a-68200101"]["related"] == []
    assert similarity(*shared) >= SAME_TEXT
    posts = {m["id"]: m for m, _ in [*dw.posts("dw").values(), *et.posts("epochtimes").values()]}
    assert posts[later["id"]]["related"] == later["related"] and "related" not in posts[earlier["id"]]
    links = related.site_links(out / "state" / "newscrawl.sqlite3")
    # keyed by the URL the post's front matter calls ``from`` (the JSON line's url)
    assert {u: [x["key"] for x in v] for u, v in links.items()} == {
        shared[0]["url"]: ["epochtimes/n13951506"], shared[1]["url"]: ["dw/a-68200112"]}
    assert posts["a-68200112"]["from"] == shared[0]["url"]


def test_the_built_site_shows_the_other_source_on_both_pages(crawled, tmp_path):
    if shutil.which("jekyll") is None:
        pytest.skip("jekyll is not installed (apt-get install jekyll)")
    out = crawled[0]
    dest = tmp_path / "_site"
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(out),
                             "--dest", str(dest)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    links = related.site_links(out / "state" / "newscrawl.sqlite3")
    for url, others in links.items():
        [here] = [link for o in links.values() for link in o if link["url"] == url]
        # the percent-encoded path → the file Jekyll wrote
        page = dest / unquote(here["path"]).strip("/") / "index.html"
        html = page.read_text(encoding="utf-8")
        section = html[html.index("其他来源的报道"):]
        [other] = others
        target = dest / unquote(other["path"]).strip("/") / "index.html"
        assert target.is_file()  # the link leads to the other article's page of this site
        assert f'href="{other["path"]}"' in section and other["title"] in section
        assert f'href="{other["url"]}"' in section
    other_page = next(p for p in (dest / "dw").rglob("index.html") if "关键原材料" in p.parent.name)
    assert "其他来源的报道" not in other_page.read_text(encoding="utf-8")
    with sqlite3.connect(out / "state" / "newscrawl.sqlite3") as db:  # the build only read the state
        assert db.execute("SELECT count(*) FROM related_articles").fetchone()[0] == 3
