"""Project commands (``COMMANDS_MODULE``): ``scrapy extract``."""
