"""Replication beyond the serial against the lab's real servers (issue 10 parts 1 and 3): every
zone has SOA refresh 10, retry 5, expire 60. Knot (ns2) and the BIND secondary (ns3) answer EDNS
EXPIRE, NSD (ns1) does not. Both EXPIRE-answering secondaries are cut off from the primary at
once (lab isolate: the primary drops their packets) on a zone that does not change: they stay
in_sync while SecondaryRefreshFailing fires for their addresses only, ZoneExpiryRisk fires
before the zone expires there, the zone then really expires (SERVFAIL; soawatch says it is lame
because expired), and everything resolves when they are let back. The measured times from the
cut to each alert and to the real expiry are printed for the record."""

import json
import os
import subprocess
import tempfile
import time

from labtest import Agent, Lab, eventually, main, metric_value, soawatch

lab = Lab(zones=0, timers="10,5,60")
ZONE = "example.test."
work = None
agent = None
config_path = None
cut = {}  # what happened when, in seconds after the cut


def write_config():
    global config_path
    config_path = os.path.join(work, "soawatch.yml")
    with open(config_path, "w") as f:
        f.write(f"""
global:
  interval: 1s
  timeout: 500ms
  retries: 1
  port: {lab.port}
  resolvers: [ "{lab['LAB_RESOLVER']}" ]
alerting:
  for: 0s
  rules:
    # The lab's expire of 60 s is the point of this test, not a finding.
    SOATimersUnsafe: {{ min_expire: 30s }}
zones:
  - name: {ZONE}
    primary: "{lab['LAB_PRIMARY']}"
""")


def zone_doc():
    status, _, body = agent.get("/api/v1/zones/" + ZONE)
    assert status == 200, status
    return json.loads(body)


def server(doc, name):
    address = lab.addr(name)
    for s in doc["servers"]:
        if s["address"] == address and not s["is_primary"]:
            return s
    raise AssertionError(f"no {name} ({address}) in {json.dumps(doc)[:1500]}")


def firing(alertname):
    """{address: alert} of the firing alerts of that name for the zone."""
    status, _, body = agent.get("/api/v1/alerts")
    assert status == 200, status
    out = {}
    for a in json.loads(body)["alerts"]:
        labels = a["labels"]
        if labels.get("alertname") == alertname and labels.get("zone") == ZONE and \
                a["state"] == "firing":
            out[labels.get("address", "")] = a
    return out


def dig_expire(name):
    """(status, EXPIRE or None) of the zone's SOA at that server, asked with dig +expire."""
    out = subprocess.run(["dig", "+norec", "+expire", "+tries=1", "+timeout=1", "-p",
                          str(lab.port), "@" + lab.addr(name), ZONE, "SOA"],
                         capture_output=True, text=True, timeout=10).stdout
    status = out.split("status: ", 1)[1].split(",", 1)[0] if "status: " in out else "TIMEOUT"
    expire = None
    for line in out.splitlines():
        if line.startswith("; EXPIRE: "):
            expire = int(line.split()[2])
    return status, expire


def check_with_config():
    rc, out, err = soawatch("check", "--json", f"--config.file={config_path}")
    try:
        return rc, json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"soawatch check printed no JSON (exit {rc}):\n{out}\n{err}")


def test_setup():
    global work, agent
    work = tempfile.mkdtemp(prefix="soawatch-replication-")
    write_config()
    agent = Agent(config_path, work)
    eventually(lambda: agent.get("/api/v1/zones/" + ZONE)[0] == 200, timeout=20,
               what="the zone's first check")
    eventually(lambda: zone_doc()["verdict"] == "OK" and all(
        s["state"] in ("in_sync", "reference") for s in zone_doc()["servers"]), timeout=30,
        what="the zone in sync")


def test_expire_answers_and_refresh_age():
    def ready():
        doc = zone_doc()
        return all(server(doc, n)["refresh_age_seconds"] is not None for n in ("ns2", "ns3"))
    eventually(ready, timeout=20, what="EXPIRE answers from ns2 and ns3")
    doc = zone_doc()
    for name in ("ns2", "ns3"):  # Knot, BIND: answer it; refreshed within the last refresh
        s = server(doc, name)
        assert s["expire_supported"] is True, s
        assert 0 <= s["refresh_age_seconds"] <= 10 + 5, s
        assert s["expire_remaining_seconds"] + s["refresh_age_seconds"] == 60, s
    nsd = server(doc, "ns1")  # NSD: does not answer it, and says so
    assert nsd["expire_supported"] is False, nsd
    assert nsd["expire_remaining_seconds"] is None and nsd["refresh_age_seconds"] is None, nsd
    assert doc["soa_timers_sane"] is True and doc["soa_fields_consistent"] is True, doc
    metrics = agent.metrics()
    labels = dict(zone=ZONE, address=lab.addr("ns2"))
    assert metric_value(metrics, "soawatch_refresh_age_seconds", **labels) is not None
    assert metric_value(metrics, "soawatch_expire_remaining_seconds", **labels) is not None
    assert metric_value(metrics, "soawatch_expire_remaining_seconds", zone=ZONE,
                        address=lab.addr("ns1")) is None
    assert metric_value(metrics, "soawatch_soa_timers_sane", zone=ZONE) == 1
    page = agent.get("/")[2]
    assert "EXPIRE not supported" in page, page[:2000]
    rc, _ = check_with_config()
    assert rc == 0, rc


