#!/usr/bin/env python3
"""Uses the status page at scale in headless Chromium as an operator would, through the DevTools
protocol on a pipe (--remote-debugging-pipe: no port, no extra package): loads the first page,
checks that the problems come first and that one page stays small, opens a zone, types a name
into the filter and submits the form, picks a state, follows the state links and pages through
the list. The page's own Content-Security-Policy stays in force (no bypass): the form must be
allowed to submit, and no policy violation may be reported.

usage: page_at_scale.py URL [SCREENSHOT.png]
  URL serves a snapshot of 10,000 zones z0000000.scale.test. .. z0009999.scale.test., all OK
  but z0009999 (CRITICAL), z0004000 (WARNING, out of sync) and z0007000 (UNKNOWN); every
  server on port 5300 (exporters_page_test.cpp starts one).
Exit 0: pass; 1: fail; 77: skipped (no chromium), the ctest SKIP_RETURN_CODE convention.
Python 3 standard library only.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

ZONES = 10000
PER_PAGE = 50
CRITICAL, WARNING, UNKNOWN = "z0009999.scale.test.", "z0004000.scale.test.", "z0007000.scale.test."
PROBLEMS = [CRITICAL, WARNING, UNKNOWN]


class Failure(Exception):
    pass


def high_fd(fd):
    """The same file at a descriptor above 9; fd is closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    """One headless Chromium and one page, driven over fds 3 (commands) and 4 (answers)."""

    def __init__(self, chromium, timeout=30):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="page-at-scale-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # The browser's ends above 9, so that moving them to 3 and 4 overwrites neither.
        to_browser_r = high_fd(to_browser_r)
        from_browser_w = high_fd(from_browser_w)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--remote-debugging-pipe", f"--user-data-dir={self.profile}"]
        # The protocol pipe is fds 3 and 4 of the browser; bash puts the pipe's ends there.
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w} ' \
                 f'{to_browser_r}<&- {from_browser_w}>&-'
        self.process = subprocess.Popen(["bash", "-c", script, chromium] + flags,
                                        pass_fds=(to_browser_r, from_browser_w),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no answer from chromium in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise Failure("chromium closed its protocol pipe")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method, params=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise Failure(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for_load(self, what):
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == "Page.loadEventFired":
                    del self.events[i]  # the log entries before it stay for console()
                    return
            try:
                self.events.append(self._read_message(deadline))
            except Failure as e:
                raise Failure(f"{what}: the page did not load ({e})") from None

    def navigate(self, url):
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", {"url": url})
        self.wait_for_load("navigate to " + url)

    def js(self, expression):
        """The value of a DevTools expression (DevTools is not the page: its CSP does not apply)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise Failure(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click_and_load(self, selector, what):
        """A click that navigates (a link, a submit button), then the new page."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        found = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                        f" if (!e) return false; e.click(); return true; }})()")
        if not found:
            raise Failure(f"{what}: nothing matches {selector}")
        self.wait_for_load(what)

    def console(self):
        """Console and log lines seen so far (CSP violations are reported here)."""
        lines = []
        for event in self.events:
            if event.get("method") == "Log.entryAdded":
                lines.append(event["params"]["entry"].get("text", ""))
            elif event.get("method") == "Runtime.consoleAPICalled":
                lines.append(" ".join(str(a.get("value", "")) for a in event["params"]["args"]))
        return lines

    def screenshot(self, path):
        import base64
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


