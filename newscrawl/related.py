"""The same story elsewhere: near-duplicate articles across sites and runs (issue 21 part 4).

A DW article and an Epoch Times article built on the same wire text, a ``/b5/`` edition in
traditional script, a story republished under another id: found as each version is
archived, never deleted, only linked.

How two articles are compared
-----------------------------
* **Text** (:func:`folded`): title + lead + body, NFKC, OpenCC traditional → simplified
  (:func:`newscrawl.text.to_simplified`), lower case, Markdown link and picture targets
  and HTML tags left out, then only letters and digits: no punctuation, no whitespace (the
  two sites punctuate and space the same wire text differently).
* **Shingles** (:func:`shingles`): the set of its character 5-grams.
* **Same text**: the exact Jaccard similarity of the two 5-gram sets is at least
  :data:`SAME_TEXT` (0.5), measured on the fixtures of ``tests/related_texts.py`` and the
  mirror's pair. The same story scores 0.73–1.0: a traditional-script twin 1.0, the wire
  story under the other site's headline, lead and dateline 0.86, that one retold further (a
  sentence cut, two phrases reworded) 0.76, and the mirror's DW and Epoch Times pages of one
  story — each site's headline, lead, sub-headings and byline around the same body — 0.73.
  Other stories score at most 0.21: on the same topic with the same names and places 0.01,
  a follow-up that quotes two of the wire story's five paragraphs as background 0.21, and no
  other pair of the demo's 58 articles more than 0.05. 0.5 sits in the middle of that gap.
  The issue's first guess, 0.8, would miss the mirror's pair and the retold story: on a
  500-character article each site's own headline, lead and sub-headings alone cost 0.2.
  Texts shorter than :data:`MIN_CHARS` folded characters (a one-line notice, a gallery with
  a title only) are neither indexed nor matched: their few 5-grams make templates look alike.

Finding candidates in O(1)
--------------------------
Each indexed article has a MinHash signature (``datasketch``, :data:`NUM_PERM` = 96
permutations) cut into :data:`BANDS` = 32 bands of :data:`ROWS` = 3 rows; a band's values
hash to a 64-bit integer. The state database (shared by the spiders, see
:mod:`newscrawl.state`) holds them: ``related_bands`` ``(band, hash, site, id)``, its primary
key the lookup ``(band, hash)`` → articles, and ``related_articles`` one row per indexed article
(its signature as ``LeanMinHash`` bytes, so that a new version can take its old bands out; its
``cluster`` and ``related``). A new article reads 32 index ranges (at most
:data:`BUCKET_LIMIT` rows each, in one statement) and, of at most :data:`MAX_CANDIDATES`
candidates, verifies those whose signatures estimate a similarity of at least
:data:`ESTIMATE_FLOOR` by exact Jaccard against their archived text (their latest JSON line,
one seek into
``<output>/<site>/articles.jsonl``): its cost does not grow with the archive, and nothing is
loaded at start. With 32 bands of 3 rows a pair at Jaccard 0.5 becomes a candidate with
probability 1 − (1 − 0.5³)³² ≈ 0.986 (0.73: > 0.9999), one at 0.2 with 0.23 (then rejected
by the exact check), one at 0.05 with 0.004.
datasketch's own ``MinHashLSH`` keeps its index in memory (``dict``: loaded whole, or lost
between runs) or in Redis or Cassandra (a server the archive does not have); banding over
the SQLite state keeps it on disk, transactional, and shared by DW and the Epoch Times.

The two spiders run as separate processes, maybe at once: a write holds
``<state>/locks/related.lock`` from its lookup until its signature is recorded, so that two
articles of one story archived at the same moment see each other
(:meth:`RelatedIndex.held`). The signature is recorded in the transaction that commits the
version (:func:`record`, called by :meth:`newscrawl.state.ArticleStore.finish_write` from the
journal entry), so a crash leaves the index as the archive is.

What is written
---------------
The JSON line gets ``cluster`` (``<site>/<id>`` of the first-indexed article of the story;
the article's own key when it has no related one) and ``related`` (the ``<site>/<id>`` keys of
the verified related articles, either site, most similar first); the post's front matter
gets both when ``related`` is not empty. A relation found later (a new article related to
an old one) is recorded with the new article only: the old article gets no new version.
The site build asks :func:`site_links` for every relation in both directions and writes it
as ``_data/related.json`` (keyed by the article's original URL, the post's ``from``); the
post layout shows it under "其他来源的报道" (titles, URLs and post paths from the state,
escaped by Liquid).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import importlib
import importlib.util
import json
import logging
import random
import re
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newscrawl.items import adapt
from newscrawl.text import to_simplified
from newscrawl.website_versions import post_url

if TYPE_CHECKING:
    from datasketch import LeanMinHash
    from numpy.typing import NDArray

    from newscrawl.state import ArticleStore

#: characters per shingle
SHINGLE = 5
#: the exact Jaccard similarity of two 5-gram sets from which they are the same text (measured:
#: see the module's docstring)
SAME_TEXT = 0.5
#: folded characters below which a text is neither indexed nor matched
MIN_CHARS = 100
BANDS = 32
ROWS = 3
NUM_PERM = BANDS * ROWS
#: the MinHash seed and datasketch's scheme: the index's bands are only comparable with one
#: of each (do not change)
SEED = 1
SCHEME = "affine32"
#: rows read per band (a bucket larger than this is a template, not a story)
BUCKET_LIMIT = 50
#: candidates verified per article, those sharing the most bands first
MAX_CANDIDATES = 20
#: a candidate whose signature estimates the Jaccard similarity below this is not verified
#: (its archived text is neither read nor folded): with :data:`NUM_PERM` permutations the
#: estimate's standard deviation is at most 0.051, so a pair at :data:`SAME_TEXT` falls under
#: it once in ~10⁶; pairs that met by chance in a band (0.2 and under) mostly do.
ESTIMATE_FLOOR = 0.25
#: candidates' folded texts a run keeps (the oldest go first)
FOLDED_CACHE = 256
#: the tables (created by the state's schema migration 8, see newscrawl.state)
SCHEMA = [
    """CREATE TABLE related_articles (
        site TEXT NOT NULL, id TEXT NOT NULL, signature BLOB NOT NULL,
        cluster TEXT NOT NULL, related TEXT NOT NULL, source TEXT,
        PRIMARY KEY (site, id)
    )""",
    """CREATE TABLE related_bands (
        band INTEGER NOT NULL, hash INTEGER NOT NULL, site TEXT NOT NULL, id TEXT NOT NULL,
        PRIMARY KEY (band, hash, site, id)
    ) WITHOUT ROWID""",
]

#: schema 9 (newscrawl.state): the signatures of schema 8 (datasketch's SHA-1 of each 5-gram,
#: 3.5 ms an article) are made again with :func:`shingles`' hashes, by the first archive opened
#: (:meth:`RelatedIndex.resign`); the old bands are gone, the clusters and relations stay
RESIGN = [
    "CREATE TABLE related_resign (site TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (site, id))"
    " WITHOUT ROWID",
    "INSERT INTO related_resign (site, id) SELECT site, id FROM related_articles",
    "DELETE FROM related_bands",
]
#: articles re-signed a transaction
RESIGN_BATCH = 500

logger = logging.getLogger(__name__)

_TARGETS = re.compile(r"\]\([^)]*\)|<[^>]*>")
#: a figure as newscrawl.markdown writes it: the picture's line, and the caption line under it
_FIGURE = re.compile(r"^!\[.*$(?:\n\*.*\*$)?", re.M)


def key(site: str, article_id: str) -> str:
    """An article's name across sites: ``<site>/<id>``."""
    return f"{site}/{article_id}"


