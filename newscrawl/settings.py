"""newscrawl settings: every setting the project reads or changes, in one place.

Override any of them per run with ``-s NAME=value``. The project's own settings:

NEWSCRAWL_OUTPUT_DIR   where posts go: ``<dir>/<spider>/_posts/`` (default ``output``)
NEWSCRAWL_STATE_DIR    the SQLite state shared by all spiders and the locks (default: ``state`` in
                       NEWSCRAWL_OUTPUT_DIR, so ``output/state``; it follows the output folder
                       unless set itself)
NEWSCRAWL_FSYNC        fsync posts, JSON lines and the state as they are written, so that a power
                       cut (not only a killed process) loses nothing written (default off)
NEWSCRAWL_IMAGES       keep every picture an article shows (lead, figures, gallery) under
                       ``<output>/<spider>/assets/img/`` and point the posts at the copies (default
                       on; 0: posts keep the remote URLs; pipelines/pictures.py)
NEWSCRAWL_IMAGE_MAX_WIDTH  the widest picture asked for where a site offers sizes (DW: 1920)
NEWSCRAWL_IMAGE_MAX_BYTES  a larger picture is not kept (counted as too_large; default 15 MB)
NEWSCRAWL_IMAGE_RETRY_TIMES  a picture that failed is tried by this many runs in all (default 3),
                       each at least NEWSCRAWL_RETRY_FAILED_HOURS after the last
NEWSCRAWL_IMAGES_AT_ONCE  the most pictures being downloaded or stored at once, their bodies in
                       memory (default 8; per-host politeness applies as well)
NEWSCRAWL_IMAGE_PROXY  prefix that the remote URLs of pictures not kept are rewritten through in
                       posts, e.g. ``https://images.weserv.nl/?url=`` (default: off)
NEWSCRAWL_RUN_REPORTS  write ``<output>/<spider>/runs/<UTC time>.json`` after each crawl (default on)
NEWSCRAWL_MAX_ERRORS   ``scrapy crawlall`` counts a spider with more logged errors as failed (10)
NEWSCRAWL_MAX_TITLE_CHARS  an item whose title is longer is dropped as ``title_too_long`` (1000)
NEWSCRAWL_DRIFT_RUNS   how many recent run reports make the drift baseline (default 5)
NEWSCRAWL_DRIFT_MIN_ITEMS  runs with fewer archived articles are not judged (default 5)
NEWSCRAWL_DRIFT_DROP   a field alarms below (1 - this) x its recent median (default 0.5)
NEWSCRAWL_DRIFT_MIN_SHARE  coverage shares usually under this are not judged (default 0.2)
NEWSCRAWL_RECHECK_STEPS  the ages at which an archived article is fetched again to catch edits
                       (default ``1h,6h,1d,2d,7d,30d``; past the last, only signals and the
                       audit fetch it again; see schedule.py)
NEWSCRAWL_RECHECK_LIMIT  the most due re-checks one run makes, most overdue first (default 1000)
NEWSCRAWL_AUDIT_BUDGET  the most settled articles (past the last step) one run audits,
                       oldest-checked first, each at most once a last step (default 20; 0: none)
NEWSCRAWL_CLOCK        a fixed "now" (ISO 8601) for simulations and tests, WARC dates too (default: now)
NEWSCRAWL_RETRY_FAILED_HOURS  a page that gave no item is tried again after this many hours (24)
NEWSCRAWL_RETRY_FAILED_TIMES  ... up to this many tries in all (3), linked from a source or not
NEWSCRAWL_MAX_LISTING_PAGES  the most pages of one listing a crawl follows (default 50)
NEWSCRAWL_MAX_SITEMAPS  the most sitemaps one run reads with ``-a sitemaps=1``, those an index says
                       changed last first (default 50; crawling/sitemaps.py)
NEWSCRAWL_LISTING_BACKLOG  the next listing of a run is asked for once no more than this many
                       requests wait in the scheduler (default 32; 0 asks for them all at once,
                       as Scrapy would; crawling/throttle.py)
NEWSCRAWL_LISTINGS_AT_ONCE  ... and fewer than this many listings are being read (default 4)
NEWSCRAWL_RENDERING    render pages that need JavaScript with chromium (default on)
NEWSCRAWL_CHROMIUM_PATH  the browser (default: the environment variable of the same name, else
                       /usr/bin/chromium, Debian's package)
NEWSCRAWL_RENDER_FALLBACK  a page whose static HTML gives no valid item is fetched once more
                       through the browser (default on; a spider may set render_fallback)
NEWSCRAWL_RENDER_URLS  regular expressions of URLs rendered from the start (default none)
NEWSCRAWL_RENDER_TIMEOUT  seconds the browser may take to load a page (default 20)
NEWSCRAWL_RETRY_AFTER_MAX  the longest ``Retry-After`` (seconds) a 429/503 is retried after;
                       a longer one is not retried in this run (a counted drop; default 120)
NEWSCRAWL_WARC         keep every response the crawl receives as WARC/1.1 (default on; see warc.py)
NEWSCRAWL_WARC_DIR     where: ``<dir>/<spider>/`` (default: ``<NEWSCRAWL_OUTPUT_DIR>/<spider>/warc``)
NEWSCRAWL_WARC_MAX_SIZE  a run's WARC file is continued in a new one past this many bytes (1 GB)
NEWSCRAWL_STYLESHEETS  capture the same-site stylesheets an article page links, once per URL, so
                       that a replayed article is readable (default on; stylesheets.py)
NEWSCRAWL_REPARSE      set by ``scrapy reparse``: requests are answered from the WARC captures, never
                       sent (replay.py; not meant to be set by hand)
NEWSCRAWL_HEAP_TRIM_INTERVAL  every this many seconds, the C heap's free pages go back to the
                       system (glibc's malloc_trim), and blocks of 128 KB or more are mapped on
                       their own (0 turns both off; default 0.25; extensions.py)
NEWSCRAWL_GC_THRESHOLD  once the engine has started, what is alive is frozen out of the cyclic
                       garbage collector and a young collection runs every this many allocations
                       (CPython: 700; 0 leaves the collector alone; default 7000; extensions.py)
NEWSCRAWL_MIRROR       a local mirror server (``python -m tests.mirror.server``) that every
                       request, Scrapy's and the browser's, goes through as through an HTTP
                       proxy, instead of reaching the real sites (default: off)
"""

