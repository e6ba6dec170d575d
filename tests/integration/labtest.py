"""Shared helpers for the integration tests: a lab instance of real DNS servers on loopback
(deploy/lab/lab) and the soawatch binary under test. Each test script gets its own lab instance
from ctest's environment (LAB_NET, LAB_PORT, LAB_DIR), so scripts can run in parallel."""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SRC = os.environ.get("SOAWATCH_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SOAWATCH_BIN") or os.path.join(SRC, "build", "soawatch")
LAB = os.path.join(SRC, "deploy", "lab", "lab")


class Lab:
    """One lab instance; `up` starts it, `down` stops every process it started (by PID)."""

    def __init__(self, zones=0, timers=None):
        self.zones = zones
        self.timers = timers  # "REFRESH,RETRY,EXPIRE" of every zone, or the lab's defaults
        self.env = {}

    def run(self, *args, check=True, timeout=180):
        proc = subprocess.run([LAB, *map(str, args)], capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"lab {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc.stdout.strip()

    def up(self):
        # LAB_PRIMARY_KIND (bind, knot, pdns) picks the hidden primary's software: the
        # parametrised runs of tests/CMakeLists.txt set it; unset, the lab's default (BIND).
        kind = os.environ.get("LAB_PRIMARY_KIND")
        self.run("up", "--zones", self.zones, *(["--primary", kind] if kind else []),
                 *(["--timers", self.timers] if self.timers else []), timeout=300)
        for line in self.run("env").splitlines():
            if "=" in line:
                key, _, value = line.partition("=")
                self.env[key.strip()] = shlex.split(value)[0] if value.strip() else ""
        return self

    def down(self):
        self.run("down", check=False)

    def __getitem__(self, key):
        return self.env[key]

    @property
    def port(self):
        return int(self.env["LAB_PORT"])

    def secondaries(self, zone=None):
        """The lab's secondaries ('ns1', ...), all of them or those that serve `zone` (a zone
        a secondary cannot load is in none of its NS sets: `lab env`'s LAB_NOT_SERVED)."""
        names = self.env.get("LAB_SECONDARIES", "ns1 ns2 ns3").split()
        if zone is None:
            return names
        skipped = {}
        for entry in self.env.get("LAB_NOT_SERVED", "").split():
            name, _, zones = entry.partition("=")
            skipped[name] = zones.split(",")
        return [n for n in names if zone.rstrip(".") not in skipped.get(n, [])]

    def addr(self, name):
        """Address of a server without the port ('ns1' -> '127.0.20.11')."""
        value = self.env["LAB_" + name.upper()]
        return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def soawatch(*args, timeout=120):
    """Runs the soawatch binary; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def check_json(lab, *zones_and_options, primary=True, extra=()):
    """`soawatch check --json` against the lab; returns (exit code, document)."""
    args = ["check", "--json", "--resolver", lab["LAB_RESOLVER"], "--port", lab.port,
            "--timeout", "500ms", "--retries", "1"]
    if primary:
        args += ["--primary", lab.addr("primary")]
    args += list(extra) + list(zones_and_options)
    rc, out, err = soawatch(*args)
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"soawatch printed no JSON (exit {rc}):\n{out}\n{err}")
    return rc, doc


def states(doc, zone):
    """{(nameserver or '(primary)', address): state or error} for one zone of a check result."""
    for z in doc["zones"]:
        if z["zone"].rstrip(".") == zone.rstrip("."):
            result = {}
            for s in z["servers"]:
                name = "(primary)" if s["is_primary"] else s["nameserver"]
                result[(name, s["address"])] = s["error"] or s["state"]
            return result
    raise AssertionError(f"zone {zone} not in result: {[z['zone'] for z in doc['zones']]}")


def server(doc, zone, address, primary=False):
    for z in doc["zones"]:
        if z["zone"].rstrip(".") == zone.rstrip("."):
            for s in z["servers"]:
                if s["address"] == address and bool(s["is_primary"]) == primary:
                    return s
    raise AssertionError(f"no server {address} for {zone} in {json.dumps(doc)[:2000]}")


def eventually(predicate, timeout=30, interval=0.5, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def collect_tests(module_name="__main__"):
    """Every function named test_* that the script defines, in the order they are written (the
    tests share one lab, so order is part of a script's contract). Collected, never listed by
    hand, so a new test cannot be left out."""
    module = sys.modules[module_name]
    found = [f for name, f in vars(module).items()
             if name.startswith("test_") and callable(f) and getattr(f, "__module__", None) == module_name]
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def main(lab=None):
    """Runs the script's tests (collect_tests(); the names given on the command line only, when
    there are any) in order, sharing the lab; prints a ctest-friendly summary and exits non-zero
    when any failed. The lab is stopped whatever happens."""
    tests = collect_tests()
    wanted = sys.argv[1:]
    unknown = set(wanted) - {t.__name__ for t in tests}
    if unknown:
        sys.exit(f"no such test: {', '.join(sorted(unknown))}")
    if wanted:
        tests = [t for t in tests if t.__name__ in wanted]
    if not tests:
        sys.exit("no test collected")
    passed = failed = 0
    try:
        if lab is not None:
            lab.up()
        for test in tests:
            name = test.__name__
            start = time.monotonic()
            try:
                test()
                passed += 1
                print(f"PASS {name} ({time.monotonic() - start:.1f}s)", flush=True)
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - start:.1f}s)", flush=True)
                traceback.print_exc()
                sys.stdout.flush()
    finally:
        if lab is not None:
            lab.down()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


class Process:
    """A server started by a test and stopped by PID (TERM, then KILL)."""

    def __init__(self, args, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()


def http(url, method="GET", data=None, timeout=10, context=None, credentials=None,
         headers=None):
    """(status, headers, body text) of one HTTP request; HTTP errors are returned, not raised.
    context: an ssl.SSLContext for https; credentials: (user, password) for basic auth."""
    import base64
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    if credentials:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def canonical_zone(name):
    """A zone name as soawatch writes it: lower case, one trailing dot, and the characters
    other than letters, digits, '-', '_' and '*' escaped as DNS presentation format does
    ("<script>x.test" -> "\\<script\\>x.test.")."""
    labels = name.rstrip(".").lower().split(".")
    out = []
    for label in labels:
        out.append("".join(c if c.isalnum() or c in "-_*" else "\\" + c for c in label))
    return ".".join(out) + "."


def escape_label(value):
    """A label value as the text exposition format writes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metric_value(text, name, **labels):
    """Value of one series in a /metrics text (the first with these labels), or None."""
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric_name, _, label_text = series.partition("{")
        if metric_name != name:
            continue
        if all(f'{k}="{escape_label(v)}"' in label_text for k, v in labels.items()):
            return float(value)
    return None


# promtool's lint reads the "ns" of soawatch_ns_set_consistent as nanoseconds; the name is the
# contract of shared/DESIGN.md and issue 12 (dashboards and rules rely on it): that one finding
# is expected, and must stay the only one.
PROMTOOL_EXPECTED = ("soawatch_ns_set_consistent metric names should not contain abbreviated units",)


def promtool_check_metrics(body):
    """`promtool check metrics` of a /metrics body: asserts no finding but PROMTOOL_EXPECTED."""
    proc = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                          text=True, timeout=60)
    # (promtool 2.42 prints lint findings on stderr and exits 3)
    findings = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    unexpected = [f for f in findings if not any(e in f for e in PROMTOOL_EXPECTED)]
    assert not unexpected and (proc.returncode == 0 or findings), proc.stdout + proc.stderr