def folded(item: Any) -> str:
    """Title + lead + body as compared: NFKC, simplified script, lower case, no figures
    (a picture, its caption and credit are each site's own), no link targets, letters and
    digits only."""
    a = item if isinstance(item, Mapping) else adapt(item)
    body = _FIGURE.sub("", str(a.get("body_markdown") or ""))
    text = "\n".join((str(a.get("title") or ""), str(a.get("lead") or ""), body))
    text = to_simplified(unicodedata.normalize("NFKC", _TARGETS.sub("", text))).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


#: the polynomial's multiplier and the mixer's constants of :func:`shingles` (do not change:
#: the index's signatures are only comparable with one hashing)
_POLY = 0x9E3779B97F4A7C15
_MIX = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)


def shingles(text: str) -> NDArray[Any]:
    """The character 5-grams of a folded text as 32-bit hashes, sorted and each once (none
    below :data:`MIN_CHARS` characters). Each 5-gram's code points are hashed together,
    all of them at once by numpy: a polynomial over 64-bit integers (wrapping), mixed by
    MurmurHash3's finaliser, its upper half kept. (datasketch's default, SHA-1 of each 5-gram
    in a Python loop, took 3.5 ms for a 3,000-character article.) Two 5-grams of one
    article share a hash about once in 2 million articles: it moves a Jaccard similarity by
    a fraction of a thousandth."""
    np = _numpy()
    if len(text) < MIN_CHARS:
        return np.empty(0, dtype=np.uint32)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(points) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):
        h = h * np.uint64(_POLY) + points[k:k + n]
    h ^= h >> np.uint64(33)
    h *= np.uint64(_MIX[0])
    h ^= h >> np.uint64(33)
    h *= np.uint64(_MIX[1])
    h ^= h >> np.uint64(33)
    grams = np.sort((h >> np.uint64(32)).astype(np.uint32))
    # each once: np.unique would do the same and import numpy.ma with it (1.1 MB resident)
    first = np.empty(grams.size, dtype=bool)
    first[0] = True
    np.not_equal(grams[1:], grams[:-1], out=first[1:])
    return grams[first]