def test_cut_off_secondaries_stay_in_sync_and_refresh_failing_fires():
    # Both EXPIRE-answering secondaries at once: their expiries run concurrently.
    lab.run("isolate", "ns2")
    lab.run("isolate", "ns3")
    t0 = time.monotonic()
    cut["t0"] = t0
    ns2, ns3, nsd = lab.addr("ns2"), lab.addr("ns3"), lab.addr("ns1")

    def both_failing():
        now = time.monotonic() - t0
        f = firing("SecondaryRefreshFailing")
        for name, address in (("ns2", ns2), ("ns3", ns3)):
            if address in f and name + " refresh failing" not in cut:
                cut[name + " refresh failing"] = now
        return ns2 in f and ns3 in f
    eventually(both_failing, timeout=45, interval=0.5, what="SecondaryRefreshFailing for both")
    doc = zone_doc()
    for name in ("ns2", "ns3"):
        s = server(doc, name)
        assert s["state"] == "in_sync", s  # the serial hides it ...
        assert s["refresh_failing"] is True and s["refresh_age_seconds"] > 20, s  # ... EXPIRE not
    assert nsd not in firing("SecondaryRefreshFailing")
    assert doc["verdict"] in ("WARNING", "CRITICAL"), doc["verdict"]
    assert any("has not refreshed from its primary" in r or "will stop serving" in r
               for r in doc["reasons"]), doc["reasons"]
    # `soawatch check` sees it in one round: exit WARNING (or CRITICAL once expiry is near).
    rc, result = check_with_config()
    assert rc in (1, 2), rc
    zone = result["zones"][0]
    assert any(s["refresh_failing"] for s in zone["servers"]), zone


def test_expiry_risk_fires_before_the_zone_expires_there():
    t0 = cut["t0"]
    ns2, ns3 = lab.addr("ns2"), lab.addr("ns3")

    def both_at_risk():
        now = time.monotonic() - t0
        f = firing("ZoneExpiryRisk")
        for name, address in (("ns2", ns2), ("ns3", ns3)):
            if address in f and name + " expiry risk" not in cut:
                cut[name + " expiry risk"] = now
                assert dig_expire(name)[0] == "NOERROR", f"{name} expired before the alert"
        return ns2 in f and ns3 in f
    eventually(both_at_risk, timeout=40, interval=0.5, what="ZoneExpiryRisk for both")
    f = firing("ZoneExpiryRisk")
    assert "stops serving" in f[ns2]["annotations"]["summary"], f[ns2]
    assert lab.addr("ns1") not in f


def test_the_zone_expires_there_and_soawatch_says_why():
    t0 = cut["t0"]

    def both_expired():
        now = time.monotonic() - t0
        for name in ("ns2", "ns3"):
            if name + " SERVFAIL" not in cut and dig_expire(name)[0] == "SERVFAIL":
                cut[name + " SERVFAIL"] = now
        doc = zone_doc()
        for name in ("ns2", "ns3"):
            if server(doc, name)["expired"] and name + " expired (soawatch)" not in cut:
                cut[name + " expired (soawatch)"] = now
        return all(server(doc, n)["expired"] for n in ("ns2", "ns3"))
    eventually(both_expired, timeout=50, interval=0.5, what="the zone expired at ns2 and ns3")
    doc = zone_doc()
    for name in ("ns2", "ns3"):
        s = server(doc, name)
        assert s["state"] == "unusable" and s["error"] == "servfail", s
        assert "the zone expired there" in s["error_detail"], s
    lame = eventually(lambda: firing("NameserverLame"), timeout=10, what="NameserverLame")
    assert "expired" in lame[lab.addr("ns2")]["annotations"]["description"], lame
    assert server(doc, "ns1")["state"] == "in_sync"  # NSD was never cut off


def test_restore_resolves_everything():
    lab.run("unisolate", "ns2")
    lab.run("unisolate", "ns3")

    def healthy():
        doc = zone_doc()
        return doc["verdict"] == "OK" and not any(s["expired"] or s["refresh_failing"]
                                                  for s in doc["servers"])
    eventually(healthy, timeout=60, what="everything healthy again")
    for name in ("SecondaryRefreshFailing", "ZoneExpiryRisk", "NameserverLame"):
        eventually(lambda: not firing(name), timeout=10, what=f"{name} resolved")
    # The record for the issue: cut -> SecondaryRefreshFailing -> real expiry, per server.
    for name, software in (("ns2", "Knot"), ("ns3", "BIND")):
        failing = cut.get(name + " refresh failing")
        servfail = cut.get(name + " SERVFAIL")
        print(f"MEASURED {software} ({name}): cut -> SecondaryRefreshFailing {failing:.1f}s, "
              f"-> ZoneExpiryRisk {cut.get(name + ' expiry risk', float('nan')):.1f}s, "
              f"-> SERVFAIL {servfail:.1f}s (SecondaryRefreshFailing -> expiry "
              f"{servfail - failing:.1f}s), soawatch saw it expired at "
              f"{cut.get(name + ' expired (soawatch)', float('nan')):.1f}s", flush=True)


def test_teardown():
    agent.terminate()


if __name__ == "__main__":
    main(lab=lab)
