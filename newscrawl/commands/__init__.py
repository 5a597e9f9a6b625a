"""Project commands (``COMMANDS_MODULE``): ``scrapy extract``, ``scrapy crawlall``, and ``scrapy crawl``
(exit status 75 when another run holds the spider's lock)."""