def jaccard(a: NDArray[Any], b: NDArray[Any]) -> float:
    """The exact Jaccard similarity of two shingle sets (:func:`shingles`; 0 when either is
    empty)."""
    if not a.size or not b.size:
        return 0.0
    shared = _numpy().intersect1d(a, b, assume_unique=True).size
    return shared / (a.size + b.size - shared)


def _numpy() -> Any:
    import numpy  # with datasketch, at the first article compared (0.16 s of CPU)
    return numpy


@functools.cache
def _datasketch() -> tuple[Any, Any]:
    """datasketch's ``MinHash`` and ``LeanMinHash``, imported at the first article signed.

    Its modules alone (numpy: 0.16 s of CPU), not its package's ``__init__``, which imports
    every sketch datasketch has and scipy with them: 0.8–1.0 s of CPU measured, paid by
    every run that archives an article. The package is put aside while they load and taken
    out again, so that a later ``import datasketch`` runs it whole (and finds these modules)."""
    if "datasketch" in sys.modules:
        from datasketch import LeanMinHash, MinHash
        return MinHash, LeanMinHash
    spec = importlib.util.find_spec("datasketch")
    if spec is None:
        raise ImportError("datasketch is not installed (pip install datasketch==2.0.0)")
    sys.modules["datasketch"] = importlib.util.module_from_spec(spec)
    try:
        minhash = importlib.import_module("datasketch.minhash")
        lean = importlib.import_module("datasketch.lean_minhash")
    finally:
        del sys.modules["datasketch"]
    return minhash.MinHash, lean.LeanMinHash


@functools.cache
def _permutations() -> NDArray[Any]:
    """datasketch's permutations for :data:`NUM_PERM`, :data:`SEED` and :data:`SCHEME`, drawn
    once (a ``MinHash`` draws them from a new random state each time it is made), as it draws
    them, without numpy.random (2.6 MB resident; nothing else here needs it): datasketch asks
    numpy's legacy ``RandomState(SEED)`` — the Mersenne Twister, seeded by Knuth's
    initialisation — for ``a = 2 · randint(0, 2³¹) + 1`` and ``b = randint(0, 2³²)``, one
    32-bit output each (masked to 31 bits for ``a``), all of ``a`` first. The standard
    library's ``random`` is the same generator: given that seeded state, its
    ``getrandbits(32)`` are those outputs (a test checks the result against datasketch's)."""
    np = _numpy()
    state = [SEED & 0xFFFFFFFF]
    for i in range(1, 624):
        state.append((1812433253 * (state[-1] ^ (state[-1] >> 30)) + i) & 0xFFFFFFFF)
    twister = random.Random()
    twister.setstate((3, (*state, 624), None))
    a = [(twister.getrandbits(32) & 0x7FFFFFFF) * 2 + 1 for _ in range(NUM_PERM)]
    b = [twister.getrandbits(32) for _ in range(NUM_PERM)]
    return np.array([a, b], dtype=np.uint32)


#: permutations computed together (16 × a 3,000-gram article's hashes stay in the CPU's cache:
#: 0.17 ms for 96 permutations, where one (n, 96) array took 1.9 ms)
_CHUNK = 16


