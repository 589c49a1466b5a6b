#!/usr/bin/env python3
"""Scrapes a Prometheus endpoint and prints its samples, one a line, as
NAME{LABEL="VALUE",...} VALUE with the labels sorted, parsed by the
prometheus_client text parser (which refuses what is not the format).

usage: scrape.py URL"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with urllib.request.urlopen(sys.argv[1], timeout=10) as resp:
        ctype = resp.headers.get("Content-Type", "")
        if not ctype.startswith("text/plain"):
            sys.exit("scrape.py: Content-Type is %r" % ctype)
        text = resp.read().decode("utf-8")
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            print("%s%s %r" % (s.name, "{%s}" % labels if labels else "", s.value))


main()