class Agent:
    """The soawatch daemon under test, on an ephemeral port found from its start-up log.
    With TLS (a web config with tls_server_config) give context, an ssl.SSLContext trusting its
    CA; with basic auth give credentials; both are then used by get() and metrics(). prefix:
    a command that execs the agent (setpriv ...); binary: another copy of the agent to run."""

    # Class defaults, for subclasses that start the agent their own way without __init__.
    context = None
    credentials = None

    def __init__(self, config_path, workdir, extra=(), env=None, lifecycle=True, context=None,
                 credentials=None, log_name="soawatch.log", prefix=(), binary=None,
                 host="127.0.0.1", port=None):
        self.config_path = config_path
        self.port = port or free_port(host)
        self.context = context
        self.credentials = credentials
        self.process = Process([*prefix, binary or BIN, f"--config.file={config_path}",
                                f"--web.listen-address={host}:{self.port}",
                                *(["--web.enable-lifecycle"] if lifecycle else []),
                                "--log.level=debug", *extra],
                               os.path.join(workdir, log_name), env=env)
        self.url = f"{'https' if context else 'http'}://{host}:{self.port}"
        eventually(lambda: self._up(), timeout=20, what="soawatch to listen")

    def _up(self):
        if not self.process.alive():
            raise AssertionError("soawatch exited:\n" + self.process.output())
        try:
            return self.get("/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def get(self, path, timeout=10):
        return http(self.url + path, timeout=timeout, context=self.context,
                    credentials=self.credentials)

    def reload(self, timeout=10):
        """POST /-/reload (the lifecycle API): (status, headers, body text)."""
        return http(self.url + "/-/reload", method="POST", data=b"", timeout=timeout,
                    context=self.context, credentials=self.credentials)

    def metrics(self):
        status, _, body = self.get("/metrics")
        assert status == 200, status
        return body

    def metric(self, name, **labels):
        """Value of one series from /metrics, or None."""
        return metric_value(self.metrics(), name, **labels)

    def terminate(self, within=None, wait=30):
        """SIGTERM: the agent must exit 0 (within `within` seconds when given) and its output
        hold no sanitizer report (with ASan the exit includes the leak check)."""
        start = time.monotonic()
        self.process.signal(signal.SIGTERM)
        self.process.proc.wait(timeout=wait)
        took = time.monotonic() - start
        output = self.process.output()
        assert self.process.proc.returncode == 0, output[-3000:]
        for report in ("LeakSanitizer", "AddressSanitizer", "runtime error"):
            assert report not in output, output[-3000:]
        assert within is None or took < within, f"SIGTERM took {took:.2f}s (bound {within}s)"
        return took

    def stop(self):
        return self.process.stop()


class Prometheus:
    """A real Prometheus server scraping the agent every second."""

    def __init__(self, workdir, targets, config_text=None, host="127.0.0.1", port=None):
        """Scrapes `targets` every second, or runs with `config_text` as its whole config."""
        self.port = port or free_port(host)
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(config_text or
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: soawatch\n    static_configs:\n"
                    f"      - targets: {json.dumps(targets)}\n")
        self.process = Process(["prometheus", f"--config.file={config}",
                                f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
                                f"--web.listen-address={host}:{self.port}"],
                               os.path.join(workdir, "prometheus.log"))
        self.url = f"http://{host}:{self.port}"
        eventually(lambda: self._ready(), timeout=60, what="prometheus to be ready")

    def _ready(self):
        if not self.process.alive():
            raise AssertionError("prometheus exited:\n" + self.process.output())
        try:
            return http(self.url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def query(self, expr):
        """The instant vector of a PromQL expression as [(labels, value)]."""
        import urllib.parse
        status, _, body = http(self.url + "/api/v1/query?query=" + urllib.parse.quote(expr))
        doc = json.loads(body)
        assert status == 200 and doc["status"] == "success", body
        return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]

    def value(self, expr):
        result = self.query(expr)
        return result[0][1] if len(result) == 1 else None

    def stop(self):
        return self.process.stop()


class RecordingReceiver:
    """An HTTP server that records every POST (path, headers, JSON body, arrival time)."""

    def __init__(self, host="127.0.0.1", port=0):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "body": json.loads(body), "at": time.monotonic()})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def alerts(self, path, alertname, status, **labels):
        """(request, alert) of each alert of this name, status and labels in the
        Alertmanager-style (webhook) notifications received at path."""
        return [(r, a) for r in self.posts(path) for a in r["body"]["alerts"]
                if a["labels"]["alertname"] == alertname and a["status"] == status
                and all(a["labels"].get(k) == v for k, v in labels.items())]

    def stop(self):
        self.server.shutdown()


class HangingReceiver:
    """Accepts TCP connections and never reads or answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.held = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                return

    def stop(self):
        self.running = False
        self.sock.close()
        for c in self.held:
            c.close()
