"""The locked-down HTTP endpoint against real counterparts: a CA and a server certificate made
with the openssl CLI, a real Prometheus scraping over TLS with basic auth, headless Chromium
rendering the status page under its Content-Security-Policy, plain Python clients for the
refusals (401, 403, 413, 429, 431), the JSON log read line by line, and SIGTERM while checks
wait on a paused nameserver. Three agents: A (TLS, basic auth, JSON logs), B (plain HTTP,
lifecycle API off, short DNS timeouts) and C (a tight rate limit)."""

import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

from labtest import BIN, Agent, Lab, Prometheus, eventually, http, main

lab = Lab(zones=0)
work = None
certs = {}
PASSWORD = "s3cret \"with\" spaces"  # never to appear in a log
HASH = None
agent_a = agent_b = agent_c = None
prom = None


def openssl(*args):
    subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)


def make_certificates():
    """A CA and a server certificate for 127.0.0.1 signed by it (EC P-256)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=soawatch-test-ca")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(work, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt")
    for name in ("ca.crt", "server.crt", "server.key"):
        certs[name] = os.path.join(work, name)


def bcrypt_hash(password, cost=10):
    """crypt(3) from libxcrypt, as `htpasswd -nbBC 10` would make it ($2b$ instead of $2y$)."""
    libcrypt = ctypes.CDLL("libcrypt.so.1")
    libcrypt.crypt_gensalt.restype = ctypes.c_char_p
    libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
                                       ctypes.c_int]
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = libcrypt.crypt_gensalt(b"$2b$", cost, None, 0)
    return libcrypt.crypt(password.encode(), salt).decode()


def write_config(path, zones, interval="60s", timeout="500ms", extra=()):
    lines = ["global:", f"  interval: {interval}", f"  timeout: {timeout}", "  retries: 1",
             f"  port: {lab.port}", f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]", *extra,
             "zones:"] + [f"  - {zone}" for zone in zones]
    if not zones:
        lines[-1] = "zones: []"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def tls_context():
    return ssl.create_default_context(cafile=certs["ca.crt"])


def setup():
    global work, HASH, agent_a, agent_b, agent_c
    work = tempfile.mkdtemp(prefix="soawatch-web-",
                            dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    make_certificates()
    HASH = bcrypt_hash(PASSWORD)
    with open(os.path.join(work, "web-a.yml"), "w") as f:
        f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                f"basic_auth_users:\n  prometheus: '{HASH}'\n")
    with open(os.path.join(work, "web-c.yml"), "w") as f:
        f.write("rate_limit:\n  interval: 1m\n  burst: 5\n")
    write_config(os.path.join(work, "a.yml"), ["example.test", "second.test"])
    # B: every zone checked every 2 s with 1 s tries, so checks are in flight all the time.
    write_config(os.path.join(work, "b.yml"), ["example.test", "second.test", "longsoa.test"],
                 interval="2s", timeout="1s")
    write_config(os.path.join(work, "c.yml"), [])
    agent_a = Agent(os.path.join(work, "a.yml"), work, log_name="a.log",
                    extra=[f"--web.config.file={work}/web-a.yml", "--log.format=json"],
                    context=tls_context(), credentials=("prometheus", PASSWORD))
    agent_b = Agent(os.path.join(work, "b.yml"), work, log_name="b.log", lifecycle=False)
    agent_c = Agent(os.path.join(work, "c.yml"), work, log_name="c.log", lifecycle=False,
                    extra=[f"--web.config.file={work}/web-c.yml"])


def test_wrong_or_missing_password_is_401():
    setup()
    url = agent_a.url + "/metrics"
    for credentials in (None, ("prometheus", "wrong"), ("nobody", PASSWORD),
                        ("prometheus", PASSWORD + " ")):
        status, headers, body = http(url, context=tls_context(), credentials=credentials)
        assert status == 401, (credentials, status, body)
        assert headers["WWW-Authenticate"] == 'Basic realm="soawatch", charset="UTF-8"', headers
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), headers
    status, _, body = agent_a.get("/metrics")
    assert status == 200 and "soawatch_build_info" in body, (status, body[:300])


def test_plain_http_and_untrusted_clients_get_nothing_from_the_tls_port():
    try:
        status = http(f"http://127.0.0.1:{agent_a.port}/healthz", timeout=5)[0]
        raise AssertionError(f"plain HTTP to the TLS port answered {status}")
    except (OSError, http_client_errors()) as e:
        print(f"  plain HTTP: {type(e).__name__}: {e}")
    try:
        http(agent_a.url + "/healthz", context=ssl.create_default_context(), timeout=5)
        raise AssertionError("a client without the CA was served")
    except OSError as e:  # ssl.SSLCertVerificationError (within URLError)
        assert "CERTIFICATE_VERIFY_FAILED" in str(e), e


def http_client_errors():
    import http.client
    return http.client.HTTPException


def test_prometheus_scrapes_over_tls_with_basic_auth():
    global prom
    target = json.dumps([f"127.0.0.1:{agent_a.port}"])
    tls = f"    scheme: https\n    tls_config:\n      ca_file: {certs['ca.crt']}\n"
    config = ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
              f"  - job_name: soawatch\n    static_configs:\n      - targets: {target}\n" + tls +
              f"    basic_auth:\n      username: prometheus\n      password: '{PASSWORD}'\n"
              f"  - job_name: wrong_password\n    static_configs:\n      - targets: {target}\n" +
              tls + "    basic_auth:\n      username: prometheus\n      password: guess\n")
    prom = Prometheus(work, [], config_text=config)
    eventually(lambda: prom.value('up{job="soawatch"}') == 1, timeout=30,
               what="the TLS + basic auth target up")
    eventually(lambda: prom.value('soawatch_zone_consistent{zone="example.test."}') == 1,
               timeout=30, what="a soawatch metric through TLS")
    eventually(lambda: prom.value('up{job="wrong_password"}') == 0, timeout=30,
               what="the wrong password target down")


def chromium(url, profile_name):
    """(exit code, DOM, console lines) of headless Chromium loading url. Under load (a CI run,
    beside the interop tests and a fuzzer) it once exited 0 without printing any DOM, where it
    passed the next four times: it is then asked once more, and the second answer counts."""
    for attempt in range(2):
        profile = tempfile.mkdtemp(prefix=profile_name, dir=work)
        proc = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--ignore-certificate-errors", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--dump-dom", url],
            capture_output=True, text=True, timeout=90)
        shutil.rmtree(profile, ignore_errors=True)
        if proc.returncode != 0 or proc.stdout.strip():
            break
        print(f"  chromium exited without a DOM (attempt {attempt + 1})")
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.returncode, proc.stdout, console


def test_status_page_renders_under_its_csp_in_chromium():
    import http.server
    _, headers, _ = agent_a.get("/")
    csp = headers["Content-Security-Policy"]
    assert "script-src" not in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    assert headers["X-Content-Type-Options"] == "nosniff", headers
    assert headers["Referrer-Policy"] == "no-referrer", headers

    # Control: the same policy over a page with inline style and script is reported by this
    # Chromium on its console, so an empty console below means something.
    class Inline(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = (b"<!DOCTYPE html><title>x</title><style>p{color:red}</style>"
                    b"<p style='color:blue'>x</p><script>document.title='ran'</script>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Inline)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _, _, console = chromium(f"http://127.0.0.1:{server.server_port}/", "control-")
    finally:
        server.shutdown()
    assert sum("Content Security Policy" in line for line in console) >= 2, console

    url = f"https://prometheus:{urllib.parse.quote(PASSWORD, safe='')}@127.0.0.1:{agent_a.port}/"
    rc, dom, console = chromium(url, "page-")
    assert rc == 0, console
    assert "example.test." in dom and "<title>" in dom, dom[:2000]
    assert 'href="/static/soawatch.css"' in dom, dom[:2000]
    problems = [line for line in console if "Content Security Policy" in line
                or "Failed to load" in line or "Refused" in line]
    assert not problems, problems


def test_reload_applies_a_new_web_config_and_keeps_the_old_one_when_bad():
    path = os.path.join(work, "web-a.yml")
    good = open(path).read()
    second = bcrypt_hash("another one", cost=4)

    with open(path, "w") as f:
        f.write(good + f"  second: '{second}'\n")
    assert agent_a.reload()[0] == 200
    assert http(agent_a.url + "/healthz", context=tls_context(),
                credentials=("second", "another one"))[0] == 200
    with open(path, "w") as f:
        f.write(good + "  third: plain-text-password\n")
    status, _, body = agent_a.reload()
    assert status == 500 and f"{path}:6: basic_auth_users.third: not a bcrypt hash" in body, body
    assert "plain-text-password" not in body
    assert http(agent_a.url + "/healthz", context=tls_context(),
                credentials=("second", "another one"))[0] == 200
    with open(path, "w") as f:
        f.write(good)
    assert agent_a.reload()[0] == 200
    assert http(agent_a.url + "/healthz", context=tls_context(),
                credentials=("second", "another one"))[0] == 401


def test_json_logs_one_object_per_line_without_secrets():
    # An error whose message holds quotes, a backslash and a control character.
    path = agent_a.config_path
    good = open(path).read()
    with open(path, "a") as f:
        f.write('  - "bad\\"zone\\\\\\tname"\n')
    status, _, body = agent_a.reload()
    assert status == 500 and "invalid zone name" in body, (status, body)
    with open(path, "w") as f:
        f.write(good)

    text = agent_a.process.output()
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"line {number} is not JSON ({e}): {line!r}")
        assert {"ts", "level", "msg"} <= event.keys(), line
        events.append(event)
    started = [e for e in events if e["msg"] == "soawatch started"]
    assert len(started) == 1, events[:5]
    summary = started[0]
    assert summary["tls"] == "on" and summary["basic_auth"] == "on", summary
    assert summary["listen"] == f"127.0.0.1:{agent_a.port}", summary
    assert summary["zones"] == "2" and summary["notify_listen"] == "off", summary
    failed = [e["error"] for e in events if e["msg"].startswith("configuration reload failed")]
    assert any('invalid zone name "bad\\"zone\\\\\\x09name"' in e for e in failed), failed
    for secret in (PASSWORD, HASH, HASH[7:29], "plain-text-password"):
        assert secret not in text, f"a secret is in the log: {secret!r}"


def test_lifecycle_api_off_is_403():
    status, headers, body = http(agent_b.url + "/-/reload", method="POST", data=b"")
    assert status == 403, (status, body)
    assert "--web.enable-lifecycle" in body, body
    assert http(agent_b.url + "/-/reload")[0] == 405


def raw_request(port, request):
    """All the server sends back until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    return reply.decode(errors="replace")