import os

from scrapy.settings.default_settings import EXTENSIONS_BASE as _scrapy_extensions
from scrapy.settings.default_settings import LOG_VERSIONS as _scrapy_versions

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

# ---- newscrawl -----------------------------------------------------------------------
NEWSCRAWL_OUTPUT_DIR = "output"
NEWSCRAWL_STATE_DIR = None  # <NEWSCRAWL_OUTPUT_DIR>/state
NEWSCRAWL_IMAGES = True
NEWSCRAWL_IMAGE_MAX_WIDTH = 1920
NEWSCRAWL_IMAGE_MAX_BYTES = 15 * 10**6
NEWSCRAWL_IMAGE_RETRY_TIMES = 3
NEWSCRAWL_IMAGES_AT_ONCE = 8
NEWSCRAWL_IMAGE_PROXY = None
NEWSCRAWL_MIRROR = None
NEWSCRAWL_RUN_REPORTS = True
NEWSCRAWL_MAX_ERRORS = 10
NEWSCRAWL_MAX_TITLE_CHARS = 1000
NEWSCRAWL_DRIFT_RUNS = 5
NEWSCRAWL_DRIFT_MIN_ITEMS = 5
NEWSCRAWL_DRIFT_DROP = 0.5
NEWSCRAWL_DRIFT_MIN_SHARE = 0.2
NEWSCRAWL_RECHECK_STEPS = "1h,6h,1d,2d,7d,30d"
NEWSCRAWL_RECHECK_LIMIT = 1000
NEWSCRAWL_AUDIT_BUDGET = 20
NEWSCRAWL_CLOCK = None
NEWSCRAWL_RETRY_FAILED_HOURS = 24.0
NEWSCRAWL_RETRY_FAILED_TIMES = 3
NEWSCRAWL_MAX_LISTING_PAGES = 50
NEWSCRAWL_MAX_SITEMAPS = 50
NEWSCRAWL_LISTING_BACKLOG = 32
NEWSCRAWL_LISTINGS_AT_ONCE = 4
NEWSCRAWL_FSYNC = False
NEWSCRAWL_WARC = True
NEWSCRAWL_WARC_DIR = None
NEWSCRAWL_WARC_MAX_SIZE = 10**9
NEWSCRAWL_STYLESHEETS = True
NEWSCRAWL_REPARSE = False
NEWSCRAWL_HEAP_TRIM_INTERVAL = 0.25
NEWSCRAWL_GC_THRESHOLD = 7000

