"""An archive that checks itself: ``scrapy verify`` finds what disagrees with the state and
the WARC files, ``--repair`` restores it from the WARC files, a crawl refuses to start on a
damaged archive, and ``scrapy wacz`` killed mid-write leaves nothing at the final name.

Every test damages a copy of a real crawl of the mirror and compares what ``--repair``
restores with the undamaged copy, file for file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.crawl import REPO, crawl
from tests.mirror.demo import DEMO_CRAWLS, scrapy_command
from tests.mirror.server import MirrorServer, default_dirs

#: the capture index, in the site's folder
INDEX = "warc/captures.sqlite3"
#: the article Epoch Times retitles between day one and day two (version 2)
EDITED = "n13958996"


def scrapy(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args, "-s", f"NEWSCRAWL_OUTPUT_DIR={out}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def problems(proc: subprocess.CompletedProcess, spider: str) -> list[str]:
    """The lines naming a problem (not the summary)."""
    prefix = f"scrapy verify: {spider}: "
    return [line.removeprefix(prefix) for line in proc.stderr.splitlines()
            if line.startswith(prefix) and " — " not in line]


def files(out: Path, spider: str) -> dict[str, bytes]:
    """Every file of the spider's archive but the run reports and SQLite's shared-memory
    files (relative path → bytes)."""
    site = out / spider
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and p.parts[len(site.parts)] != "runs" and not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture(scope="module")
def pristine(demo_output):
    """The demo's archive, made once for the run (conftest): its DW crawl (every article one
    version, pictures kept); never changed (the tests damage a copy)."""
    return demo_output


@pytest.fixture(scope="module")
def edited(demo_output):
    """The demo's archive: Epoch Times on day one and day two, one article retitled (version
    2, a revision kept)."""
    assert (demo_output / "epochtimes" / "_revisions" / EDITED / "v1.md").is_file()
    return demo_output


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(pristine, out, symlinks=True)
    return out


def test_an_intact_archive_verifies_and_nothing_is_written(pristine, tmp_path):
    out = copy_of(pristine, tmp_path)
    before = contents(out)
    proc = scrapy(out, "verify", "dw")
    assert proc.returncode == 0, proc.stderr
    assert problems(proc, "dw") == []
    posts = len(list((out / "dw" / "_posts").glob("*.md")))
    lines = (out / "dw" / "articles.jsonl").read_bytes().count(b"\n")
    pictures = len(list((out / "dw" / "assets" / "img").glob("*/*")))
    assert f"ok — {posts} posts ({posts} compared with their JSON line), {lines} JSON lines" in proc.stderr
    assert f"{pictures} pictures" in proc.stderr and posts > 10 and pictures > 10
    assert contents(out) == before


def contents(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``out`` (its modification time and bytes) but the lock files and
    SQLite's shared-memory files (which a read-only reader of a WAL database leaves)."""
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*")
            if p.is_file() and "locks" not in p.parts and not p.name.endswith(("-wal", "-shm"))}


def first_post(out: Path, spider: str = "dw") -> Path:
    return sorted((out / spider / "_posts").glob("*.md"))[3]


def first_picture(out: Path, spider: str = "dw") -> Path:
    return sorted((out / spider / "assets" / "img").glob("*/*"))[2]


