#!/usr/bin/env bash
# Loads the status page in headless Chromium and checks what the browser built from it: markup
# that came from DNS (a zone and a nameserver named "<script>...") shows up as text, and the
# document holds no script element at all.
#
# usage: page_in_browser.sh URL [SCREENSHOT.png]
#   URL serves a snapshot with the zone "<script>alert(1)</script>.test." and a nameserver
#   whose name holds <script>x</script> (exporters_page_test.cpp starts one).
# Exit 0: pass; 1: fail; 77: skipped (no chromium), the ctest SKIP_RETURN_CODE convention.
set -euo pipefail

url=${1:?usage: page_in_browser.sh URL [SCREENSHOT.png]}
screenshot=${2:-}

chromium=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        chromium=$(command -v "$candidate")
        break
    fi
done
if [[ -z $chromium ]]; then
    echo "SKIP: no chromium on PATH" >&2
    exit 77
fi

profile=$(mktemp -d)
dom=$(mktemp)
trap 'rm -rf "$profile" "$dom"' EXIT

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --disable-dev-shm-usage --user-data-dir="$profile" --window-size=1280,900)

rc=0
timeout 60 "$chromium" "${flags[@]}" --dump-dom "$url" >"$dom" 2>/dev/null || rc=$?
if [[ $rc -eq 124 ]]; then
    # A script dialog (alert) blocks headless chromium: markup from DNS may have run.
    echo "FAIL: chromium did not finish loading $url within 60s (a blocking script dialog?)" >&2
    exit 1
elif [[ $rc -ne 0 ]]; then
    echo "FAIL: chromium could not load $url (exit $rc)" >&2
    exit 1
fi

fail=0
expect() {  # expect DESCRIPTION FIXED-STRING
    if ! grep -qF -- "$2" "$dom"; then
        echo "FAIL: $1: not in the DOM: $2" >&2
        fail=1
    fi
}

expect "page loaded" "<title>"
expect "stylesheet linked" 'href="/static/soawatch.css"'
# The serialised DOM escapes "<" in text nodes: the markup from DNS stayed text.
expect "zone name as text" "&lt;script&gt;alert(1)&lt;/script&gt;.test."
expect "nameserver name as text" "ns\"1\"&amp;&lt;script&gt;x&lt;/script&gt;.test."
if grep -qi '<script' "$dom"; then
    echo "FAIL: the DOM holds a script element:" >&2
    grep -io '<script[^>]*>[^<]*' "$dom" | head -5 >&2
    fail=1
fi
if grep -qiE '<[a-z]+[^>]* on[a-z]+=' "$dom"; then
    echo "FAIL: the DOM holds an event handler attribute" >&2
    fail=1
fi

if [[ -n $screenshot ]]; then
    timeout 60 "$chromium" "${flags[@]}" --screenshot="$screenshot" "$url" >/dev/null 2>&1 || true
fi

if [[ $fail -ne 0 ]]; then
    echo "--- DOM ---" >&2
    head -c 4000 "$dom" >&2
    exit 1
fi
echo "PASS: status page escapes DNS markup in the browser ($url)"