# ---- no remote consoles -------------------------------------------------------------
# An unattended archiver opens no door into its process: Scrapy's telnet console and its
# HTTP remote-control server (on by default in 2.19) take commands from whoever reaches
# their port.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Both also leave Scrapy's list of extensions: Scrapy 2.19 imports every extension named in
# EXTENSIONS_BASE or EXTENSIONS, even one set to None there, and the remote control's module
# imports aiohttp (~0.08 s of CPU at every start). So ``-s ..._ENABLED=1`` cannot turn them on.
_consoles = {"scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl"}
EXTENSIONS_BASE = {path: order for path, order in _scrapy_extensions.items() if path not in _consoles}
# Scrapy's start-up line of versions, without "Platform": platform.platform() runs `uname -p` in a
# child process (Python 3.11), forked from the crawl at every start: a copy of the process that
# a process tree's memory counts once more (make bench's peak RSS of a crawl: 190 MiB once,
# against 120), for one field of a log line.
LOG_VERSIONS = [name for name in _scrapy_versions if name != "Platform"]

# ---- politeness ----------------------------------------------------------------------
USER_AGENT = "newscrawl/0.1 (news-archiving crawler; Scrapy; obeys robots.txt)"
# No Referer header: an archiver fetches each page as a first visit would, and the sites need
# none. Scrapy's RefererMiddleware then leaves the spider middlewares: its referrer policy ran
# for every request a page yields (1.2 % of a crawl's CPU in issue 23's profile).
REFERER_ENABLED = False
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
# an article page is well under 1 MB; anything far larger is not one
DOWNLOAD_MAXSIZE = 32 * 2**20
DOWNLOAD_WARNSIZE = 4 * 2**20
RETRY_ENABLED = True
RETRY_TIMES = 2  # 5xx, 408, 429 and connection errors; a 404 is final
# a 429/503's Retry-After (seconds or an HTTP date) is waited for up to this (see middlewares.py)
NEWSCRAWL_RETRY_AFTER_MAX = 120.0
HTTPCACHE_ENABLED = False

SPIDER_MIDDLEWARES = {
    # scrapy reparse only: requests made while a replayed response is handled see the site as
    # its run saw it; a page fetched to complete another article gives no item of its own
    "newscrawl.replay.ReplaySpiderMiddleware": 900,
    # Scrapy's, at its place, with a link over URLLENGTH_LIMIT a counted drop (url_too_long)
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "newscrawl.middlewares.UrlLengthMiddleware": 800,
    # an article page's same-site stylesheets asked for once, for replay (stylesheets.py)
    "newscrawl.stylesheets.StylesheetMiddleware": 600,
}

DOWNLOADER_MIDDLEWARES = {
    # NEWSCRAWL_MIRROR: the local mirror as a proxy (before HttpProxyMiddleware, 750)
    "newscrawl.middlewares.MirrorProxyMiddleware": 740,
    # scrapy reparse only: answers every request from the WARC captures, before anything
    # would prepare it for the network (after OffsiteMiddleware at 50); see replay.py
    "newscrawl.replay.ReplayMiddleware": 110,
    # robots.txt of every host a request may reach, pictures' CDNs included (before Scrapy's
    # OffsiteMiddleware at 50, which would drop it)
    "newscrawl.middlewares.RobotsTxtForEveryHostMiddleware": 45,
    # Scrapy's, at its place, with every request waiting for a host's robots.txt obeying it
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newscrawl.middlewares.RobotsTxtMiddleware": 100,
    # before RedirectMiddleware (600) sees the response: off-site redirects become counted drops
    "newscrawl.middlewares.OffsiteRedirectMiddleware": 650,
    # Scrapy's own, at their own places, with redirect loops and over-long chains as counted
    # drops, and Retry-After honoured
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "newscrawl.middlewares.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newscrawl.middlewares.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.middlewares.RetryAfterMiddleware": 550,
    # closest to the download handler: every response as received (before HttpCompression at
    # 590 decodes the body, before retries and redirects), written to WARC (warc.py)
    "newscrawl.warc.CaptureMiddleware": 950,
}
EXTENSIONS = {
    # the owner of the posts, JSON lines and state (and the spider's lock); see archive.py
    "newscrawl.archive.ArchiveExtension": 0,
    # after the lock: a JOBDIR whose last crawl was killed is refused, not resumed into nothing
    "newscrawl.jobdir.JobDirGuard": 1,
    "newscrawl.extensions.RunReport": 500,
    # the progress line in articles per minute replaces Scrapy's items/min line
    "scrapy.extensions.logstats.LogStats": None,
    "newscrawl.extensions.Progress": 0,
    # readable (unquoted) URLs in log messages; the stats at DEBUG instead of Scrapy's dump
    "newscrawl.runlog.RunLog": 0,
    # freed page trees go back to the system (NEWSCRAWL_HEAP_TRIM_INTERVAL)
    "newscrawl.extensions.HeapTrim": 0,
    # the start-up's objects frozen out of the cyclic GC, young collections less often
    "newscrawl.extensions.GcTuning": 0,
}
# the ~60-line stats dump at the end of a crawl: logged at DEBUG (runlog.py) and kept in the
# run report; -s STATS_DUMP=1 brings it back at INFO
STATS_DUMP = False
# Scrapy's stats, without the per-access wrapper that made each increment ~40x dearer
# (newscrawl.extensions.StatsCollector)
STATS_CLASS = "newscrawl.extensions.StatsCollector"

