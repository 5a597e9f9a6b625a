"""The archive under crashes and faults: real ``scrapy crawl`` processes killed, disks filled,
folders made read-only, states lost, damaged or from the future.

After every fault, a normal run must leave exactly what a crawl without faults leaves: one
post and one JSON line per archived version of each article, no temporary file, a state
that agrees with the files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from newscrawl.archive import Archive, ArchiveError
from newscrawl.files import AppendOnlyLines, file_mode
from newscrawl.items import Article
from newscrawl.pictures import item_pictures
from newscrawl.pipelines import normalize_article
from newscrawl.state import SCHEMA_VERSION, ArticleStore, StateError
from tests.crash import CRASH_POINTS, crash_env
from tests.crawl import REPO
from tests.mirror.demo import scrapy_command
from tests.mirror.server import DAY_TWO, DEFAULT_SITES, Mirror, MirrorServer, default_dirs

SPIDER = "epochtimes"
SOURCES = ("-a", "tags=中美关系,半导体", "-a", "categories=nsc413", "-a", "feed=1")


def run(server: MirrorServer, out: Path, *extra: str, crash: str | None = None,
        spider: str = SPIDER, sources: tuple[str, ...] = SOURCES) -> subprocess.CompletedProcess:
    env = crash_env(crash)
    cmd = scrapy_command("crawl", server.base_url, out, spider, *sources, *extra, "-s", "LOG_LEVEL=INFO")
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def snapshot(out: Path, spider: str = SPIDER) -> dict:
    """What the archive holds, checked for consistency on the way.

    Returns post names, the (id, content hash) of every JSON line, and the state's rows.
    """
    posts_dir = out / spider / "_posts"
    leftovers = [p.name for p in posts_dir.iterdir() if not p.name.endswith(".md")]
    assert leftovers == [], f"temporary files left: {leftovers}"
    post_ids: dict[str, str] = {}
    for path in posts_dir.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        matter = yaml.safe_load(text[4:text.index("\n---\n", 3)])
        assert matter["id"] not in post_ids, f"two posts for {matter['id']}: {path.name}"
        post_ids[matter["id"]] = path.name
    raw = (out / spider / "articles.jsonl").read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "half a line at the end"
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    versions = Counter((line["id"], line["content_hash"]) for line in lines)
    assert [v for v, n in versions.items() if n > 1] == [], "a version written twice"
    db = sqlite3.connect(out / "state" / "newscrawl.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0, "unfinished writes in the journal"
    rows = {r[0]: r[1:] for r in db.execute(
        "SELECT id, post_path, content_hash, version FROM articles"
        " WHERE site = ? AND content_hash IS NOT NULL", (spider,))}
    db.close()
    per_id = Counter(line["id"] for line in lines)
    last = {line["id"]: line["content_hash"] for line in lines}
    # every picture a line names is whole under its name, and no temporary file is left
    pictures = out / spider / "assets" / "img"
    assert not [p.name for p in pictures.glob(".tmp-*")], "temporary picture files left"
    kept = {image["file"]["path"]: image["file"]["sha256"] for line in lines for image in item_pictures(line)
            if image.get("file")}
    for path, sha256 in kept.items():
        assert hashlib.sha256((out / spider / path).read_bytes()).hexdigest() == sha256, path
    assert set(rows) == set(post_ids) == set(per_id), "state, posts and JSON lines disagree on the articles"
    for article_id, (post_path, content_hash, version) in rows.items():
        assert post_ids[article_id] == post_path
        assert last[article_id] == content_hash
        assert per_id[article_id] == version
    return {"posts": sorted(post_ids.values()), "versions": sorted(versions), "rows": rows,
            "pictures": sorted(kept), "picture_files": sorted(p.name for p in pictures.glob("*/*"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Day one and day two of the Epoch Times mirror without any fault."""
    out = tmp_path_factory.mktemp("reference")
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        assert run(server, out).returncode == 0
        day_one = snapshot(out)
        server.load(default_dirs(DAY_TWO))
        assert run(server, out).returncode == 0
        day_two = snapshot(out)
    assert len(day_two["versions"]) == len(day_one["versions"]) + 4  # three new, one edited
    return day_one, day_two