def damage(out: Path, what: str) -> str:
    """Damage the archive; returns what verify must say (a part of its line)."""
    site = out / "dw"
    jsonl = site / "articles.jsonl"
    if what == "deleted articles.jsonl":
        jsonl.unlink()
        return "articles.jsonl: missing"
    if what == "truncated articles.jsonl":  # an older backup restored: whole lines, fewer
        data = jsonl.read_bytes()
        jsonl.write_bytes(data[:data.index(b"\n", len(data) // 2) + 1])
        return "articles.jsonl: truncated"
    if what == "deleted post":
        post = first_post(out)
        post.unlink()
        return f"_posts/{post.name}: missing"
    if what == "edited post":
        post = first_post(out)
        post.write_text(post.read_text(encoding="utf-8").replace("。", "!", 1), encoding="utf-8")
        return f"_posts/{post.name}: its text differs"
    if what == "damaged picture":
        picture = first_picture(out)
        data = bytearray(picture.read_bytes())
        data[len(data) // 2] ^= 0xFF
        picture.write_bytes(bytes(data))
        return f"{picture.relative_to(site)}: its bytes do not hash to its SHA-256"
    if what == "deleted picture":
        picture = first_picture(out)
        picture.unlink()
        return f"{picture.relative_to(site)}: missing"
    raise AssertionError(what)


DAMAGES = ["deleted articles.jsonl", "truncated articles.jsonl", "deleted post", "edited post",
           "damaged picture", "deleted picture"]


@pytest.mark.parametrize("what", [pytest.param(w, marks=() if w == "deleted post" else pytest.mark.slow)
                                  for w in DAMAGES])  # one in make test, all six in make test-all
def test_damage_is_found_and_repaired_from_the_warc_files(pristine, tmp_path, what):
    out = copy_of(pristine, tmp_path)
    want = files(out, "dw")
    said = damage(out, what)
    damaged = files(out, "dw")
    found = scrapy(out, "verify", "dw")
    assert found.returncode == 1, found.stderr
    named = [line for line in problems(found, "dw") if said in line]
    assert len(named) == 1, found.stderr
    assert "problems — " in found.stderr
    assert files(out, "dw") == damaged  # read-only

    repaired = scrapy(out, "verify", "dw", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "still wrong" not in repaired.stderr
    assert "from the WARC files" in repaired.stderr
    got = files(out, "dw")
    assert not [p for p in out.iterdir() if p.name.startswith(".newscrawl-repair-")]
    jsonl = "articles.jsonl"
    if what.endswith("articles.jsonl"):
        # every line is back as it was; restored lines come in the order the rebuild wrote them
        assert Counter(got[jsonl].splitlines()) == Counter(want[jsonl].splitlines())
        if what.startswith("truncated"):
            assert got[jsonl].startswith(damaged[jsonl])
        assert "rewrote articles.jsonl" in repaired.stderr
        got.pop(jsonl), want.pop(jsonl)
    else:
        assert "rewrote" not in repaired.stderr
    # the capture index is derived: the reparse brings it up to date (under the spider's lock)
    got.pop(INDEX), want.pop(INDEX)
    assert got == want
    again = scrapy(out, "verify", "dw")
    assert again.returncode == 0 and problems(again, "dw") == [], again.stderr


def test_a_repaired_archive_crawls_on_without_writing_anything_again(pristine, tmp_path):
    out = copy_of(pristine, tmp_path)
    want = files(out, "dw")
    damage(out, "truncated articles.jsonl")
    assert scrapy(out, "verify", "dw", "--repair").returncode == 0
    with MirrorServer(default_dirs()) as server:
        again = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("newscrawl/items/new") == again.stat("newscrawl/items/updated") == 0
    got = {k: v for k, v in files(out, "dw").items() if not k.startswith("warc/")}  # a new WARC file
    want = {k: v for k, v in want.items() if not k.startswith("warc/")}
    assert Counter(got.pop("articles.jsonl").splitlines()) == Counter(want.pop("articles.jsonl").splitlines())
    assert got == want


@pytest.mark.parametrize("what", ["truncated articles.jsonl", "deleted articles.jsonl", "deleted post"])
def test_a_crawl_does_not_start_on_a_damaged_archive(pristine, tmp_path, what):
    out = copy_of(pristine, tmp_path)
    damage(out, what)
    damaged = files(out, "dw")
    with MirrorServer(default_dirs()) as server:
        cmd = scrapy_command("crawl", server.base_url, out, "dw", *DEMO_CRAWLS["dw"])
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert sum(server.hits.values()) == 0  # nothing fetched
    assert "Nothing was fetched" in proc.stderr
    assert "'scrapy verify dw --repair'" in proc.stderr
    assert "FAILED (archive_damaged (1x))" in proc.stderr
    assert files(out, "dw") == damaged
    [report] = sorted((out / "dw" / "runs").glob("*.json"))[-1:]
    assert json.loads(report.read_text(encoding="utf-8"))["stats"]["finish_reason"] == "archive_damaged"


def test_a_half_line_left_by_a_killed_write_still_is_cut_not_refused(pristine, tmp_path):
    """The start check reads whole lines: the torn tail a ``kill -9`` leaves is cut as before."""
    out = copy_of(pristine, tmp_path)
    jsonl = out / "dw" / "articles.jsonl"
    whole = jsonl.read_bytes()
    jsonl.write_bytes(whole + b'{"site": "dw", "id": "a-1", "ti')
    with MirrorServer(default_dirs()) as server:
        again = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
    assert again.returncode == 0, again.log[-3000:]
    assert "ended in half a line" in again.log
    assert jsonl.read_bytes() == whole


def test_lines_the_state_does_not_know_are_found(pristine, tmp_path):
    out = copy_of(pristine, tmp_path)
    jsonl = out / "dw" / "articles.jsonl"
    first = jsonl.read_bytes().split(b"\n")[0]
    stranger = json.loads(first) | {"id": "a-99999999"}
    with open(jsonl, "ab") as fh:
        fh.write(json.dumps(stranger, ensure_ascii=False).encode() + b"\n")
    found = scrapy(out, "verify", "dw")
    assert found.returncode == 1
    said = "a-99999999, an article the state does not know"
    assert [line for line in problems(found, "dw") if said in line]
    with MirrorServer(default_dirs()) as server:
        cmd = scrapy_command("crawl", server.base_url, out, "dw", *DEMO_CRAWLS["dw"])
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "the state is older than the JSON lines" in proc.stderr


def test_a_cut_warc_file_is_found_and_not_repaired(pristine, tmp_path):
    out = copy_of(pristine, tmp_path)
    [warc] = sorted((out / "dw" / "warc").glob("*.warc.gz"))
    warc.write_bytes(warc.read_bytes()[:1000])
    found = scrapy(out, "verify", "dw")
    assert found.returncode == 1
    said = f"WARC {warc.name}: 1000 bytes, shorter"
    assert [line for line in problems(found, "dw") if line.startswith(said)]


def test_a_deleted_revision_file_is_found_and_restored(edited, tmp_path):
    out = copy_of(edited, tmp_path)
    want = files(out, "epochtimes")
    assert scrapy(out, "verify", "epochtimes").returncode == 0
    (out / "epochtimes" / "_revisions" / EDITED / "v2.diff.md").unlink()
    found = scrapy(out, "verify", "epochtimes")
    assert found.returncode == 1
    assert problems(found, "epochtimes") == [
        f"_revisions/{EDITED}/v2.diff.md: missing ({EDITED} has version 2)"]
    repaired = scrapy(out, "verify", "epochtimes", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"restored _revisions/{EDITED}/v2.diff.md from the WARC files" in repaired.stderr
    got = files(out, "epochtimes")
    got.pop(INDEX), want.pop(INDEX)
    assert got == want


def test_the_deleted_post_of_an_edited_article_is_restored(edited, tmp_path):
    """Its latest version comes from the WARC files, its version and history from the state."""
    out = copy_of(edited, tmp_path)
    want = files(out, "epochtimes")
    post = next(p for p in (out / "epochtimes" / "_posts").glob("*.md")
                if f"id: {EDITED}" in p.read_text(encoding="utf-8"))
    post.unlink()
    repaired = scrapy(out, "verify", "epochtimes", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"restored _posts/{post.name} from the WARC files" in repaired.stderr
    got = files(out, "epochtimes")
    got.pop(INDEX), want.pop(INDEX)
    assert got == want


def test_repair_restores_every_version_of_an_edited_article(edited, tmp_path):
    """Its JSON lines, revision files and post, from a reparse that rebuilds every version."""
    out = copy_of(edited, tmp_path)
    want = files(out, "epochtimes")
    site = out / "epochtimes"
    (site / "articles.jsonl").unlink()
    for path in (site / "_revisions" / EDITED).iterdir():
        path.unlink()
    post = next(p for p in (site / "_posts").glob("*.md") if f"id: {EDITED}" in p.read_text(encoding="utf-8"))
    post.unlink()
    repaired = scrapy(out, "verify", "epochtimes", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    got = files(out, "epochtimes")
    assert Counter(got.pop("articles.jsonl").splitlines()) == Counter(want.pop("articles.jsonl").splitlines())
    got.pop(INDEX), want.pop(INDEX)
    assert got == want


@pytest.mark.skipif(importlib.util.find_spec("wacz") is None, reason="needs the wacz extra")
def test_wacz_killed_mid_write_leaves_no_file_at_the_final_name(pristine, tmp_path):
    out = copy_of(pristine, tmp_path)
    target = tmp_path / "bundle" / "dw.wacz"
    cmd = [sys.executable, "-m", "scrapy", "wacz", "dw", "-o", str(target),
           "-s", f"NEWSCRAWL_OUTPUT_DIR={out}"]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    temporary: list[Path] = []
    while not temporary and time.monotonic() < deadline and proc.poll() is None:
        temporary = list(target.parent.glob(".tmp-*.wacz")) if target.parent.exists() else []
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and the packager it runs
    proc.wait()
    assert temporary, "the WACZ was never being written"
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == [temporary[0].name]
    # the next run writes it whole, and removes what the killed one left
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in target.parent.iterdir()] == ["dw.wacz"]
    valid = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(target)],
                           capture_output=True, text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_a_failed_wacz_leaves_no_file(pristine, tmp_path):
    """A packager that fails (here: a WARC file the index knows is gone) leaves nothing
    behind (it used to leave a partial file at the final name)."""
    if importlib.util.find_spec("wacz") is None:
        pytest.skip("needs the wacz extra")
    out = copy_of(pristine, tmp_path)
    for warc in (out / "dw" / "warc").glob("*.warc.gz"):
        warc.unlink()
    target = tmp_path / "bundle" / "dw.wacz"
    done = scrapy(out, "wacz", "dw", "-o", str(target))
    assert done.returncode == 1 and "wacz create failed" in done.stderr
    assert list(target.parent.iterdir()) == []
