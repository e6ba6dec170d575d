"""The agent against the lab, checked through real counterparts: promtool lints /metrics, a real
Prometheus scrapes it, headless Chromium renders the status page. Faults come from the lab."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

from labtest import (Agent, Lab, Prometheus, canonical_zone, eventually, http, main,
                     promtool_check_metrics)

lab = Lab(zones=3)
work = None
agent = None
prom = None


def write_config(path, zones, interval="60s", broken=False):
    lines = ["global:", f"  interval: {interval}", "  timeout: 500ms", "  retries: 1",
             f"  port: {lab.port}", f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]",
             f"  notify_listen: \"{lab['LAB_AGENT_NOTIFY']}\"",
             "  fast_reprobe_interval: 500ms"]
    if broken:
        lines.append("  timeout: 5x")
    lines.append("zones:")
    for zone, primary in zones:
        lines.append(f"  - name: {zone}")
        if primary:
            lines.append(f"    primary: \"{lab['LAB_PRIMARY']}\"")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# The lab serves "<script>x.test"; soawatch writes it in presentation format: \<script\>x.test.
MARKUP_ZONE = "<script>x.test"
ZONES = [("example.test", True), ("second.test", True), ("longsoa.test", False),
         ("gen0001.test", True), (MARKUP_ZONE, True)]


def setup():
    global work, agent
    work = tempfile.mkdtemp(prefix="soawatch-agent-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    write_config(os.path.join(work, "soawatch.yml"), ZONES)
    agent = Agent(os.path.join(work, "soawatch.yml"), work)


def test_ready_after_first_round():
    setup()
    eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="/readyz")
    for zone, _ in ZONES:
        assert agent.metric("soawatch_zone_consistent", zone=canonical_zone(zone)) == 1, zone


def test_metrics_pass_promtool():
    body = agent.metrics()
    promtool_check_metrics(body)
    for name in ["soawatch_soa_serial", "soawatch_reference_serial", "soawatch_serial_behind",
                 "soawatch_serial_lag_seconds", "soawatch_zone_consistent",
                 "soawatch_nameserver_up", "soawatch_probe_duration_seconds_bucket",
                 "soawatch_last_serial_change_timestamp_seconds", "soawatch_soa_expire_seconds",
                 "soawatch_soa_refresh_seconds", "soawatch_config_last_reload_successful",
                 "soawatch_build_info", "soawatch_last_check_timestamp_seconds",
                 "process_cpu_seconds_total", "process_resident_memory_bytes",
                 "soawatch_dns_queries_sent_total", "soawatch_cycle_duration_seconds"]:
        assert f"\n{name}" in body, name
    assert agent.metric("soawatch_soa_expire_seconds", zone="example.test.") == 1209600


def test_prometheus_scrapes_the_truth():
    global prom
    prom = Prometheus(work, [f"127.0.0.1:{agent.port}"])
    eventually(lambda: prom.value('soawatch_zone_consistent{zone="example.test."}') == 1,
               timeout=30, what="prometheus to see example.test consistent")
    up = prom.query('soawatch_nameserver_up{zone="example.test."}')
    expected = len(lab.secondaries("example.test")) + (1 if lab.env.get("LAB_NS2_V6") else 0)
    assert len(up) == expected + 1 and all(v == 1 for _, v in up), up  # + the primary


def test_lagging_secondary_behind_then_propagated():
    behind = 'soawatch_serial_behind{zone="example.test.",nameserver="ns1.lab.test."}'
    lag = 'soawatch_serial_lag_seconds{zone="example.test.",nameserver="ns1.lab.test."}'
    lab.run("break-xfr", "ns1")
    try:
        lab.run("bump", "example.test")
        # The interval is 60 s: seeing it within seconds means NOTIFY and fast re-probing work.
        eventually(lambda: prom.value(behind) == 1, timeout=20, what="ns1 behind by 1")
        assert prom.value('soawatch_zone_consistent{zone="example.test."}') == 0
        first = eventually(lambda: prom.value(lag), timeout=10, what="lag > 0")
        time.sleep(3)
        assert eventually(lambda: (prom.value(lag) or 0) > first, timeout=10, what="lag growing")
    finally:
        lab.run("fix-xfr", "ns1")
    eventually(lambda: prom.value(behind) == 0, timeout=30, what="ns1 back in sync")
    count = 'soawatch_propagation_seconds_count{nameserver="ns1.lab.test."}'
    eventually(lambda: (prom.value(count) or 0) >= 1, timeout=15, what="a propagation sample")
    assert prom.value('soawatch_zone_consistent{zone="example.test."}') == 1


def test_notify_times_propagation_to_the_second():
    before = agent.metric("soawatch_notify_received_total") or 0
    counts = {ns: agent.metric("soawatch_propagation_seconds_count", nameserver=ns) or 0
              for ns in ("ns2.lab.test.", "ns3.lab.test.")}
    lab.run("bump", "second.test")
    eventually(lambda: (agent.metric("soawatch_notify_received_total") or 0) > before,
               timeout=10, what="the primary's NOTIFY")
    for ns, n in counts.items():
        eventually(lambda: (agent.metric("soawatch_propagation_seconds_count", nameserver=ns) or 0) > n,
                   timeout=15, what=f"propagation to {ns}")
        total = agent.metric("soawatch_propagation_seconds_sum", nameserver=ns)
        count = agent.metric("soawatch_propagation_seconds_count", nameserver=ns)
        assert total / count < 5, (ns, total, count)


def test_api_and_probe_endpoints():
    import json
    status, headers, body = agent.get("/api/v1/zones")
    assert status == 200 and "json" in headers["Content-Type"], (status, headers)
    zones = {z["zone"] for z in json.loads(body)["zones"]}
    assert zones == {canonical_zone(z) for z, _ in ZONES}, zones
    status, _, body = agent.get("/api/v1/zones/EXAMPLE.test")
    assert status == 200 and json.loads(body)["zone"] == "example.test.", body
    assert agent.get("/api/v1/zones/nope.test")[0] == 404
    status, _, body = agent.get(f"/probe?zone=second.test&primary={lab['LAB_PRIMARY']}")
    assert status == 200, (status, body)
    assert 'soawatch_soa_serial{zone="second.test.",nameserver="ns3.lab.test."' in body, body
    assert "example.test." not in body
    status, _, body = agent.get("/probe?zone=a..b")
    assert status == 400 and "invalid zone name" in body, (status, body)
    assert agent.get("/probe")[0] == 400


def test_instance_identity_in_metrics_and_api():
    # Each lab server answers its own NSID (RFC 5001): one info series per address.
    for name in lab.secondaries("example.test"):
        assert agent.metric("soawatch_nameserver_instance_info", zone="example.test.",
                            nameserver=f"{name}.lab.test.", address=lab.addr(name),
                            nsid=f"lab-{name}") == 1, name
    assert agent.metric("soawatch_nameserver_instance_info", zone="example.test.",
                        address=lab.addr("primary"), nsid="lab-primary") == 1
    series = [line for line in agent.metrics().splitlines()
              if line.startswith('soawatch_nameserver_instance_info{zone="example.test."')]
    expected = 1 + len(lab.secondaries("example.test")) + (1 if lab.env.get("LAB_NS2_V6") else 0)
    assert len(series) == expected, series
    status, _, body = agent.get("/api/v1/zones/example.test")
    assert status == 200
    by_address = {s["address"]: s["nsid"] for s in json.loads(body)["servers"]}
    assert by_address[lab.addr("ns1")] == "lab-ns1", by_address
    assert by_address[lab.addr("ns3")] == "lab-ns3", by_address


def chromium_dom(url):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=60)
    shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_status_page_in_chromium_shows_the_lagging_server():
    lab.run("break-xfr", "ns3")
    try:
        lab.run("bump", "gen0001.test")
        eventually(lambda: agent.metric("soawatch_serial_behind", zone="gen0001.test.",
                                        nameserver="ns3.lab.test.") == 1,
                   timeout=20, what="ns3 behind on gen0001.test")
        dom = chromium_dom(agent.url + "/")
        section = dom[dom.index("gen0001.test."):]
        assert "ns3.lab.test." in section and "behind (1)" in section, section[:3000]
        assert 'title="NSID 6c61622d6e7333">lab-ns3</span>' in section, section[:3000]
        # Out-of-sync zones come first.
        assert dom.index("gen0001.test.") < dom.index("example.test."), "order"
    finally:
        lab.run("fix-xfr", "ns3")


def test_status_page_shows_markup_from_dns_as_text():
    # The lab serves a zone named "<script>x.test": the browser must show it, not run it.
    dom = chromium_dom(agent.url + "/")
    assert "\\&lt;script\\&gt;x.test." in dom, dom[:3000]
    assert "<script" not in dom.lower(), "a script element in the rendered page"
    # Asked for by its plain name (a path cannot carry the backslashes of the escaped form).
    name = canonical_zone(MARKUP_ZONE)
    status, _, body = agent.get("/api/v1/zones/" + urllib.parse.quote(MARKUP_ZONE))
    assert status == 200 and json.loads(body)["zone"] == name, body


def test_reload_keeps_old_config_on_error_and_applies_good_one():
    path = agent.config_path
    good = open(path).read()
    write_config(path, ZONES, broken=True)
    status, _, body = agent.reload()
    assert status == 500 and path in body and "timeout" in body, (status, body)
    assert agent.metric("soawatch_config_last_reload_successful") == 0
    for zone, _ in ZONES:
        assert agent.metric("soawatch_zone_consistent",
                            zone=canonical_zone(zone)) is not None, zone
    # Drop gen0001.test: its series disappear; the others keep their state.
    propagations = agent.metric("soawatch_last_propagation_seconds", zone="example.test.",
                                nameserver="ns1.lab.test.")
    write_config(path, [z for z in ZONES if z[0] != "gen0001.test"])
    status, _, body = agent.reload()
    assert status == 200, (status, body)
    assert agent.metric("soawatch_config_last_reload_successful") == 1
    assert agent.metric("soawatch_zone_consistent", zone="gen0001.test.") is None
    assert agent.metric("soawatch_last_propagation_seconds", zone="example.test.",
                        nameserver="ns1.lab.test.") == propagations
    # SIGHUP reloads too.
    write_config(path, ZONES)
    agent.process.signal(signal.SIGHUP)
    eventually(lambda: agent.metric("soawatch_zone_consistent", zone="gen0001.test.") == 1,
               timeout=20, what="gen0001.test back after SIGHUP")
    open(path, "w").write(good)


def test_probes_of_a_silent_server_never_hold_up_healthz_and_metrics():
    """Issue 11 item 3: a Prometheus multi-target job probing a silent primary. While 8 /probe
    requests (the agent's concurrent probe limit, twice its HTTP threads) wait on it, /healthz,
    /readyz and /metrics answer within a second."""
    import socket
    import threading
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # reads nothing, answers nothing
    silent.bind(("127.0.0.1", 0))
    primary = f"127.0.0.1:{silent.getsockname()[1]}"
    path = os.path.join(work, "probe.yml")
    with open(path, "w") as f:
        f.write("global:\n  interval: 60s\n  timeout: 3s\n  retries: 1\n"
                f"  port: {lab.port}\n  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]\nzones: []\n")
    prober = Agent(path, work, log_name="probe.log", lifecycle=False)
    results = []
    try:
        def probe():
            results.append(prober.get(f"/probe?zone=example.test&primary={primary}", timeout=60))
        threads = [threading.Thread(target=probe, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        eventually(lambda: (prober.metric("soawatch_dns_queries_inflight") or 0) > 0,
                   timeout=10, what="the probes' queries to the silent primary in flight")
        for endpoint in ("/healthz", "/readyz", "/metrics"):
            start = time.monotonic()
            status = prober.get(endpoint, timeout=5)[0]
            took = time.monotonic() - start
            print(f"  {endpoint}: {status} in {took:.3f}s with {8 - len(results)} probes waiting")
            assert status == 200, (endpoint, status)
            assert took < 1.0, (endpoint, took)
        assert len(results) < 8, "the probes ended before the check: the primary is not silent"
        for t in threads:
            t.join(timeout=60)
        assert len(results) == 8, results
        for status, _, body in results:
            assert status == 200, (status, body)
            assert 'soawatch_zone_status{zone="example.test."' in body, body
        # Prometheus' scrape timeout bounds the wait, as with blackbox_exporter: 2 s less 0.5 s,
        # where the check itself needs 6 s (two 3 s tries of the silent primary).
        status, _, body = http(f"{prober.url}/probe?zone=example.test&primary={primary}",
                               headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"}, timeout=10)
        assert status == 504 and body == "probe timed out\n", (status, body)
    finally:
        prober.stop()
        silent.close()


def test_sigterm_stops_within_a_second():
    agent.terminate(within=1.5)


def teardown():
    if prom:
        prom.stop()
    if agent:
        agent.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
