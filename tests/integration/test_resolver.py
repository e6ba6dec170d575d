"""Discovery through a real recursive resolver: the lab's Unbound, resolving from the lab root
and following referrals to the lab's servers on port 53 (deploy/lab/resolver.sh). The agent
starts while the resolver is down (it runs and says why each zone has no nameserver, then
discovers once the resolver is up); a new NS set in the parent and the child reaches it after
the caches' TTLs; a resolver that answers SERVFAIL (a delegation to a server that refuses the
zone) or times out (Unbound paused) leaves each zone on its last good NS set, flagged in the
API and /metrics (docs/DISCOVERY.md). Skipped where the lab runs without Unbound (not root, or
unbound not installed)."""

import atexit
import json
import os
import subprocess
import sys
import tempfile

from labtest import Agent, Lab, eventually, main

SKIP = 77  # ctest's SKIP_RETURN_CODE for this test (tests/CMakeLists.txt)
lab = Lab(zones=0)
agent = None


def all_ns():
    """Every secondary's NS name (example.test's NS set: ns4 included)."""
    return {f"{n}.lab.test." for n in lab.secondaries("example.test")}


def stop_agent():
    if agent:
        agent.stop()


atexit.register(stop_agent)


def zone(name):
    """The zone's API document; before its first check (404) one with nothing in it."""
    status, _, body = agent.get(f"/api/v1/zones/{name}")
    if status == 404:
        return {"servers": [], "discovery_error": None, "discovery_from_cache": False}
    assert status == 200, (status, body)
    return json.loads(body)


def nameservers(doc):
    """The NS names the zone's servers were discovered under (the primary is not one)."""
    return {s["nameserver"] for s in doc["servers"] if not s["is_primary"]}


def test_lab_resolves_through_unbound():
    # The root answers with a referral (no AA) to the zone's servers, as on the Internet...
    out = subprocess.run(["dig", "+norec", "+tries=1", "+timeout=2", f"@{lab['LAB_ROOT']}",
                          "example.test", "NS"], capture_output=True, text=True).stdout
    assert "status: NOERROR" in out and " aa" not in out.split("flags:")[1].split(";")[0], out
    assert "ns1.lab.test." in out.split("AUTHORITY SECTION:")[1], out
    # ...and Unbound follows it.
    address, port = lab["LAB_RESOLVER"].rsplit(":", 1)
    out = subprocess.run(["dig", "+short", "+tries=2", "+timeout=2", "-p", port, f"@{address}",
                          "example.test", "NS"], capture_output=True, text=True).stdout
    assert set(out.split()) == all_ns(), out


def test_agent_starts_while_the_resolver_is_down():
    global agent
    lab.run("stop", "resolver")
    work = tempfile.mkdtemp(prefix="soawatch-resolver-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    config = os.path.join(work, "soawatch.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  interval: 2s
  timeout: 500ms
  retries: 1
  port: {lab.port}
  resolvers: [ "{lab['LAB_RESOLVER']}" ]
  resolver_timeout: 1s
zones:
  - name: example.test
    primary: "{lab['LAB_PRIMARY']}"
  - name: second.test
    primary: "{lab['LAB_PRIMARY']}"
""")
    agent = Agent(config, work)
    try:
        the_agent_reports_the_resolver_down()
    finally:
        lab.run("start", "resolver")
    for name in ("example.test", "second.test"):
        eventually(lambda: nameservers(d := zone(name)) == all_ns() and not d["discovery_error"],
                   timeout=30, what=f"{name} discovered once the resolver is up")


def the_agent_reports_the_resolver_down():
    for name in ("example.test", "second.test"):
        doc = eventually(lambda: (d := zone(name))["discovery_error"] and d, timeout=30,
                         what=f"a discovery error for {name}")
        assert doc["discovery_error"].startswith("resolver"), doc["discovery_error"]
        assert not nameservers(doc) and not doc["discovery_from_cache"], doc
        assert doc["verdict"] == "UNKNOWN", doc
        assert any(r.startswith("no nameserver address known: resolver") for r in doc["reasons"]), doc
        assert agent.get("/healthz")[0] == 200
        assert agent.metric("soawatch_zone_nameserver_addresses", zone=name + ".") == 0


def test_new_ns_set_reaches_the_agent_after_the_ttl():
    # Both changes at once, so their cache lifetimes (Unbound's 5 s, then the agent's 30 s at
    # least) run out together: example.test moves to ns1 and ns2 (parent and apex); second.test's
    # delegation now names only ns2, which no longer serves it (REFUSED: Unbound says SERVFAIL).
    lab.run("delegate", "example.test", "ns1", "ns2")
    lab.run("delegate", "--parent-only", "second.test", "ns2")
    lab.run("lame", "ns2", "second.test")
    eventually(lambda: nameservers(zone("example.test")) == {"ns1.lab.test.", "ns2.lab.test."},
               timeout=60, what="example.test's new NS set")
    assert zone("example.test")["discovery_error"] is None


def test_servfail_keeps_the_last_good_answer_flagged():
    doc = eventually(lambda: (d := zone("second.test"))["discovery_from_cache"] and d, timeout=45,
                     what="second.test on its last good answer")
    assert "SERVFAIL" in doc["discovery_error"], doc["discovery_error"]
    assert nameservers(doc) == all_ns(), doc  # still watched: the last good NS set
    assert any("using the last good answer" in r for r in doc["reasons"]), doc["reasons"]
    assert agent.metric("soawatch_zone_discovery_from_cache", zone="second.test.") == 1
    assert agent.metric("soawatch_zone_discovery_from_cache", zone="example.test.") == 0


def test_timeout_keeps_the_last_good_answer_flagged():
    lab.run("pause", "resolver")
    try:
        doc = eventually(lambda: "Timeout" in ((d := zone("second.test"))["discovery_error"] or "")
                         and d, timeout=45, what="a resolver timeout for second.test")
        assert doc["discovery_from_cache"] and nameservers(doc) == all_ns(), doc
        assert agent.metric("soawatch_zone_discovery_from_cache", zone="second.test.") == 1
    finally:
        lab.run("resume", "resolver")


def test_repaired_delegation_clears_the_flag():
    lab.run("unlame", "ns2", "second.test")
    lab.run("delegate", "second.test", *lab.secondaries("second.test"))
    eventually(lambda: not (d := zone("second.test"))["discovery_from_cache"]
               and d["discovery_error"] is None and nameservers(d) == all_ns(),
               timeout=30, what="second.test discovered again")
    assert agent.metric("soawatch_zone_discovery_from_cache", zone="second.test.") == 0
    agent.terminate()


if __name__ == "__main__":
    if (os.geteuid() != 0 or os.environ.get("LAB_RESOLVER_MODE") == "authoritative"
            or not os.access("/usr/sbin/unbound", os.X_OK)):
        print("SKIP test_resolver: the lab runs Unbound only as root, with unbound installed "
              "and LAB_RESOLVER_MODE not authoritative")
        sys.exit(SKIP)
    main(lab=lab)
