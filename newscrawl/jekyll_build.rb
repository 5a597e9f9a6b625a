# Jekyll over the staged runs of `make site` (newscrawl/website.py), in one Ruby process:
#
#   ruby jekyll_build.rb SOURCE DEST LIST [SOURCE DEST LIST ...]
#
# For each run: `jekyll build --safe` of SOURCE (its _config.yml and _config.spiders.yml) into
# DEST, then LIST gets one line per post Jekyll built: its path, URL and date (tab-separated).
# Loading Jekyll once instead of once a run saves ~0.6 s of CPU a run.
#
# Jekyll's Site#each_site_file (4.3.1, Debian's) skips an item already yielded with
# `Array#include?`, comparing every post with every other by date and path: quadratic in the
# posts of a run, called three times a build (~2 s a call at 2,000 posts, the most of a run of
# 10,000). It is replaced here by the same walk with an identity set: each page, static file and
# document yielded once, in the same order.
#
# With NEWSCRAWL_SITE_TIMES set, each run's CPU seconds by phase go to stderr.
require "jekyll"
require "set"

module Jekyll
  class Site
    def each_site_file
      seen = Set.new.compare_by_identity
      %w(pages static_files_to_write docs_to_write).each do |type|
        send(type).each do |item|
          next unless seen.add?(item)

          yield item
        end
      end
    end
  end
end

if ARGV.empty? || ARGV.length % 3 != 0
  warn "usage: ruby jekyll_build.rb SOURCE DEST LIST [SOURCE DEST LIST ...]"
  exit 2
end

ARGV.each_slice(3) do |source, dest, list|
  begin
    config = Jekyll.configuration(
      "source" => source, "destination" => dest, "safe" => true, "quiet" => true,
      "config" => [File.join(source, "_config.yml"), File.join(source, "_config.spiders.yml")]
    )
    site = Jekyll::Site.new(config)
    if ENV["NEWSCRAWL_SITE_TIMES"]
      clock = -> { Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) }
      times = []
      %i(reset read generate render cleanup write).each do |phase|
        start = clock.call
        site.send(phase)
        times << format("%s %.2f", phase, clock.call - start)
      end
      warn "jekyll #{source}: #{site.posts.docs.length} posts, CPU s: #{times.join(", ")}"
    else
      site.process
    end
    File.open(list, "w:UTF-8") do |out|
      site.posts.docs.each do |post|
        out.write("#{post.relative_path}\t#{post.url}\t#{post.date.xmlschema}\n")
      end
    end
    Jekyll::Cache.clear # the converted posts of this run: no other run has them
  rescue StandardError, SyntaxError => e
    warn "make site: Jekyll failed on #{source}: #{e.class}: #{e.message}"
    exit 1
  end
end
