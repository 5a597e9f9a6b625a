"""The near-duplicate index's cost per article (newscrawl.related), at 1,000 and 100,000
signatures in the table.

    PYTHONPATH=. .venv/bin/python benchmarks/related.py [--sizes 1000,100000] [--articles 200]

A state database is filled with ``N`` indexed articles (random band hashes and signatures,
as many rows as real ones: the index's size and shape, without computing N MinHashes), plus
the wire story of tests/related_texts.py archived with its JSON line. Then ``--articles``
new articles of ~800 characters are looked up and recorded, one in ten a near-duplicate of
the wire story (so the exact Jaccard check reads and folds a JSON line): CPU time
(``time.process_time``) per article for the signature (folding, 5-grams, MinHash), the
lookup with its verification, and the record of its bands at commit; and the database's
bytes per indexed article.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from newscrawl import related
from newscrawl.related import RelatedIndex, folded, shingles, signature
from newscrawl.state import ArticleStore
from tests.related_texts import REWRITE, WIRE

#: characters to make text of (common CJK ideographs)
POOL = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(POOL) for _ in range(n))


def fill(store: ArticleStore, n: int, rng: random.Random) -> None:
    """``n`` indexed articles of site ``bench`` (random bands and signature bytes)."""
    size = len(related._packed(signature(shingles("abcdefgh"))))
    db = store.db
    with store.transaction():
        for start in range(0, n, 5000):
            batch = range(start, min(n, start + 5000))
            db.executemany("INSERT INTO related_articles (site, id, signature, cluster, related, source)"
                           " VALUES ('bench', ?, ?, ?, '[]', NULL)",
                           [(f"b{i}", rng.randbytes(size), f"bench/b{i}") for i in batch])
            db.executemany("INSERT OR IGNORE INTO related_bands (band, hash, site, id)"
                           " VALUES (?, ?, 'bench', ?)",
                           [(band, rng.getrandbits(64) - (1 << 63), f"b{i}")
                            for i in batch for band in range(related.BANDS)])


def archive_wire(store: ArticleStore, out: Path) -> None:
    """The wire story as an archived DW article: its state row, JSON line and index entry."""
    line = json.dumps({"site": "dw", "id": "wire", **WIRE}, ensure_ascii=False) + "\n"
    (out / "dw").mkdir(parents=True)
    (out / "dw" / "articles.jsonl").write_text(line, encoding="utf-8")
    with store.transaction() as db:
        db.execute("INSERT INTO articles (site, id, url, title, content_hash, line_offset, first_seen,"
                   " last_changed) VALUES ('dw', 'wire', 'https://www.dw.com/zh/x/wire', ?, 'h', 0, '', '')",
                   (WIRE["title"],))
        sig = signature(shingles(folded(WIRE)))
        related.record(db, "dw", "wire", related.Near("dw/wire", signature=related._packed(sig)).journal())


def measure(n: int, articles: int) -> dict[str, float]:
    rng = random.Random(n)
    with tempfile.TemporaryDirectory(prefix="related-bench-") as tmp:
        out = Path(tmp)
        store = ArticleStore(out / "state" / "newscrawl.sqlite3", check=False)
        fill(store, n, rng)
        archive_wire(store, out)
        index = RelatedIndex(store, out, "epochtimes")
        times: dict[str, list[float]] = {"signature": [], "lookup": [], "record": []}
        found = 0
        for k in range(articles):
            if k % 10 == 0:
                item = dict(REWRITE, body_markdown=REWRITE["body_markdown"] + text(rng, 20))
            else:
                item = {"title": text(rng, 20), "lead": text(rng, 60), "body_markdown": text(rng, 720)}
            item.update(site="epochtimes", id=f"n{k}")
            t0 = time.process_time()
            grams = shingles(folded(item))
            sig = signature(grams)
            t1 = time.process_time()
            cluster, linked = index.lookup(f"n{k}", grams, sig)
            t2 = time.process_time()
            with store.transaction() as db:
                related.record(db, "epochtimes", f"n{k}", related.Near(
                    cluster, linked, signature=related._packed(sig)).journal())
            t3 = time.process_time()
            times["signature"].append(t1 - t0)
            times["lookup"].append(t2 - t1)
            times["record"].append(t3 - t2)
            found += bool(linked)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db_bytes = os.path.getsize(out / "state" / "newscrawl.sqlite3")
        rows = store.db.execute("SELECT count(*) FROM related_articles").fetchone()[0]
        store.close()
    result = {name: statistics.mean(values) * 1000 for name, values in times.items()}
    result["total"] = sum(result.values())
    result["found"] = found
    result["bytes_per_article"] = db_bytes / rows
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    print(f"{'signatures':>10} {'signature':>10} {'lookup+verify':>14} {'record':>8} {'total ms':>9}"
          f" {'linked':>7} {'DB bytes/article':>17}")
    for n in (int(x) for x in args.sizes.split(",")):
        r = measure(n, args.articles)
        print(f"{n:>10} {r['signature']:>10.2f} {r['lookup']:>14.2f} {r['record']:>8.2f} {r['total']:>9.2f}"
              f" {int(r['found']):>7} {r['bytes_per_article']:>17.0f}")


if __name__ == "__main__":
    main()