def signature(grams: NDArray[Any]) -> LeanMinHash:
    """The MinHash signature of a shingle set (:func:`shingles`, already hashed):
    datasketch's ``affine32`` MinHash of these hashes with :data:`NUM_PERM` permutations —
    its formula (each hash mixed, then ``a · h + b`` modulo 2³², the least of each
    permutation) applied here :data:`_CHUNK` permutations at a time, which datasketch's
    ``update_batch`` does in one array 11 times slower (a test checks both give the same)."""
    np = _numpy()
    minhash_class, lean_class = _datasketch()
    fmix = sys.modules[minhash_class.__module__]._fmix  # the mixing datasketch's update does
    a, b = _permutations()
    values = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if grams.size:
        mixed = fmix(grams.astype(np.uint32), 32)[None, :]
        for i in range(0, NUM_PERM, _CHUNK):
            values[i:i + _CHUNK] = (a[i:i + _CHUNK, None] * mixed + b[i:i + _CHUNK, None]).min(axis=1)
    return lean_class(minhash_class(seed=SEED, hashvalues=values, permutations=(a, b), scheme=SCHEME))


#: the rows of every band's bucket (at most BUCKET_LIMIT each) in one statement
_BUCKETS = " UNION ALL ".join(
    ["SELECT * FROM (SELECT site, id FROM related_bands WHERE band = ? AND hash = ? LIMIT ?)"] * BANDS)


def band_hashes(sig: LeanMinHash) -> list[tuple[int, int]]:
    """``(band, hash)`` of each band of a signature: a signed 64-bit integer, as SQLite keeps it."""
    values = sig.hashvalues
    return [(band, int.from_bytes(hashlib.blake2b(values[band * ROWS:(band + 1) * ROWS].tobytes(),
                                                  digest_size=8).digest(), "big", signed=True))
            for band in range(BANDS)]


def _packed(sig: LeanMinHash) -> bytes:
    buf = bytearray(sig.bytesize())
    sig.serialize(buf)
    return bytes(buf)


def _unpacked(data: bytes) -> LeanMinHash:
    return _datasketch()[1].deserialize(data)


@dataclass
class Near:
    """What the lookup found for one article version, and what its commit records."""

    cluster: str
    related: list[str] = field(default_factory=list)
    #: the signature (LeanMinHash bytes); ``None`` for a text too short to index
    signature: bytes | None = None
    source: str | None = None

    def journal(self) -> dict[str, Any]:
        """As the journal entry holds it (JSON)."""
        return {"cluster": self.cluster, "related": self.related, "source": self.source,
                "signature": base64.b64encode(self.signature).decode() if self.signature else None}


def record(db: sqlite3.Connection, site: str, article_id: str, near: Mapping[str, Any]) -> None:
    """Record an archived version's signature, cluster and related articles (in the caller's
    transaction): its earlier bands out, its new ones in; a text too short to index leaves
    no row."""
    row = db.execute("SELECT signature FROM related_articles WHERE site = ? AND id = ?",
                     (site, article_id)).fetchone()
    if row:
        db.executemany("DELETE FROM related_bands WHERE band = ? AND hash = ? AND site = ? AND id = ?",
                       [(b, h, site, article_id) for b, h in band_hashes(_unpacked(row[0]))])
    if not near.get("signature"):
        db.execute("DELETE FROM related_articles WHERE site = ? AND id = ?", (site, article_id))
        return
    packed = base64.b64decode(near["signature"])
    db.execute("INSERT INTO related_articles (site, id, signature, cluster, related, source)"
               " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO UPDATE SET"
               " signature = excluded.signature, cluster = excluded.cluster, related = excluded.related,"
               " source = excluded.source",
               (site, article_id, packed, near["cluster"], json.dumps(near.get("related") or []),
                near.get("source")))
    db.executemany("INSERT OR IGNORE INTO related_bands (band, hash, site, id) VALUES (?, ?, ?, ?)",
                   [(b, h, site, article_id) for b, h in band_hashes(_unpacked(packed))])


def journal_of_line(site: str, line: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`record` takes, from an archived JSON line (``scrapy rebuild-state``): its
    signature computed again, its cluster and related articles as the line says (a line from
    before the index: its own key, none)."""
    article_id = str(line.get("id"))
    grams = shingles(folded(line))
    related, cluster, source = line.get("related"), line.get("cluster"), line.get("source_name")
    return Near(cluster=cluster if isinstance(cluster, str) else key(site, article_id),
                related=[str(x) for x in related] if isinstance(related, list) else [],
                source=source if isinstance(source, str) else None,
                signature=_packed(signature(grams)) if grams.size else None).journal()


def recorded(db: sqlite3.Connection, site: str, article_id: str) -> tuple[str, list[str]]:
    """``(cluster, related)`` the index recorded with an article's latest version (its own key
    and none when it is not indexed: a short text): ``scrapy verify --repair`` gives them to
    a line it restores from the WARC files, whose rebuild saw this site's articles only."""
    row = db.execute("SELECT cluster, related FROM related_articles WHERE site = ? AND id = ?",
                     (site, article_id)).fetchone()
    return (row[0], json.loads(row[1])) if row else (key(site, article_id), [])