ROWS = "[...document.querySelectorAll('details.zone > summary .c-zone')].map(e => e.textContent)"
RANGE = "document.querySelector('nav.pager .range').textContent"


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(browser, base, screenshot):
    checks = 0

    # The first page: problems first, one screen of zones, a small document.
    browser.navigate(base + "/")
    if screenshot:
        browser.screenshot(screenshot)
    rows = browser.js(ROWS)
    check(len(rows) == PER_PAGE, f"first page: {len(rows)} zones, not {PER_PAGE}")
    check(rows[:3] == PROBLEMS, f"first page: problems not first: {rows[:5]}")
    check(rows[3] == "z0000000.scale.test.", f"first page: OK zones by name after: {rows[3:6]}")
    summary = browser.js("document.querySelector('header .summary').textContent")
    check("10,000 zones" in summary and "1 critical" in summary and "2 out of sync" in summary,
          f"summary: {summary}")
    check(browser.js(RANGE) == "Zones 1\u201350 of 10,000", f"range: {browser.js(RANGE)}")
    size = browser.js("document.documentElement.outerHTML.length")
    check(size < 150_000, f"first page of 10,000 zones weighs {size} characters")
    check(browser.js("document.querySelectorAll('script').length") == 0, "a script element")
    # The problems are open, their servers in view; the OK zones are one line each.
    check(browser.js("document.querySelector('details.zone.critical').open") is True,
          "the critical zone is not expanded")
    check(browser.js("document.querySelectorAll('details.zone[open]').length") == 3,
          "not exactly the three problems expanded")
    # "port 5300" never breaks over two lines (one box per port span).
    broken = browser.js("[...document.querySelectorAll('details[open] td.addr .port')]"
                        ".filter(e => e.getClientRects().length != 1).length")
    ports = browser.js("document.querySelectorAll('details[open] td.addr .port').length")
    check(ports == 9 and broken == 0, f"{broken} of {ports} 'port 5300' broken over lines")
    # ... nor does an IPv4 address, and its port follows it on the same line at this width.
    apart = browser.js("[...document.querySelectorAll('details[open] td.addr')].filter(td => {"
                       " const ip = td.querySelector('.ip').getClientRects();"
                       " const port = td.querySelector('.port').getClientRects();"
                       " return ip.length != 1 || Math.abs(ip[0].top - port[0].top) > 2; }).length")
    check(apart == 0, f"{apart} addresses wrap or lose their port to the next line")
    # A click on a zone's line opens it: <details>, no script of the page.
    browser.js("document.querySelectorAll('details.zone > summary')[3].click()")
    check(browser.js("document.querySelectorAll('details.zone')[3].open") is True,
          "a click on an OK zone's line did not open it")
    check(browser.js("document.querySelectorAll('details.zone')[3]"
                     ".querySelectorAll('tbody tr').length") == 3, "the opened zone's servers")
    checks += 1

    # The filter by name: typed into the form and submitted (a GET form, under the page's CSP).
    browser.js("document.querySelector('form.filter input[name=q]').value = 'Z0005123'")
    browser.click_and_load("form.filter button[type=submit]", "submit the name filter")
    search = browser.js("location.search")
    check("q=Z0005123" in search, f"the form did not submit its filter: {search}")
    rows = browser.js(ROWS)
    check(rows == ["z0005123.scale.test."], f"name filter: {rows}")
    check(browser.js("document.querySelector('details.zone').open") is True,
          "the one zone found is not expanded")
    check(browser.js("document.querySelector('form.filter input[name=q]').value") == "z0005123",
          "the filter does not show what it filters by")
    json_link = browser.js("document.querySelector('details.zone a.c-json').getAttribute('href')")
    check(json_link == "/api/v1/zones/z0005123.scale.test.", f"JSON link: {json_link}")
    # A zone's name links to its own list, where it stays open across the page's refresh.
    browser.navigate(base + "/")
    browser.click_and_load("details.zone.ok .c-zone a", "follow an OK zone's name")
    check(browser.js("location.search") == "?q=z0000000.scale.test.", browser.js("location.search"))
    check(browser.js(ROWS) == ["z0000000.scale.test."], f"the zone's own list: {browser.js(ROWS)}")
    check(browser.js("document.querySelector('details.zone').open") is True, "not open")
    checks += 1

    # The filter by state: picked in the form.
    browser.js("document.querySelector('form.filter input[name=q]').value = ''")
    browser.js("document.querySelector('form.filter select[name=state]').value = 'ok'")
    browser.click_and_load("form.filter button[type=submit]", "submit the state filter")
    rows = browser.js(ROWS)
    check(rows[0] == "z0000000.scale.test." and len(rows) == PER_PAGE, f"state=ok: {rows[:3]}")
    check(browser.js(RANGE) == "Zones 1\u201350 of 9,997", f"state=ok range: {browser.js(RANGE)}")
    badges = browser.js("[...document.querySelectorAll('details.zone > summary .c-state')]"
                        ".map(e => e.textContent)")
    check(set(badges) == {"OK"}, f"state=ok lists {set(badges)}")
    # ... and by the state links, which keep the name filter.
    browser.click_and_load("nav.states a[href='?state=problems']", "follow the Problems link")
    rows = browser.js(ROWS)
    check(rows == PROBLEMS, f"state=problems: {rows}")
    browser.navigate(base + "/?q=z00070")
    browser.click_and_load("nav.states a[href='?q=z00070&state=unknown']",
                           "follow the Unknown link with a name filter")
    check(browser.js(ROWS) == [UNKNOWN], f"q=z00070&state=unknown: {browser.js(ROWS)}")
    checks += 1

    # Pages: next, next, last; the problems stay on page 1 only.
    browser.navigate(base + "/")
    browser.click_and_load("nav.pager a[rel=next]", "next page")
    check(browser.js("location.search") == "?page=2", browser.js("location.search"))
    check(browser.js(RANGE) == "Zones 51\u2013100 of 10,000", f"page 2: {browser.js(RANGE)}")
    rows = browser.js(ROWS)
    check(rows[0] == "z0000047.scale.test." and rows[-1] == "z0000096.scale.test.",
          f"page 2: {rows[0]} .. {rows[-1]}")
    browser.click_and_load("nav.pager a[rel=next]", "page 3")
    check(browser.js(ROWS)[0] == "z0000097.scale.test.", "page 3")
    browser.click_and_load("nav.pager a[rel=prev]", "back to page 2")
    check(browser.js(ROWS)[0] == "z0000047.scale.test.", "previous page")
    browser.click_and_load("nav.pager a:last-of-type", "last page")
    check(browser.js(RANGE) == "Zones 9,951\u201310,000 of 10,000", f"last: {browser.js(RANGE)}")
    rows = browser.js(ROWS)
    check(rows[-1] == "z0009998.scale.test." and CRITICAL not in rows, f"last page: {rows[-3:]}")
    check(browser.js("document.querySelector('nav.pager a[rel=next]')") is None,
          "a next link on the last page")
    checks += 1

    problems = [line for line in browser.console()
                if "Content Security Policy" in line or "Refused" in line]
    check(not problems, f"policy violations: {problems}")
    return checks


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    screenshot = sys.argv[2] if len(sys.argv) > 2 else None
    chromium = next((shutil.which(c) for c in ("chromium", "chromium-browser", "google-chrome")
                     if shutil.which(c)), None)
    if not chromium:
        print("SKIP: no chromium on PATH", file=sys.stderr)
        return 77
    browser = Browser(chromium)
    try:
        checks = run(browser, base, screenshot)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        browser.close()
    print(f"PASS: the status page of {ZONES:,} zones in headless chromium ({checks} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
