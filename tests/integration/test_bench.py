"""bench/run --smoke: the benchmark harness works end to end on a small scale lab (Knot with
1,000 zones on three loopback addresses, dnsperf, the agent's full cycle and daemon, Debian's
blackbox_exporter) and writes its table and JSON. Nothing about speed is asserted: the full run
is a command in the README, not a test. Then bench/page on the same scale: the status page over
HTTP. Then bench/propagation --smoke on a lab instance, and bench/run --discovery --smoke (50
zones discovered through the scale lab's primary, then through unbound). Time budget: about 85 s
(2 minutes under sanitizers)."""

import json
import os
import subprocess

from labtest import BIN, SRC, main

RESULTS = os.path.join(os.environ.get("LAB_DIR", "/tmp/soawatch-bench-smoke"), "results.json")
run = {}


def test_smoke_run_succeeds():
    proc = subprocess.run([os.path.join(SRC, "bench", "run"), "--smoke", "--soawatch", BIN,
                           "--json", RESULTS], capture_output=True, text=True, timeout=600)
    run["out"] = proc.stdout
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    assert "nameservers are explicit in the agent configuration" in proc.stderr, proc.stderr


def test_table_is_printed():
    lines = run["out"].splitlines()
    header = [line for line in lines if line.startswith("| zones |")]
    assert len(header) == 1, run["out"]
    assert any(line.startswith("| 1,000 | 3,000 |") for line in lines), run["out"]
    assert any(line.startswith("blackbox_exporter") for line in lines), run["out"]


def test_json_has_every_measurement():
    with open(RESULTS) as f:
        doc = json.load(f)
    [size] = doc["sizes"]
    assert size["zones"] == 1000 and size["probes"] == 3000, size
    for key in ("cycle_seconds", "agent_probes_per_second", "dnsperf_qps", "ratio",
                "agent_cpu_seconds_per_100k", "dnsperf_cpu_seconds_per_100k", "rss_bytes",
                "peak_rss_bytes", "steady_cpu_percent", "blackbox_ratio"):
        assert isinstance(size[key], (int, float)) and size[key] > 0, (key, size.get(key))
    assert size["metrics"]["bytes"] > size["metrics_compact"]["bytes"] > 0, size
    assert doc["blackbox"]["checks"] == 300 and doc["blackbox"]["checks_per_cpu_second"] > 0
    assert doc["table"] in run["out"]


def discovery_smoke(resolver):
    """bench/run --discovery --smoke --resolver RESOLVER: 50 zones discovered (NS, then the A
    and AAAA of ns1-ns3.bench), the hidden primary probed, dnsperf with the same queries per
    server; the table, the physical bound and every zone in sync. Nothing about speed."""
    out = os.path.join(os.path.dirname(RESULTS), f"results-discovery-{resolver}.json")
    proc = subprocess.run([os.path.join(SRC, "bench", "run"), "--discovery", "--smoke",
                           "--resolver", resolver, "--soawatch", BIN, "--json", out],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    assert f"nameservers are discovered through {resolver}" in proc.stderr, proc.stderr
    with open(out) as f:
        doc = json.load(f)
    for size in doc["sizes"]:
        # Each zone: its NS, its SOA from the primary and the three secondaries; the A and AAAA
        # of the three NS names once.
        assert size["zones"] == 50 and size["probes"] == 200, size
        assert size["agent_queries"] >= 50 * 5 + 6, size  # more when an answer was retried
        assert size["verdict_line"] == "SOA OK - 50 zones in sync", size
        for key in ("round_seconds", "agent_qps", "dnsperf_qps", "ratio", "bound_seconds",
                    "round_over_bound"):
            assert isinstance(size[key], (int, float)) and size[key] > 0, (key, size.get(key))
        assert any(line.startswith(f"| 50 | {size['resolver']} |")
                   for line in proc.stdout.splitlines()), proc.stdout
    assert doc["table"] in proc.stdout
    return doc


def test_discovery_through_the_primary_smoke():
    doc = discovery_smoke("primary")
    [size] = doc["sizes"]
    assert size["resolver"] == "primary", size
    assert size["queries_per_server"][doc["settings"]["primary"]] == 50 * 2 + 6, size


def test_discovery_through_unbound_smoke():
    # A cold round (unbound restarted: it asks the primary) and a warm one (from its cache).
    doc = discovery_smoke("unbound")
    cold, warm = doc["sizes"]
    assert (cold["resolver"], warm["resolver"]) == ("unbound (cold)", "unbound (warm)"), doc
    primary = doc["settings"]["primary"]
    assert cold["queries_per_server"][primary] == 50 * 2 + 6, cold
    assert warm["queries_per_server"][primary] == 50, warm


def test_page_bench_smoke():
    # bench/page on 1,000 zones: three pages over HTTP, the search a fraction of a full page.
    proc = subprocess.run([os.path.join(SRC, "bench", "page"), "--sizes", "1000", "--requests",
                           "1", "--soawatch", BIN], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    rows = {line.split("|")[2].strip(): int(line.split("|")[3].replace(",", ""))
            for line in proc.stdout.splitlines() if line.startswith("| 1,000 |")}
    assert set(rows) == {"first page", "search by name", "last page of the OK zones"}, proc.stdout
    assert 0 < rows["search by name"] < rows["first page"] / 5, rows


def test_propagation_smoke():
    # bench/propagation --smoke: two bumps per re-probe schedule on a lab instance of its own
    # (the lab's directory under this script's), every secondary timed against its own log.
    env = dict(os.environ, LAB_DIR=os.path.join(os.environ.get("LAB_DIR", "/tmp/soawatch-bench"
                                                                           "-smoke"), "prop-lab"))
    out = os.path.join(env["LAB_DIR"] + ".json")
    proc = subprocess.run([os.path.join(SRC, "bench", "propagation"), "--smoke", "--soawatch", BIN,
                           "--json", out], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    with open(out) as f:
        doc = json.load(f)
    [before, after] = doc["results"]
    assert before["fast_reprobe_initial_interval"] == "1s", before
    assert after["fast_reprobe_initial_interval"] == "50ms", after
    for r in (before, after):
        # 2 bumps x (NSD, Knot, BIND; Knot twice where the lab has ::1).
        assert r["samples"] >= 6 and set(r["per_server"]) == {"ns1", "ns2", "ns3"}, r
        assert r["queries_per_propagation"] > 0, r
    assert doc["table"] in proc.stdout


if __name__ == "__main__":
    main()