def forget_site(db: sqlite3.Connection, site: str) -> None:
    """Take a site out of the index (``scrapy rebuild-state``, in its transaction)."""
    db.execute("DELETE FROM related_bands WHERE site = ?", (site,))
    db.execute("DELETE FROM related_articles WHERE site = ?", (site,))
    db.execute("DELETE FROM related_resign WHERE site = ?", (site,))


class RelatedIndex:
    """The near-duplicate index as one site's archive uses it (:class:`newscrawl.archive.Archive`)."""

    def __init__(self, store: ArticleStore, output_dir: Path, site: str):
        self.store = store
        self.output_dir = output_dir
        self.site = site
        self.lock_path = store.path.parent / "locks" / "related.lock"
        #: candidates verified by exact Jaccard, and left out by their signatures' estimate
        self.verified = 0
        self.estimated_out = 0
        #: (site, id, line offset, content hash) → the folded text of that version
        self._folded: dict[tuple[str, str, int, str | None], str | None] = {}

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The index's lock, across spiders: held from an article's lookup to its commit."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def resign(self) -> int:
        """Sign again the articles a migration left to re-sign (:data:`RESIGN`), of every site
        (their lines are beside this one's), :data:`RESIGN_BATCH` a transaction, under the
        index's lock; how many. Nothing to do costs one read."""
        db = self.store.db
        if db.execute("SELECT 1 FROM related_resign LIMIT 1").fetchone() is None:
            return 0
        done = 0
        with self.held():
            left = db.execute("SELECT count(*) FROM related_resign").fetchone()[0]
            logger.info("Near-duplicate index: signing %d archived articles again (once, after an upgrade)",
                        left)
            batch = "SELECT site, id FROM related_resign LIMIT ?"
            while rows := db.execute(batch, (RESIGN_BATCH,)).fetchall():
                with self.store.transaction() as tx:
                    for site, article_id in rows:
                        self._sign_again(tx, site, article_id)
                done += len(rows)
        logger.info("Near-duplicate index: %d articles signed again", done)
        return done

    def _sign_again(self, db: sqlite3.Connection, site: str, article_id: str) -> None:
        """One article of :meth:`resign`: its last line's signature recorded with the cluster,
        relations and source the index holds (no signature: a text too short, or lost)."""
        known = self.store.get(site, article_id)
        line = (self._archived_text(site, article_id, known.line_offset)
                if known is not None and known.line_offset is not None else None)
        grams = shingles(folded(line) if line else "")
        row = db.execute("SELECT cluster, related, source FROM related_articles WHERE site = ? AND id = ?",
                         (site, article_id)).fetchone()
        if row is not None:
            sig = _packed(signature(grams)) if grams.size else None
            near = Near(row[0], json.loads(row[1]), signature=sig, source=row[2])
            record(db, site, article_id, near.journal())
        db.execute("DELETE FROM related_resign WHERE site = ? AND id = ?", (site, article_id))

    def find(self, item: Any) -> Near:
        """The verified related articles of a version about to be archived (itself excluded)."""
        a = adapt(item)
        grams = shingles(folded(item))
        if not grams.size:
            return Near(cluster=key(self.site, a["id"]), source=a.get("source_name"))
        sig = signature(grams)
        cluster, found = self.lookup(a["id"], grams, sig)
        return Near(cluster=cluster, related=found, signature=_packed(sig), source=a.get("source_name"))

    def lookup(self, article_id: str, grams: NDArray[Any], sig: LeanMinHash) -> tuple[str, list[str]]:
        """``(cluster, related)`` of an article of this site with these 5-grams and signature:
        the candidates its bands meet, each verified by exact Jaccard; the cluster of the
        first-indexed related article (its own key when none is)."""
        shared: dict[tuple[str, str], int] = {}
        db = self.store.db
        args = [arg for band, value in band_hashes(sig) for arg in (band, value, BUCKET_LIMIT)]
        for site, other_id in db.execute(_BUCKETS, args):
            if (site, other_id) != (self.site, article_id):
                shared[(site, other_id)] = shared.get((site, other_id), 0) + 1
        found: list[tuple[float, int, str, str]] = []
        for site, other_id in sorted(shared, key=lambda k: -shared[k])[:MAX_CANDIDATES]:
            row = db.execute("SELECT rowid, cluster, signature FROM related_articles"
                             " WHERE site = ? AND id = ?", (site, other_id)).fetchone()
            if row is None or sig.jaccard(_unpacked(row[2])) < ESTIMATE_FLOOR:
                self.estimated_out += 1
                continue
            self.verified += 1
            other = self._archived_folded(site, other_id)
            similarity = jaccard(grams, shingles(other)) if other else 0.0
            if similarity >= SAME_TEXT:
                found.append((similarity, row[0], row[1], key(site, other_id)))
        cluster = min(found, key=lambda f: f[1])[2] if found else key(self.site, article_id)
        return cluster, [f[3] for f in sorted(found, key=lambda f: (-f[0], f[3]))]

    def _archived_folded(self, site: str, article_id: str) -> str | None:
        """:func:`folded` of the latest archived version of an article of any site, kept for
        the run (at most :data:`FOLDED_CACHE`, ~10 KB each) under where its line is: a story's
        articles are each other's candidates again and again."""
        known = self.store.get(site, article_id)
        if known is None or known.line_offset is None:
            return None
        where = (site, article_id, known.line_offset, known.content_hash)
        if where not in self._folded:
            value = self._archived_text(site, article_id, known.line_offset)
            if len(self._folded) >= FOLDED_CACHE:
                del self._folded[next(iter(self._folded))]
            self._folded[where] = folded(value) if value else None
        return self._folded[where]

    def _archived_text(self, site: str, article_id: str, offset: int) -> dict[str, Any] | None:
        """The archived JSON line of an article of any site at ``offset`` (one seek)."""
        try:
            with open(self.output_dir / site / "articles.jsonl", "rb") as fh:
                fh.seek(offset)
                value = json.loads(fh.readline())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) and value.get("id") == article_id else None

    def stored(self, article_id: str) -> tuple[str, list[str]]:
        """``(cluster, related)`` the index holds for an article of this site (:func:`recorded`)."""
        return recorded(self.store.db, self.site, article_id)


