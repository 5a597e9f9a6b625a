"""``make website``: the archive as a website, built by Jekyll from the site skeleton.

``python -m newscrawl.website [--output output] [--dest <output>/_site]`` copies the skeleton
(``deploy/jekyll-site/``: layouts, index by date, tags, galleries, style sheet) and every
``<output>/<spider>/_posts/`` into a staging folder, adds one permalink rule per spider folder
(``/<spider>/<year>/<month>/<day>/<file name>/``) and runs ``jekyll build --safe`` (no
plugins, no symbolic links) on it. Only the posts and the pictures they show
(``<spider>/assets/img/``, served at ``/<spider>/assets/img/``) are published, and every
version of an edited article as a page of its own (``/<spider>/revisions/<id>/v<N>/``, made
from ``_revisions/`` by :mod:`newscrawl.website_versions`): not the state, the JSON lines,
the run reports, WARC files or logs. Then the posts are indexed for the search page
(newscrawl/website_search.py; skipped, saying so, without pagefind). Without jekyll on the
PATH it says so and exits 0 (skipped); a failed build exits with Jekyll's status, or Pagefind's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from newscrawl import related, website_search
from newscrawl.pictures import PICTURE_PATH, PICTURES_DIR
from newscrawl.website_versions import stage_versions, write_neighbours

SKELETON = Path("deploy/jekyll-site")


def spider_folders(output: Path) -> list[Path]:
    """The folders of ``output`` that hold posts (``<spider>/_posts``), by name."""
    return sorted(p.parent for p in output.glob("*/_posts") if p.is_dir())


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def stage(output: Path, skeleton: Path, staging: Path, state: Path | None = None) -> list[str]:
    """Fill ``staging`` with the skeleton, the posts and the kept pictures (hard links where
    possible), and ``_data/related.json`` from the state (``state``: the state database,
    ``<output>/state/newscrawl.sqlite3`` by default); returns the spider folders."""
    shutil.copytree(skeleton, staging, dirs_exist_ok=True)
    # the same story elsewhere, both directions (newscrawl.related; shown by _includes/related.html)
    related.write_site_data(state or output / "state" / "newscrawl.sqlite3", staging / "_data")
    spiders = []
    for folder in spider_folders(output):
        target = staging / folder.name / "_posts"
        target.mkdir(parents=True, exist_ok=True)
        for post in (folder / "_posts").glob("*.md"):
            _link(post, target / post.name)
        # the kept pictures, whole files only (a killed crawl's .tmp-* files stay out)
        for picture in (folder / PICTURES_DIR).glob("[0-9a-f][0-9a-f]/*"):
            path = picture.relative_to(folder)
            if PICTURE_PATH.match(path.as_posix()):
                (staging / folder.name / path).parent.mkdir(parents=True, exist_ok=True)
                _link(picture, staging / folder.name / path)
        spiders.append(folder.name)
    # every version readable (revision pages) and previous/next links: newscrawl.website_versions
    write_neighbours(staging, {folder.name: stage_versions(folder, staging)["neighbours"]
                               for folder in spider_folders(output)})
    rules = "".join(f'  - scope: {{ path: "{name}", type: posts }}\n'
                    f'    values: {{ layout: post, permalink: "/{name}/:year/:month/:day/:title/" }}\n'
                    for name in spiders)
    (staging / "_config.spiders.yml").write_text(
        "# written by newscrawl.website: one permalink rule per spider folder\n"
        f"defaults:\n{rules or '  []'}\n", encoding="utf-8")
    return spiders


def build(output: Path, dest: Path, skeleton: Path = SKELETON, jekyll: str | None = None,
          state: Path | None = None) -> int:
    """Build the site of ``output`` into ``dest``; the exit status (0 also when skipped)."""
    jekyll = jekyll or shutil.which("jekyll")
    if jekyll is None:
        print("make website: jekyll is not installed (Debian: apt-get install jekyll): site not built",
              file=sys.stderr)
        return 0
    if not (skeleton / "_config.yml").is_file():
        print(f"make website: no site skeleton in {skeleton} (run from the repository root)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newscrawl-site-") as tmp:
        staging = Path(tmp) / "src"
        spiders = stage(output, skeleton, staging, state)
        if not spiders:
            print(f"make website: no posts in {output}/<spider>/_posts/ (crawl first)", file=sys.stderr)
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")  # Chinese file names and text
        config = f"{staging / '_config.yml'},{staging / '_config.spiders.yml'}"
        proc = subprocess.run([jekyll, "build", "--safe", "--quiet", "-s", str(staging), "-d", str(dest),
                               "--config", config], env=env)
    if proc.returncode == 0:
        try:
            report = website_search.index_site(dest)
        except subprocess.CalledProcessError as failed:
            print(f"make website: pagefind failed (exit status {failed.returncode}): no search index",
                  file=sys.stderr)
            return failed.returncode
        if report is not None:
            print(website_search.report_line(report, dest), file=sys.stderr)
    if proc.returncode == 0:
        print(f"make website: {', '.join(spiders) or 'no spider'} → {dest}/ (open {dest}/index.html "
              f"through a web server, e.g. python3 -m http.server -d {dest})", file=sys.stderr)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("output"),
                        help="the archive (NEWSCRAWL_OUTPUT_DIR)")
    parser.add_argument("--dest", type=Path, help="where the site goes (default <output>/_site)")
    parser.add_argument("--skeleton", type=Path, default=SKELETON)
    parser.add_argument("--state", type=Path, help="the state database (default "
                        "<output>/state/newscrawl.sqlite3): the related articles")
    args = parser.parse_args(argv)
    return build(args.output, args.dest or args.output / "_site", args.skeleton, state=args.state)


if __name__ == "__main__":
    sys.exit(main())