def killed(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode == -signal.SIGKILL


#: the write point ``make test`` kills at (the journal written, the files not yet): the other
#: points are in the ``slow`` run (``make test-all``)
QUICK_POINT = "journaled"


@pytest.mark.parametrize("point", [pytest.param(p, marks=() if p == QUICK_POINT else pytest.mark.slow)
                                   for p in CRASH_POINTS])
def test_a_kill_at_each_write_point_loses_and_doubles_nothing(tmp_path, reference, point):
    day_one, day_two = reference
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        assert killed(run(server, tmp_path, crash=f"{point}:3"))
        again = run(server, tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]
        if point == "picture_temp":
            assert ".tmp-crash-picture, left by a crashed run" in again.stderr
        elif point not in ("committed", "picture_written"):
            assert "Finished the interrupted write" in again.stderr
        assert snapshot(tmp_path) == day_one
        server.load(default_dirs(DAY_TWO))
        assert killed(run(server, tmp_path, crash=f"{point}:2"))
        assert run(server, tmp_path).returncode == 0
        assert snapshot(tmp_path) == day_two


@pytest.mark.slow
def test_many_kills_at_random_points_then_a_normal_run(tmp_path, reference):
    """Twelve kills over two days of the site, at seeded random points and moments."""
    day_one, day_two = reference
    rng = random.Random(20261122)
    kills = 0
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        for day, want in ((DEFAULT_SITES, day_one), (DAY_TWO, day_two)):
            server.load(default_dirs(day))
            for _ in range(6):
                proc = run(server, tmp_path, crash=f"{rng.choice(CRASH_POINTS)}:{rng.randint(1, 3)}")
                kills += killed(proc)
                assert killed(proc) or proc.returncode == 0, proc.stderr[-3000:]
            assert run(server, tmp_path).returncode == 0
            assert snapshot(tmp_path) == want
    assert kills >= 6  # most runs still had enough left to write to be killed


def _slow_overlay(tmp_path: Path, delay: float) -> Path:
    """A mirror overlay that answers the Epoch Times article pages slowly."""
    base = default_dirs(("epochtimes",))[0]
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    slow = {url: {**route, "file": str(base / route["file"]), "delay": delay}
            for url, route in manifest.items() if route.get("file", "").startswith("pages/")}
    overlay = tmp_path / "slow-mirror"
    overlay.mkdir()
    (overlay / "manifest.json").write_text(json.dumps(slow, ensure_ascii=False), encoding="utf-8")
    return overlay


def test_sigterm_twice_loses_and_doubles_nothing(tmp_path, reference):
    day_one, _ = reference
    out = tmp_path / "out"
    dirs = [*default_dirs(DEFAULT_SITES), _slow_overlay(tmp_path, 0.3)]
    with MirrorServer(dirs) as server:
        cmd = scrapy_command("crawl", server.base_url, out, SPIDER, *SOURCES)
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        jsonl = out / SPIDER / "articles.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (jsonl.exists() and jsonl.read_bytes().count(b"\n") >= 3):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)  # the second one: Scrapy's forced, unclean shutdown
        _, err = proc.communicate(timeout=60)
        assert "forcing unclean shutdown" in err
        interrupted = snapshot(out)
        assert 3 <= len(interrupted["versions"]) < len(day_one["versions"])
        server.load(default_dirs(DEFAULT_SITES))
        assert run(server, out).returncode == 0
        assert snapshot(out) == day_one


# ---- full disk, read-only folders -------------------------------------------------------
@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    """A small file system of its own at ``where`` (needs root; the test skips without)."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield lambda options: subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_fails_the_run_and_the_next_run_with_room_writes_it_all(tmp_path, reference):
    day_one, _ = reference
    out = tmp_path / "out"
    # the WARC captures elsewhere: this is the archive's full disk (test_warc.py has the WARC's)
    warc = "-s", f"NEWSCRAWL_WARC_DIR={tmp_path / 'warc'}"
    with tmpfs(out / SPIDER, "48k") as remount, MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        full = run(server, out, *warc)
        assert full.returncode == 1, full.stderr[-3000:]
        assert "No space left on device" in full.stderr
        [summary] = [line for line in full.stderr.splitlines() if line.startswith("epochtimes: FAILED (")]
        assert "write (" in summary and " not written" in summary
        assert "Traceback" not in full.stderr
        jsonl = (out / SPIDER / "articles.jsonl").read_bytes()
        assert jsonl == b"" or jsonl.endswith(b"\n")  # no half line
        remount("size=10m")
        again = run(server, out, *warc)
        assert again.returncode == 0, again.stderr[-3000:]
        assert snapshot(out) == day_one


#: the lines a full disk under the state may log: which write of the state failed (once), an
#: article whose version could not be written (each), and that the archive's writes stop (once)
STATE_FULL = "cannot write the state"
NOT_ARCHIVED = "The article is not recorded as archived; the next run writes it."
ARCHIVE_STOPS = "Stopping the crawl: the archive cannot be written"


@pytest.mark.parametrize("size", ["200k", "400k"])
def test_a_full_disk_under_the_state_fails_the_run_in_one_line_and_loses_nothing(tmp_path, reference, size):
    """The state's own disk full. At 200 KB the first write that fails is the spider's: a
    listing's walk begun, or the articles a listing page links put in the frontier (with the
    page's validators, in one transaction), as the state's size falls. At 400 KB it is
    whichever comes first of a listing page's, a picture kept
    (the pictures pipeline) or a version's journal (the listed titles, which failed first
    here before, are recorded with the version now). One line says which write of the state
    failed and that the crawl stops, one more for each article whose version was under way
    (and one that the archive's writes stop), the run fails (write_failed) without a
    traceback, and the next run with room archives it all."""
    day_one, _ = reference
    out = tmp_path / "out"
    warc = "-s", f"NEWSCRAWL_WARC_DIR={tmp_path / 'warc'}"
    with tmpfs(out / "state", size) as remount, MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        full = run(server, out, *warc)
        assert full.returncode == 1, full.stderr[-3000:]
        assert "Traceback" not in full.stderr
        errors = [line for line in full.stderr.splitlines() if " ERROR: " in line]
        state = [line for line in errors if STATE_FULL in line]
        assert len([line for line in errors if line.endswith(ARCHIVE_STOPS)]) <= 1
        assert all(line in state or NOT_ARCHIVED in line or line.endswith(ARCHIVE_STOPS)
                   for line in errors), "\n".join(errors)
        if size == "200k":
            # the spider's: a listing's walk begun, or its page's articles in the frontier
            assert STATE_FULL in errors[0]
            assert "in the frontier)" in errors[0] or "(the walk of " in errors[0]
        for line in state[:1]:
            assert "disk is full" in line and "Stopping the crawl" in line
        assert len(state) <= 1 and (state or NOT_ARCHIVED in errors[0])
        assert "Closing spider (write_failed)" in full.stderr
        [summary] = [line for line in full.stderr.splitlines() if line.startswith("epochtimes: FAILED (")]
        assert ("state_write (" if state else "write (") in summary
        remount("size=10m")
        again = run(server, out, *warc)
        assert again.returncode == 0, again.stderr[-3000:]
        assert snapshot(out) == day_one


def test_a_read_only_posts_folder_fails_before_fetching_and_loses_nothing(tmp_path, reference):
    day_one, _ = reference
    out = tmp_path / "out"
    server = MirrorServer(default_dirs(DEFAULT_SITES))
    with tmpfs(out / SPIDER / "_posts", "10m") as remount, server:
        remount("ro")
        refused = run(server, out)
        assert refused.returncode == 1
        assert "Read-only file system" in refused.stderr and "Nothing was fetched" in refused.stderr
        assert sum(server.hits.values()) == 0
        assert not (out / SPIDER / "articles.jsonl").read_bytes()
        remount("rw")
        assert run(server, out).returncode == 0
        assert snapshot(out) == day_one


# ---- the state: lost, replaced, damaged, newer; two spiders at once ---------------------
def test_a_lost_state_stops_the_run_and_rebuild_state_restores_it(tmp_path, reference):
    day_one, _ = reference
    state = tmp_path / "state" / "newscrawl.sqlite3"
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        assert run(server, tmp_path).returncode == 0
        # a post goes missing too: rebuild-state writes it again from its JSON line
        missing = sorted((tmp_path / SPIDER / "_posts").glob("*.md"))[5]
        missing.unlink()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        hits = sum(server.hits.values())
        refused = run(server, tmp_path)
        assert refused.returncode == 1
        assert "does not know" in refused.stderr and "scrapy rebuild-state epochtimes" in refused.stderr
        assert sum(server.hits.values()) == hits  # nothing fetched
        assert snapshot_files(tmp_path) == (len(day_one["posts"]) - 1, len(day_one["versions"]))

        rebuilt = subprocess.run(scrapy_command("rebuild-state", server.base_url, tmp_path, SPIDER),
                                 cwd=REPO, capture_output=True, text=True, timeout=120)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "1 missing posts written again" in rebuilt.stderr
        assert snapshot(tmp_path) == day_one
        # each article's last line is found again (a next version's diff reads it back)
        store = ArticleStore(state)
        lines = (tmp_path / SPIDER / "articles.jsonl").read_bytes()
        for article_id in day_one["rows"]:
            known = store.get(SPIDER, article_id)
            assert json.loads(lines[known.line_offset:].split(b"\n", 1)[0])["id"] == article_id
            assert len(known.revisions) == known.version
        # and every kept picture is known again: a full re-crawl fetches none of them
        kept = {image["file"]["url"]: image["file"]["sha256"] for line in map(json.loads, lines.splitlines())
                for image in item_pictures(line) if image["file"]}
        assert kept and all(store.picture(SPIDER, url)[0] == sha for url, sha in kept.items())
        store.close()
        after = run(server, tmp_path)
        assert after.returncode == 0
        assert snapshot(tmp_path) == day_one  # nothing written again
        fetched = dict(server.hits)
        assert run(server, tmp_path, "-a", "full=1").returncode == 0
        assert all(server.hits[Mirror.key(url)] == fetched[Mirror.key(url)] for url in kept)
        assert snapshot(tmp_path) == day_one


def snapshot_files(out: Path) -> tuple[int, int]:
    posts = len(list((out / SPIDER / "_posts").glob("*.md")))
    return posts, len((out / SPIDER / "articles.jsonl").read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_state_stops_with_a_message_not_a_traceback(tmp_path, reference, damage):
    state = tmp_path / "state" / "newscrawl.sqlite3"
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        assert run(server, tmp_path).returncode == 0
        data = state.read_bytes()
        for suffix in ("-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        if damage == "garbage":
            state.write_bytes(b"this is not a database" * 100)
        else:  # the header survives, the pages do not
            state.write_bytes(data[:4096] + b"\0" * (len(data) - 4096))
        hits = sum(server.hits.values())
        refused = run(server, tmp_path)
        assert refused.returncode == 1
        assert "Traceback" not in refused.stderr
        assert "damaged" in refused.stderr
        assert sum(server.hits.values()) == hits
        rebuilt = subprocess.run(scrapy_command("rebuild-state", server.base_url, tmp_path, SPIDER),
                                 cwd=REPO, capture_output=True, text=True, timeout=120)
        assert rebuilt.returncode == 0 and "moved it aside" in rebuilt.stderr
        assert list(state.parent.glob("newscrawl.sqlite3.unusable-*"))
        assert run(server, tmp_path).returncode == 0
        assert snapshot(tmp_path) == reference[0]


def test_a_state_from_a_newer_newscrawl_is_not_used(tmp_path):
    state = tmp_path / "state" / "newscrawl.sqlite3"
    ArticleStore(state).close()
    db = sqlite3.connect(state)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.execute("ALTER TABLE articles ADD COLUMN from_the_future TEXT NOT NULL DEFAULT 'x'")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer newscrawl"):
        ArticleStore(state)
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        refused = run(server, tmp_path)
    assert refused.returncode == 1 and "newer newscrawl" in refused.stderr
    assert sum(server.hits.values()) == 0


def test_a_state_of_the_first_release_is_migrated(tmp_path):
    state = tmp_path / "newscrawl.sqlite3"
    db = sqlite3.connect(state)
    db.executescript("""
        CREATE TABLE articles (site TEXT NOT NULL, id TEXT NOT NULL, url TEXT, title TEXT, published TEXT,
            content_hash TEXT, post_path TEXT, first_seen TEXT NOT NULL, last_changed TEXT NOT NULL,
            PRIMARY KEY (site, id));
        CREATE UNIQUE INDEX articles_post_path ON articles (post_path);
        CREATE TABLE failures (site TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL,
            attempts INTEGER NOT NULL, last_tried TEXT NOT NULL, PRIMARY KEY (site, id));
        INSERT INTO articles VALUES ('dw', 'a-1', 'u', 't', '2023-01-01T00:00:00Z', 'h', 'p1.md', 'x', 'x');
        INSERT INTO articles VALUES ('epochtimes', 'n1', 'u', 't', '2023-01-01', 'h', 'p2.md', 'x', 'x');
    """)
    db.close()
    store = ArticleStore(state)
    assert store.get("dw", "a-1").version == 1 and store.get("dw", "a-1").post_path == "p1.md"
    assert store.get("epochtimes", "n1").listed_title is None
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_two_spiders_start_at_once_on_a_fresh_state(tmp_path):
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        cmds = [scrapy_command("crawl", server.base_url, tmp_path, "dw", "-a", "feed=1"),
                scrapy_command("crawl", server.base_url, tmp_path, SPIDER, *SOURCES)]
        procs = [subprocess.Popen(c, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for c in cmds]
        results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for code, err in results:
        assert code == 0, err[-3000:]
        assert "database is locked" not in err
    store = ArticleStore(tmp_path / "state" / "newscrawl.sqlite3")
    assert store.count("dw", complete=True) > 0 and store.count(SPIDER, complete=True) > 0


# ---- in-process: the writer's rules ------------------------------------------------------
def make_item(**overrides) -> Article:
    values = dict(site="dw", id="a-1", url="https://www.dw.com/zh/x/a-1", title="标题",
                  body_markdown="正文。", published="2023-10-31T14:28:57Z", source_name="德国之声",
                  lang="zh-Hans")
    values.update(overrides)
    return normalize_article(Article(**values))


def test_every_version_is_one_line_and_the_post_is_rewritten_in_place(archive: Archive):
    archive.write(make_item())
    archive.write(make_item(title="新标题", body_markdown="改过的正文。"))
    [post] = archive.posts_dir().glob("*.md")
    assert post.name == "2023-10-31-标题.md" and "改过的正文" in post.read_text(encoding="utf-8")
    lines = archive.jsonl_path().read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["标题", "新标题"]
    assert archive.state.known("a-1").version == 2


def test_files_get_the_permissions_of_the_umask(archive: Archive):
    old = os.umask(0o027)
    try:
        archive.write(make_item())
        [post] = archive.posts_dir().glob("*.md")
        assert post.stat().st_mode & 0o777 == 0o640 == file_mode()
    finally:
        os.umask(old)
    assert archive.jsonl_path().stat().st_mode & 0o777 in (0o644, 0o640)


def test_an_atomic_write_makes_its_folder_and_steps_over_a_stale_temporary_file(tmp_path, monkeypatch):
    """A killed process may have left ``.tmp-<pid>-<n>`` under this process's pid: the write
    takes the next name and leaves that file to the next opening's clean-up."""
    import itertools

    from newscrawl import files

    monkeypatch.setattr(files, "_temporary_names", itertools.count(7))
    folder = tmp_path / "new" / "folder"
    files.write_atomic(folder / "a.md", "第一\n")
    stale = folder / f"{files.TMP_PREFIX}{os.getpid()}-8"
    stale.write_text("left by a killed run", encoding="utf-8")
    files.write_atomic(folder / "a.md", "第二\n")
    assert (folder / "a.md").read_bytes() == "第二\n".encode()
    assert sorted(p.name for p in folder.iterdir()) == sorted(["a.md", stale.name])
    assert files.remove_temporary_files(folder) == [stale]
    with pytest.raises(UnicodeEncodeError):
        files.write_atomic(folder / "b.md", "\ud800")
    assert [p.name for p in folder.iterdir()] == ["a.md"]


def test_a_half_last_line_is_cut_back_on_open(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b'{"id": "a-1"}\n{"id": "a-2", "ti')
    lines = AppendOnlyLines(path)
    assert lines.repaired_bytes == len(b'{"id": "a-2", "ti')
    lines.append('{"id": "a-2"}')
    lines.close()
    assert path.read_bytes() == b'{"id": "a-1"}\n{"id": "a-2"}\n'


def test_a_second_run_of_the_spider_is_refused_by_its_lock(archive: Archive, tmp_path):
    from newscrawl.locks import Locked

    with pytest.raises(Locked):
        Archive(archive.output_dir, archive.state_path, "dw")


def test_a_post_of_this_spider_unknown_to_the_state_stops_the_archive(archive: Archive):
    archive.write(make_item())
    archive.close()
    state = archive.state_path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    with pytest.raises(ArchiveError, match="rebuild-state dw") as caught:
        Archive(archive.output_dir, state, "dw")
    assert caught.value.reason == "state_mismatch"


def test_a_clean_start_checks_only_what_changed_since_the_last_clean_close(tmp_path, monkeypatch):
    """After a clean close the next opening neither lists ``_posts/`` nor reads the JSON lines
    nor runs SQLite's quick_check: a state-only inconsistency planted behind its back (an
    archived article whose post never existed) goes unnoticed, while a deleted post, a cut
    ``articles.jsonl`` and a killed run (no clean close) each bring the full check back."""
    out, state = tmp_path / "out", tmp_path / "state" / "newscrawl.sqlite3"
    first = Archive(out, state, "dw")
    first.write(make_item())
    first.write(make_item(id="a-2", title="第二篇"))
    first.close()
    db = sqlite3.connect(state)
    with db:
        db.execute("INSERT INTO articles (site, id, post_path, content_hash, line_offset, first_seen,"
                   " last_changed) VALUES ('dw', 'a-ghost', '2020-01-01-ghost.md', 'h', 0, 'x', 'x')")
    db.close()
    full_checks = Counter()

    def counting(name: str):
        real = getattr(ArticleStore, name)

        def counted(self, *args):
            full_checks[name] += 1
            return real(self, *args)
        return counted

    for name in ("post_paths", "last_line", "_quick_check"):
        monkeypatch.setattr(ArticleStore, name, counting(name))

    cheap = Archive(out, state, "dw")  # the ghost's post is missing: not looked for
    assert cheap.unchanged and full_checks == Counter()
    cheap.write(make_item(id="a-3", title="第三篇"))
    cheap.close()
    cheap = Archive(out, state, "dw")  # its own writes were recorded at its clean close
    assert cheap.unchanged and full_checks == Counter()
    cheap.lock.release()  # killed: no clean close
    cheap.store.close()
    with pytest.raises(ArchiveError, match="ghost") as caught:
        Archive(out, state, "dw")
    assert caught.value.reason == "archive_damaged"
    assert full_checks == Counter(post_paths=1, _quick_check=1)

    with sqlite3.connect(state) as db:  # the ghost gone, a clean close again
        db.execute("DELETE FROM articles WHERE id = 'a-ghost'")
    Archive(out, state, "dw").close()
    full_checks.clear()
    posts = out / "dw" / "_posts"
    [post, *_] = sorted(posts.glob("*.md"))
    saved = post.read_bytes()
    post.unlink()
    with pytest.raises(ArchiveError, match="posts the state knows are missing") as caught:
        Archive(out, state, "dw")
    assert caught.value.reason == "archive_damaged" and full_checks["post_paths"] == 1
    post.write_bytes(saved)
    Archive(out, state, "dw").close()

    jsonl = out / "dw" / "articles.jsonl"
    data = jsonl.read_bytes()
    jsonl.write_bytes(data[:data.rindex(b"\n", 0, len(data) - 1) + 1])  # the last line cut off
    with pytest.raises(ArchiveError, match="truncated or replaced") as caught:
        Archive(out, state, "dw")
    assert caught.value.reason == "archive_damaged"


def test_rebuild_state_from_the_files_keeps_versions_the_newer_duplicate_and_writes_missing_posts(tmp_path):
    """``rebuild`` (streamed through scratch tables): an article's two lines make version 2
    at its last line's offset; of two posts for one id the newer is kept; a post gone is
    written again from its last line."""
    from newscrawl.archive import ArchiveFiles
    from newscrawl.rebuild import rebuild

    out, state = tmp_path / "out", tmp_path / "state" / "newscrawl.sqlite3"
    archive = Archive(out, state, "dw")
    archive.write(make_item())
    archive.write(make_item(title="新标题", body_markdown="改过的正文。"))
    archive.write(make_item(id="a-2", title="第二篇"))
    archive.write(make_item(id="a-3", title="第三篇"))
    archive.close()
    posts = out / "dw" / "_posts"
    known = ArticleStore(state)
    first, second, third = (posts / known.get("dw", i).post_path for i in ("a-1", "a-2", "a-3"))
    known.close()
    copy = posts / "2023-10-31-copy.md"
    copy.write_bytes(second.read_bytes())
    os.utime(second, (1, 1))  # the older of a-2's two posts
    third.unlink()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    store = ArticleStore(state)
    said: list[str] = []
    counts = rebuild(ArchiveFiles(out, state, "dw"), store, out=type("Out", (), {"write": said.append})())
    assert counts["articles"] == 3 and counts["lines"] == 4 and counts["duplicate_posts"] == 1
    assert counts["posts_rewritten"] == 1 and "keeping 2023-10-31-copy.md" in "".join(said)
    lines = (out / "dw" / "articles.jsonl").read_bytes()
    one = store.get("dw", "a-1")
    assert one.version == 2 and len(one.revisions) == 2 and one.post_path == first.name
    assert json.loads(lines[one.line_offset:].split(b"\n", 1)[0])["title"] == "新标题"
    assert store.get("dw", "a-2").post_path == copy.name
    rewritten = store.get("dw", "a-3").post_path
    assert "第三篇" in (posts / rewritten).read_text(encoding="utf-8")
    store.close()
