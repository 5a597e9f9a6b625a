"""``make site``: the archive as a website; Jekyll renders the posts, the project the rest.

``python -m newscrawl.website [--output output] [--dest <output>/_site] [--full] [--base-url URL]``
stages the skeleton (``deploy/jekyll-site/``: layouts, style sheet) and the posts of every
``<output>/<spider>/_posts/`` in a folder, adds one permalink rule per spider folder
(``/<spider>/<year>/<month>/<day>/<file name>/``) and runs Jekyll on it as ``jekyll build --safe``
does (no plugins, no symbolic links), from ``newscrawl/jekyll_build.rb`` (Jekyll loaded once for
every run of posts, and one of its quadratic steps made linear). Jekyll renders the posts and
nothing that lists them: the listing pages (:mod:`newscrawl.listings`: front page, archive by
month, tags, galleries, one source's articles — each page bounded in size) and the Atom feeds
(:mod:`newscrawl.atom`) are written here in one pass over the posts, so the build grows
linearly with the archive.

**Incremental.** The build keeps a manifest beside the destination
(``<dest>/../.<dest name>.manifest.json``): for each post its file's stat and hash, what the
listings need of its front matter, and the URL and date Jekyll gave it; for each written page
its hash. The next build reads only the posts whose file changed, has Jekyll render only those
(in a scratch folder; their pages are moved into place), removes the pages of posts that are
gone, and writes only the listing pages and feeds whose text changed. A changed skeleton (a
layout, the style sheet), a changed ``--base-url``, a new spider folder, a missing destination
or manifest, or ``--full`` make a full build. A post's page therefore depends on the post
and on the site's data files only (``site.data``), never on other posts (``site.posts``).

Every version of an edited article is a page of its own (``/<spider>/revisions/<id>/v<N>/``,
staged from ``_revisions/`` by :mod:`newscrawl.website_versions`, rendered in the first run of
every build) and each post links its neighbours through ``_data/neighbours.json`` (a post whose
neighbours changed is rendered again). Then the posts are indexed for the search page
(:mod:`newscrawl.website_search`; when a post page changed; skipped, saying so, without
pagefind). Only the posts, their versions and the pictures they show (``<spider>/assets/img/``,
served at ``/<spider>/assets/img/``) are published: not the state, the JSON lines, the run
reports, WARC files or logs. Without jekyll on the PATH it says so and exits 0 (skipped); a
failed build exits with Jekyll's status (1), or Pagefind's.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from newscrawl import related, website_search
from newscrawl.atom import Change, articles_feed, changes_feed, read_change
from newscrawl.listings import (
    SAFE_FOLDER,
    SHELL_MAIN,
    SHELL_TITLE,
    Entry,
    Post,
    fill_shell,
    listing_pages,
    read_post,
    tag_url,
)
from newscrawl.pictures import PICTURE_PATH, PICTURES_DIR
from newscrawl.website_versions import stage_versions, write_neighbours

SKELETON = Path("deploy/jekyll-site")
#: the manifest's format; another one makes a full build
MANIFEST_FORMAT = 1
#: posts per Jekyll run: a post's page depends on the post alone, so a full build renders the
#: posts in runs of this many (a run of 2,000 holds ~95 MiB), ``--jobs`` Ruby processes at a time
CHUNK = 2000
#: runs Jekyll (``--safe``) over the staged runs in one Ruby process, with Jekyll 4.3's
#: quadratic ``Site#each_site_file`` replaced (see the file), and lists the posts each built
DRIVER = Path(__file__).with_name("jekyll_build.rb")
#: the page the build adds to the staging folder, read back and removed after Jekyll: the
#: layout around a listing page
SHELL_PAGE = "newscrawl-shell.html"
_SHELL = f"---\nlayout: default\ntitle: \"{SHELL_TITLE}\"\npermalink: /{SHELL_PAGE}\n---\n{SHELL_MAIN}\n"


def spider_folders(output: Path) -> list[Path]:
    """The folders of ``output`` that hold posts (``<spider>/_posts``), by name."""
    return sorted(p.parent for p in output.glob("*/_posts") if p.is_dir())


def manifest_path(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.manifest.json"


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileExistsError:
        target.unlink()
        _link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def skeleton_digest(skeleton: Path) -> str:
    """The skeleton's files, names and contents: a change makes a full build."""
    h = hashlib.sha1()
    for path in sorted(p for p in skeleton.rglob("*") if p.is_file()):
        h.update(path.relative_to(skeleton).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def scan_posts(output: Path, known: dict[str, dict]) -> dict[str, dict]:
    """Every post of ``output`` (``<spider>/_posts/<name>.md`` → record): a file whose size and
    modification time are those in ``known`` keeps its record; any other is read (its hash, and
    its front matter by :func:`newscrawl.listings.read_post`)."""
    records = {}
    for folder in spider_folders(output):
        with os.scandir(folder / "_posts") as found:
            for item in found:
                if not item.name.endswith(".md") or not item.is_file():
                    continue
                path = f"{folder.name}/_posts/{item.name}"
                st = item.stat()
                stat = [st.st_size, st.st_mtime_ns]
                old = known.get(path)
                if old and old.get("stat") == stat:
                    records[path] = old
                    continue
                data = Path(item.path).read_bytes()
                digest = _digest(data)
                if old and old.get("sha") == digest:  # touched, not changed
                    records[path] = {**old, "stat": stat}
                    continue
                post = read_post(path, data.decode("utf-8", "replace"))
                records[path] = {"stat": stat, "sha": digest, "post": post.as_json() if post else None}
    return records


def scan_changes(output: Path, known: dict[str, dict]) -> dict[str, dict]:
    """Every new version of an edited article (``<spider>/_revisions/<id>/v<N>.diff.md`` →
    record), read again only when its file changed."""
    records = {}
    for folder in spider_folders(output):
        for diff in folder.glob("_revisions/*/v*.diff.md"):
            path = diff.relative_to(output).as_posix()
            st = diff.stat()
            stat = [st.st_size, st.st_mtime_ns]
            if path in known and known[path].get("stat") == stat:
                records[path] = known[path]
                continue
            version = diff.name[1:-len(".diff.md")]
            text = diff.read_text(encoding="utf-8", errors="replace")
            change = read_change(folder.name, diff.parent.name, int(version), text) \
                if version.isdigit() else None
            records[path] = {"stat": stat, "change": change.__dict__ if change else None}
    return records


def stage(output: Path, skeleton: Path, staging: Path, posts: list[str] | None = None,
          tags: dict[str, str] | None = None, base_url: str | None = None,
          sources: dict[str, str] | None = None) -> list[str]:
    """Fill ``staging`` for Jekyll: the skeleton, the posts (``posts``: those paths only; all
    by default; hard links where possible), the tag URLs the posts link
    (``_data/newscrawl_tags.json``), the feeds every page links (``sources``: spider folder →
    source name, their titles), the shell page; returns the spider folders."""
    shutil.copytree(skeleton, staging, dirs_exist_ok=True)
    spiders = [folder.name for folder in spider_folders(output)]
    for name in spiders:
        (staging / name / "_posts").mkdir(parents=True, exist_ok=True)
    if posts is None:
        posts = [f"{name}/_posts/{post.name}" for name in spiders
                 for post in (output / name / "_posts").glob("*.md")]
    for path in posts:
        _link(output / path, staging / path)
    rules = "".join(f'  - scope: {{ path: "{name}", type: posts }}\n'
                    f'    values: {{ layout: post, permalink: "/{name}/:year/:month/:day/:title/" }}\n'
                    for name in spiders)
    # the feeds every page links in its <head>
    feeds = "".join(f'  - {{ href: "/{name}/feed.xml", name: {json.dumps(source)} }}\n'
                    f'  - {{ href: "/{name}/changes.xml", name: {json.dumps(source + "：修订")} }}\n'
                    for name in spiders for source in [(sources or {}).get(name) or name])
    config = ("# written by newscrawl.website: one permalink rule per spider folder, the feeds\n"
              f"defaults:\n{rules or '  []'}\nnewscrawl_feeds:\n{feeds or '  []'}\n")
    if base_url:
        config += f"url: {json.dumps(base_url.rstrip('/'))}\n"
    (staging / "_config.spiders.yml").write_text(config, encoding="utf-8")
    (staging / "_data").mkdir(exist_ok=True)
    (staging / "_data" / "newscrawl_tags.json").write_text(json.dumps(tags or {}, ensure_ascii=False),
                                                           encoding="utf-8")
    (staging / SHELL_PAGE).write_text(_SHELL, encoding="utf-8")
    return spiders


def source_names(records: dict[str, dict]) -> dict[str, str]:
    """Spider folder → the name most of its posts give their source (德国之声)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records.values():
        if r.get("post"):
            counts[r["post"]["spider"]][r["post"]["source"]] += 1
    return {spider: c.most_common(1)[0][0] for spider, c in sorted(counts.items())}


def stage_jekyll(output: Path, skeleton: Path, staging: Path) -> list[str]:
    """The staging folder of a plain Jekyll build of every post (``benchmarks/site.py``)."""
    return stage(output, skeleton, staging)


def sync_pictures(output: Path, dest: Path) -> int:
    """Link every kept picture (whole files only: a killed crawl's ``.tmp-*`` files stay out)
    that ``dest`` lacks; returns how many."""
    added = 0
    for folder in spider_folders(output):
        for picture in (folder / PICTURES_DIR).glob("[0-9a-f][0-9a-f]/*"):
            path = picture.relative_to(folder)
            target = dest / folder.name / path
            if PICTURE_PATH.match(path.as_posix()) and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                _link(picture, target)
                added += 1
    return added


def _page_file(root: Path, url: str) -> Path:
    return root / unquote(url).strip("/") / "index.html"


def ruby_of(jekyll: str) -> str:
    """The Ruby that runs ``jekyll`` (its ``#!`` line; else ``ruby`` on the PATH)."""
    try:
        with open(jekyll, "rb") as script:
            first = script.readline(200).decode("utf-8", "replace")
    except OSError:
        first = ""
    if first.startswith("#!") and "ruby" in first:
        words = first[2:].split()
        if words and words[0].endswith("/env") and len(words) > 1:
            return shutil.which(words[1]) or words[1]
        if words:
            return words[0]
    return shutil.which("ruby") or "ruby"


def _render_chunks(output: Path, skeleton: Path, jekyll: str, chunks: list[list[str]], tmp: Path,
                   jobs: int, versions: Path, around: dict[str, Any], post_urls: dict[str, str],
                   **staged: Any) -> tuple[int, list[tuple[Path, dict[str, tuple[str, str]]]]]:
    """Jekyll on each chunk of posts, staged alone with the data files of ``versions``, the
    neighbours of its own posts (``around``: post URL → ``{previous, next}``; ``post_urls``: post
    path → URL; a run reads those only, so a run's cost does not grow with the archive) and, in
    the first chunk, the revision pages of ``versions``: ``jobs`` Ruby processes
    (:data:`DRIVER`), each building its share of the chunks in turn. The exit status (the first
    failure's) and per chunk the folder it built and what Jekyll said of each post."""
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")  # Chinese file names and text
    runs: list[list[str]] = [[] for _ in range(max(1, min(jobs, len(chunks))))]
    sites = []
    for n, chunk in enumerate(chunks):
        staging, site = tmp / f"src-{n}", tmp / f"site-{n}"
        stage(output, skeleton, staging, chunk, **staged)
        for path in versions.rglob("*"):
            if path.is_file() and (n == 0 or path.parent.name == "_data"):
                target = staging / path.relative_to(versions)
                target.parent.mkdir(parents=True, exist_ok=True)
                _link(path, target)
        write_neighbours(staging, {url: around[url] for url in map(post_urls.get, chunk) if url in around})
        runs[n % len(runs)] += [str(staging), str(site), str(tmp / f"posts-{n}.tsv")]
        sites.append(site)
    running = [subprocess.Popen([ruby_of(jekyll), str(DRIVER), *run], env=env) for run in runs]
    status = 0
    for proc in running:
        status = proc.wait() or status
    if status != 0:
        return status, []
    return 0, [(site, _built(tmp / f"posts-{n}.tsv")) for n, site in enumerate(sites)]


def _merge_tree(source: Path, dest: Path) -> None:
    """Move ``source``'s files into ``dest`` (the same relative paths), those whose bytes differ."""
    for path in source.rglob("*"):
        if path.is_file():
            target = dest / path.relative_to(source)
            if target.is_file() and filecmp.cmp(path, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)


def _built(listed: Path) -> dict[str, tuple[str, str]]:
    """Jekyll's list of the posts it built (written by :data:`DRIVER`): path → (URL, date)."""
    built = {}
    for line in listed.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            built[parts[0]] = (parts[1], parts[2])
    return built


def _write_if_changed(dest: Path, relative: str, text: str, written: dict[str, str],
                      before: dict[str, str]) -> bool:
    data = text.encode("utf-8")
    digest = _digest(data)
    written[relative] = digest
    target = dest / relative
    if before.get(relative) == digest and target.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return True


def _remove_page(dest: Path, relative: str) -> None:
    target = dest / relative
    target.unlink(missing_ok=True)
    folder = target.parent
    while folder != dest and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _site_settings(skeleton: Path) -> dict[str, Any]:
    import yaml

    settings = yaml.safe_load((skeleton / "_config.yml").read_text(encoding="utf-8"))
    return settings if isinstance(settings, dict) else {}


def build(output: Path, dest: Path, skeleton: Path = SKELETON, jekyll: str | None = None,
          full: bool = False, base_url: str | None = None, jobs: int | None = None,
          search: bool = True, state: Path | None = None) -> int:
    """Build (or bring up to date) the site of ``output`` in ``dest``; the exit status (0 also
    when skipped). ``state``: the state database the related articles come from
    (``<output>/state/newscrawl.sqlite3`` by default)."""
    jekyll = jekyll or shutil.which("jekyll")
    jobs = jobs or min(4, os.cpu_count() or 1)
    if jekyll is None:
        print("make site: jekyll is not installed (Debian: apt-get install jekyll): site not built",
              file=sys.stderr)
        return 0
    if not (skeleton / "_config.yml").is_file():
        print(f"make site: no site skeleton in {skeleton} (run from the repository root)", file=sys.stderr)
        return 2
    settings = _site_settings(skeleton)
    base_url = base_url or settings.get("url") or None
    spiders = [folder.name for folder in spider_folders(output)]
    if not spiders:
        print(f"make site: no posts in {output}/<spider>/_posts/ (crawl first)", file=sys.stderr)
    mpath = manifest_path(dest)
    manifest: dict[str, Any] = {}
    if not full and dest.is_dir() and mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except ValueError:
            manifest = {}
    if not isinstance(manifest.get("shape"), dict) or manifest["shape"].get("format") != MANIFEST_FORMAT:
        manifest = {}
    known_posts: dict[str, dict] = manifest.get("posts", {})
    records = scan_posts(output, known_posts)
    sources = source_names(records)
    shape = {"format": MANIFEST_FORMAT, "skeleton": skeleton_digest(skeleton), "base_url": base_url,
             "spiders": spiders, "sources": sources}
    if manifest.get("shape") != shape:  # what every page shows changed: all pages again
        manifest, full, known_posts = {}, True, {}
        records = {path: {k: v for k, v in r.items() if k not in ("url", "date")}
                   for path, r in records.items()}
    changes = scan_changes(output, manifest.get("changes", {}))
    tags = {tag: tag_url(tag) for r in records.values() if r["post"] for tag in r["post"]["topics"]}
    rendered = 0
    shell: str = manifest.get("shell") or ""
    with tempfile.TemporaryDirectory(prefix="newscrawl-site-") as tmp:
        # the revision pages and the neighbours of every post (newscrawl.website_versions)
        versions = Path(tmp) / "versions"
        versions.mkdir()
        staged = [stage_versions(folder, versions) for folder in spider_folders(output)]
        around = {url: a for one in staged for url, a in one["neighbours"].items()}
        post_urls = {path: url for one in staged for path, url in one["urls"].items()}
        neighbours = {url: _digest(json.dumps(v, sort_keys=True).encode()) for url, v in around.items()}
        known_neighbours: dict[str, str] = manifest.get("neighbours", {})
        # the same story elsewhere, both directions (newscrawl.related; _includes/related.html),
        # keyed by the post's original URL: a post whose related articles changed is rendered again
        related.write_site_data(state or output / "state" / "newscrawl.sqlite3", versions / "_data")
        relations = json.loads((versions / "_data" / "related.json").read_text(encoding="utf-8"))
        related_digests = {url: _digest(json.dumps(v, sort_keys=True).encode())
                           for url, v in relations.items()}
        known_related: dict[str, str] = manifest.get("related", {})

        def original(record: dict) -> str:
            return str((record.get("post") or {}).get("original") or "")
        # new and changed posts, those whose neighbours changed, and those Jekyll did not build
        # last time (a date then in the future)
        render = sorted(path for path, r in records.items() if full or (r["post"] and not r.get("url"))
                        or known_posts.get(path, {}).get("sha") != r["sha"]
                        or neighbours.get(r.get("url") or "") != known_neighbours.get(r.get("url") or "")
                        or related_digests.get(original(r)) != known_related.get(original(r)))
        render_set = set(render)
        if full or render or not shell:
            chunks = [render[i:i + CHUNK] for i in range(0, len(render), CHUNK)] or [[]]
            status, runs = _render_chunks(output, skeleton, jekyll, chunks, Path(tmp), jobs, versions,
                                          around, post_urls, tags=tags, base_url=base_url, sources=sources)
            if status != 0:  # the last site and its manifest stay as they were
                return status
            if full and dest.exists():  # as jekyll build would: the destination is the site alone
                shutil.rmtree(dest)
            dest.mkdir(parents=True, exist_ok=True)
            # the pages of posts gone or rebuilt go first (a URL may change hands)
            for path, old in known_posts.items():
                if old.get("url") and (path not in records or path in render_set):
                    _remove_page(dest, _page_file(Path(""), old["url"]).as_posix())
            for n, (site, built) in enumerate(runs):
                shell = (site / SHELL_PAGE).read_text(encoding="utf-8")
                (site / SHELL_PAGE).unlink()
                for path in chunks[n]:
                    record = records[path]
                    if path not in built:  # no post Jekyll builds (no front matter, a future date)
                        record["url"], record["date"] = None, None
                        continue
                    url, date = built[path]
                    made, page = _page_file(site, url), _page_file(dest, url)
                    if not made.is_file():
                        print(f"make site: Jekyll said {path} is at {url} and wrote no page there",
                              file=sys.stderr)
                        return 1
                    page.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(made, page)
                    record["url"], record["date"] = url, date
                    rendered += 1
                if full and n == 0:  # the skeleton's own pages and files, the revision pages
                    _merge_tree(site, dest)
                elif n == 0:  # the revision pages (those whose text changed)
                    for spider in spiders:
                        if (site / spider / "revisions").is_dir():
                            _merge_tree(site / spider / "revisions", dest / spider / "revisions")
        else:  # nothing to render: the posts gone lose their pages
            for path, old in known_posts.items():
                if path not in records and old.get("url"):
                    _remove_page(dest, _page_file(Path(""), old["url"]).as_posix())
    pictures = sync_pictures(output, dest)
    # the listing pages and feeds, written where their text changed
    entries = [Entry(Post.from_json(r["post"]), r["url"], datetime.fromisoformat(r["date"]).astimezone(UTC))
               for r in records.values() if r.get("post") and r.get("url")]
    before: dict[str, str] = manifest.get("pages", {})
    written: dict[str, str] = {}
    changed = 0
    for listing in listing_pages(entries, sources):
        assert SAFE_FOLDER.match(listing.folder), listing.folder
        changed += _write_if_changed(dest, listing.path, fill_shell(shell, listing), written, before)
    site_title = str(settings.get("title") or "newscrawl")
    all_changes = [Change(**c["change"]) for c in changes.values() if c.get("change")]
    for spider in spiders:
        mine = [e for e in entries if e.post.spider == spider]
        source = sources.get(spider, spider)
        changed += _write_if_changed(dest, f"{spider}/feed.xml", articles_feed(
            spider, source, mine, site_title=site_title, base_url=base_url), written, before)
        changed += _write_if_changed(dest, f"{spider}/changes.xml", changes_feed(
            spider, source, [c for c in all_changes if c.spider == spider],
            {e.post.id: e for e in mine}, site_title=site_title, base_url=base_url), written, before)
    for relative in before.keys() - written.keys():
        _remove_page(dest, relative)
    gone = any(path not in records and old.get("url") for path, old in known_posts.items())
    # the search index of the posts (newscrawl.website_search), made whole again when a post page
    # changed (at 10,000 posts most of an update's cost); --no-search leaves the index as it is,
    # and the manifest says it is behind, for a later build (a nightly one, say) to make again
    unindexed = bool(full or rendered or gone or manifest.get("unindexed"))
    if search and unindexed:
        try:
            report = website_search.index_site(dest)
        except subprocess.CalledProcessError as failed:
            print(f"make site: pagefind failed (exit status {failed.returncode}): no search index",
                  file=sys.stderr)
            return failed.returncode
        unindexed = report is None  # (no pagefind: the index is behind until one is installed)
        if report is not None:
            print(website_search.report_line(report, dest), file=sys.stderr)
    manifest = {"shape": shape, "shell": shell, "posts": records, "changes": changes, "pages": written,
                "neighbours": neighbours, "related": related_digests, "unindexed": unindexed}
    tmp_manifest = mpath.with_name(mpath.name + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp_manifest, mpath)
    print(f"make site: {', '.join(spiders) or 'no spider'} → {dest}/ ({'full build' if full else 'update'}: "
          f"{rendered} post pages rendered, {changed} listing pages and feeds written, {pictures} pictures "
          f"added; open {dest}/index.html through a web server, e.g. python3 -m http.server -d {dest})",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("output"),
                        help="the archive (NEWSCRAWL_OUTPUT_DIR)")
    parser.add_argument("--dest", type=Path, help="where the site goes (default <output>/_site)")
    parser.add_argument("--skeleton", type=Path, default=SKELETON)
    parser.add_argument("--full", action="store_true", help="rebuild everything (ignore the manifest)")
    parser.add_argument("--jobs", type=int, help="Jekyll runs at a time (default: the cores, at most 4)")
    parser.add_argument("--no-search", dest="search", action="store_false",
                        help="leave the search index as it is (make it in a later build)")
    parser.add_argument("--base-url", help="the site's address (https://…), for the feeds' links "
                                           "(default: url in the skeleton's _config.yml)")
    parser.add_argument("--state", type=Path, help="the state database (default "
                        "<output>/state/newscrawl.sqlite3): the related articles")
    args = parser.parse_args(argv)
    return build(args.output, args.dest or args.output / "_site", args.skeleton, full=args.full,
                 base_url=args.base_url, jobs=args.jobs, search=args.search, state=args.state)


if __name__ == "__main__":
    sys.exit(main())