# ---- the site build --------------------------------------------------------------------

def site_links(state_path: Path) -> dict[str, list[dict[str, str]]]:
    """Every relation of the index, both directions, keyed by the article's original URL (the
    post's ``from``; Jekyll's ``page.id`` is its own): ``[{key, site, id, title, source, url,
    path}]`` of its related articles, ``path`` the post's site path — titles, URLs and post
    names from the state. Articles without relations are left out. Reads the state only."""
    try:
        db = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=30)
        rows = db.execute("SELECT site, id, related FROM related_articles"
                          " WHERE related != '[]'").fetchall()
    except sqlite3.Error:  # no state, or one from before the index
        return {}
    try:
        pairs: dict[str, set[str]] = {}
        for site, article_id, related in rows:
            this = key(site, article_id)
            for other in json.loads(related):
                pairs.setdefault(this, set()).add(other)
                pairs.setdefault(other, set()).add(this)
        facts: dict[str, dict[str, str]] = {}
        for name in pairs:
            site, _, article_id = name.partition("/")
            row = db.execute(
                "SELECT a.title, a.url, a.post_path, r.source, a.published FROM articles a"
                " LEFT JOIN related_articles r"
                " ON r.site = a.site AND r.id = a.id"
                " WHERE a.site = ? AND a.id = ? AND a.content_hash IS NOT NULL",
                (site, article_id)).fetchone()
            # the URL Jekyll gives the post (its date front matter is the published time)
            path = post_url(site, row[2], row[4]) if row and row[2] else None
            if row and path and isinstance(row[1], str) and re.match(r"https?://", row[1]):
                facts[name] = {"key": name, "site": site, "id": article_id, "title": row[0] or article_id,
                               "source": row[3] or site, "url": row[1], "path": path}
    finally:
        db.close()
    links = {}
    for name, others in sorted(pairs.items()):
        shown = [facts[o] for o in sorted(others) if o in facts]
        if name in facts and shown:
            links[facts[name]["url"]] = shown
    return links


def write_site_data(state_path: Path, data_dir: Path) -> int:
    """``<data_dir>/related.json`` for the site build (:func:`site_links`); how many articles
    have related ones."""
    links = site_links(state_path) if state_path.is_file() else {}
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "related.json").write_text(json.dumps(links, ensure_ascii=False), encoding="utf-8")
    return len(links)
