#!/bin/sh
# newscrawl for cron: every spider once (scrapy crawlall), the output in a dated log file.
#
# Exit status 75 (the previous run still holds a spider's lock: that spider was skipped) is
# a success here, as in the systemd unit (SuccessExitStatus=75). Nothing is printed unless
# the run failed (1) or its config is wrong (2): then one line and crawlall's summary lines,
# which cron mails. Logs: $NEWSCRAWL_LOG_DIR (output/logs)/crawlall-<UTC date>.log, deleted
# after $NEWSCRAWL_LOG_DAYS (30) days. Arguments are passed on to crawlall (e.g. -s NAME=VALUE).
set -u
cd "$(dirname "$0")/.." || exit 1
log_dir=${NEWSCRAWL_LOG_DIR:-output/logs}
keep_days=${NEWSCRAWL_LOG_DAYS:-30}
config=${NEWSCRAWL_CONFIG:-deploy/crawl.toml}
scrapy=${NEWSCRAWL_SCRAPY:-.venv/bin/scrapy}  # word-split on purpose: "python -m scrapy" works
mkdir -p "$log_dir" || exit 1
log="$log_dir/crawlall-$(date -u +%Y-%m-%d).log"
start=1  # this run's part of the day's log
[ -f "$log" ] && start=$(($(wc -c <"$log") + 1))

$scrapy crawlall -c "$config" "$@" >>"$log" 2>&1
status=$?

find "$log_dir" -name 'crawlall-*.log' -mtime +"$keep_days" -exec rm -f {} + 2>/dev/null
case $status in
  0 | 75) exit 0 ;;
esac
case $log in /*) ;; *) log="$(pwd)/$log" ;; esac
echo "newscrawl: crawlall failed with status $status (log: $log)"
tail -c +"$start" "$log" | grep -E '^(crawlall: |scrapy crawlall: )'
exit "$status"
