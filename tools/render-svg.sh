#!/bin/sh
# render-svg.sh renders SVG files (a cutover report's report.svg, say) to
# PNG with headless Chromium, so that a person can look at them as a
# browser draws them. Not needed by CI.
#
#   tools/render-svg.sh report/testdata/completed.svg.golden [more.svg ...]
#
# Each FILE is written to FILE.png beside it (-o DIR: into DIR instead).
# Needs chromium (apt-get install chromium) or CHROMIUM=/path/to/browser.
set -eu

usage() { echo "usage: $0 [-o DIR] FILE.svg [FILE.svg ...]" >&2; exit 2; }
out=""
if [ "${1:-}" = "-o" ]; then
	[ $# -ge 2 ] || usage
	out=$2
	shift 2
	mkdir -p "$out"
fi
[ $# -ge 1 ] || usage

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
	done
fi
[ -n "$browser" ] || { echo "$0: no chromium found; apt-get install chromium, or set CHROMIUM" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for svg in "$@"; do
	[ -f "$svg" ] || { echo "$0: $svg: no such file" >&2; exit 1; }
	# The SVG's own width and height size the window.
	w=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)".*/\1/p' "$svg" | head -n 1)
	h=$(sed -n 's/.*<svg[^>]* height="\([0-9]*\)".*/\1/p' "$svg" | head -n 1)
	w=${w:-960}
	h=${h:-600}
	# An HTML page with the SVG inline, so the browser draws it at its size.
	page="$tmp/page.html"
	{
		printf '<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff}</style></head><body>\n'
		sed '1s/^<?xml[^>]*>//' "$svg"
		printf '</body></html>\n'
	} >"$page"
	png="$svg.png"
	[ -z "$out" ] || png="$out/$(basename "$svg").png"
	# Chromium exits by itself; timeout bounds a hung one.
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/profile" --window-size="$w,$h" \
		--screenshot="$png" "file://$page" >/dev/null 2>&1 || {
		echo "$0: $browser failed on $svg" >&2
		exit 1
	}
	echo "$png"
done