# ---- pipeline ------------------------------------------------------------------------
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for the output of every response (default 100,
# ~100 tasks per article page); a callback here yields one item, or the requests of a
# listing, and the pipelines are synchronous: one at a time is as fast, and cheaper
# (about 5 % less CPU per article measured with make bench).
CONCURRENT_ITEMS = 1
# Scrapy re-reads and re-parses (inspect + ast) a generator callback's source for every
# response to warn about a ``return value`` in it: its cache is keyed weakly by the bound
# method, which every request makes anew, so it never hits (6 % of a crawl's CPU, py-spy).
# tests/test_settings_cost.py makes that check once, for every callback of every spider.
WARN_ON_GENERATOR_RETURN_VALUE = False
ITEM_PIPELINES = {
    "newscrawl.pipelines.NormalizePipeline": 100,
    "newscrawl.pipelines.ValidatePipeline": 200,
    # every picture of the item fetched once and kept (NEWSCRAWL_IMAGES); before the dedupe,
    # so that a re-check of an unchanged article also retries a picture that failed
    "newscrawl.pipelines.PicturesPipeline": 250,
    "newscrawl.pipelines.DedupePipeline": 300,
    # last: writes post, JSON line and state of each new or changed article (archive.py)
    "newscrawl.archive.ArchivePipeline": 800,
}

# The archive's own JSON lines (<output>/<spider>/articles.jsonl) are written by the archive
# with each post (archive.py), not by a feed export. ``-o``/``-O file.jsonl`` on the command
# line are the user's own feeds: they get every new or changed article of the run.
FEEDS: dict = {}
# -o/-O files are written whole line by whole line: a full disk cuts no line in half and
# fails the run (newscrawl/feedfiles.py)
FEED_STORAGES = {"": "newscrawl.feedfiles.FeedFileStorage", "file": "newscrawl.feedfiles.FeedFileStorage"}
FEED_EXPORT_ENCODING = "utf-8"
# -O file.jsonl holds exactly this run's new and changed articles: none, an empty file
FEED_STORE_EMPTY = True

# Picture requests (PicturesPipeline) follow redirects, as a browser does: a picture moved to
# another host or a CDN is still kept (Scrapy's media pipelines do not, by default).
MEDIA_ALLOW_REDIRECTS = True

# ---- transport -----------------------------------------------------------------------
# HTTP/1.1, or chromium for requests that ask for rendering (NEWSCRAWL_MIRROR proxies both).
DOWNLOAD_HANDLERS = {
    "http": "newscrawl.transport.DownloadHandler",
    "https": "newscrawl.transport.DownloadHandler",
}
# No cookies: every page is fetched as a first-time visitor gets it, the same at every
# fetch (neither site needs one). Scrapy's cookie middleware is then left out of the
# downloader, not loaded to switch itself off: its module imports tldextract with requests,
# 40-60 ms of every start (newscrawl.middlewares.CookiesAddon). -s COOKIES_ENABLED=1 brings
# the middleware and cookies back.
COOKIES_ENABLED = False
# Add-ons run once every source of settings (-s included) is applied: the cookie switch
# above, and the browser's launch options from the rendering settings below.
ADDONS = {"newscrawl.middlewares.CookiesAddon": 0, "newscrawl.rendering.RenderingAddon": 0}

# ---- rendering (scrapy-playwright with Debian's chromium; see newscrawl/rendering.py) ---
NEWSCRAWL_RENDERING = True
NEWSCRAWL_CHROMIUM_PATH = os.environ.get("NEWSCRAWL_CHROMIUM_PATH") or "/usr/bin/chromium"
NEWSCRAWL_RENDER_FALLBACK = True
NEWSCRAWL_RENDER_URLS: list[str] = []
NEWSCRAWL_RENDER_TIMEOUT = 20
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_ABORT_REQUEST = "newscrawl.rendering.abort_request"
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
# scrapy-playwright needs the asyncio reactor (its handler checks it is installed, even with its
# own loop in a thread). Twisted's epoll reactor was measured for crawls that cannot render
# (issue 23): not cheaper — a 200-article DW crawl took 4.61/5.44/6.39 s of CPU with asyncio
# and 5.13/5.74/6.97 s with epoll (min/median/max of 6 interleaved), and made 19,000 more
# Python calls (Scrapy runs its Deferred paths where asyncio is missing). So one reactor for
# every command, crawlall's spiders included.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

LOG_LEVEL = "INFO"