def test_oversize_requests_are_refused():
    header = raw_request(agent_b.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " +
                         b"a" * 20000 + b"\r\n\r\n")
    assert " 431 " in header.split("\r\n")[0], header[:300]
    assert "Content-Security-Policy:" in header, header[:600]
    body = raw_request(agent_b.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 100000\r\n\r\n" + b"x" * 1000)
    assert " 413 " in body.split("\r\n")[0], body[:300]


def test_rate_limit_is_429_with_retry_after():
    statuses = []
    for _ in range(8):
        status, headers, _ = agent_c.get("/healthz")
        statuses.append(status)
        if status == 429:
            retry = int(headers["Retry-After"])
            assert 1 <= retry <= 60, headers
            break
    assert statuses[0] == 200 and statuses[-1] == 429, statuses


def test_sigterm_stops_within_a_second_with_checks_in_flight():
    lab.run("pause", "ns1")
    try:
        # Every check of B now waits on ns1's timeouts.
        eventually(lambda: (agent_b.metric("soawatch_dns_queries_inflight") or 0) > 0,
                   timeout=20, what="DNS queries in flight")
        # And an HTTP thread waits in a synchronous /probe on the paused server.
        probe = threading.Thread(target=lambda: _quietly(agent_b.get, "/probe?zone=example.test",
                                                         timeout=30), daemon=True)
        probe.start()
        time.sleep(0.3)
        start = time.monotonic()
        agent_b.process.signal(signal.SIGTERM)
        agent_b.process.proc.wait(timeout=10)
        took = time.monotonic() - start
        assert agent_b.process.proc.returncode == 0, agent_b.process.output()[-2000:]
        print(f"  stopped in {took:.3f}s")
        assert took < 1.0, took
        probe.join(timeout=5)
    finally:
        lab.run("resume", "ns1")


def test_runs_as_nobody_without_capabilities():
    """The default port (9353) and every socket the agent opens need no privilege: it runs as
    nobody with every capability dropped, serves HTTP and checks zones."""
    if os.geteuid() != 0:
        print("  skipped: setpriv needs root to change the user")
        return
    # What nobody reads (the config, the binary) lives in a fresh folder of its own: the build
    # tree may lie in a private home (mode 0700) that nobody cannot traverse.
    reachable = tempfile.mkdtemp(prefix="soawatch-nobody-")
    os.chmod(reachable, 0o755)
    binary = os.path.join(reachable, "soawatch")
    shutil.copy(BIN, binary)
    os.chmod(binary, 0o755)
    config = os.path.join(reachable, "d.yml")
    write_config(config, ["example.test"], interval="5s")
    os.chmod(config, 0o644)
    agent_d = Agent(config, work, log_name="d.log", lifecycle=False, binary=binary,
                    prefix=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"])
    try:
        with open(f"/proc/{agent_d.process.proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        assert status["Uid"].split()[0] == "65534", status["Uid"]
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[cap].strip(), 16) == 0, (cap, status[cap])
        eventually(lambda: agent_d.metric("soawatch_zone_consistent", zone="example.test.") == 1,
                   timeout=20, what="example.test checked by the unprivileged agent")
    finally:
        agent_d.stop()
        shutil.rmtree(reachable, ignore_errors=True)


def _quietly(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except OSError:
        pass


def teardown():
    for process in (prom, agent_a, agent_b, agent_c):
        if process:
            process.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
