"""The reference serial without a hidden primary, on the lab's real servers: when the servers
that hold the newest serial stop answering, the one left behind stays behind (issue 11, item 1).
NSD (ns1) is blocked behind with `lab break-xfr`, Knot (ns2) and BIND (ns3) hold the newest
serial and are paused for more than two check intervals."""

import json
import os
import tempfile
import time

from labtest import Agent, Lab, eventually, main

lab = Lab()
work = None
agent = None
INTERVAL = 2  # seconds between regular checks


def zone():
    status, _, body = agent.get("/api/v1/zones/example.test")
    assert status == 200, (status, body)
    return json.loads(body)


def row(doc, address):
    for s in doc["servers"]:
        if s["address"] == address:
            return s
    raise AssertionError(f"no row {address} in {json.dumps(doc)[:2000]}")


def test_agent_without_primary_in_sync():
    global work, agent
    work = tempfile.mkdtemp(prefix="soawatch-reference-")
    port = lab.port
    lines = ["global:", f"  interval: {INTERVAL}s", "  timeout: 300ms", "  retries: 0",
             "  fast_reprobe_interval: 1s", "zones:", "  - name: example.test",
             "    nameservers:"]
    lines += [f"      - \"{lab.addr(ns)}:{port}\"" for ns in ("ns1", "ns2", "ns3")]
    path = os.path.join(work, "soawatch.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    agent = Agent(path, work)
    # 404 until the zone's first check is done.
    eventually(lambda: agent.get("/api/v1/zones/example.test")[0] == 200 and zone()["consistent"],
               timeout=30, what="example.test consistent")
    assert zone()["reference_source"] == "newest"


def test_blocked_secondary_stays_behind_while_the_newest_servers_are_paused():
    ns1, ns2, ns3 = (lab.addr(ns) for ns in ("ns1", "ns2", "ns3"))
    lab.run("break-xfr", "ns1")
    try:
        new = int(lab.run("bump", "example.test"))
        eventually(lambda: row(zone(), ns1)["state"] == "behind" and
                   zone()["reference_serial"] == new, timeout=20, what="NSD behind the bump")
        lab.run("pause", "ns2")
        lab.run("pause", "ns3")
        try:
            eventually(lambda: row(zone(), ns2)["state"] == "unusable" and
                       row(zone(), ns3)["state"] == "unusable", timeout=10,
                       what="the paused servers unusable")
            first = zone()
            lag = row(first, ns1)["lag_seconds"]
            checks = first["checks_total"]
            # More than two intervals with only NSD answering.
            deadline = time.monotonic() + 2.5 * INTERVAL
            while time.monotonic() < deadline:
                doc = zone()
                assert doc["reference_serial"] == new, doc
                assert doc["consistent"] is False, doc
                assert row(doc, ns1)["state"] == "behind", row(doc, ns1)
                assert row(doc, ns1)["behind"] == 1, row(doc, ns1)
                time.sleep(0.5)
            doc = zone()
            assert doc["checks_total"] >= checks + 2, (checks, doc["checks_total"])
            assert row(doc, ns1)["lag_seconds"] > lag, (lag, row(doc, ns1))
            behind = agent.metric("soawatch_serial_behind", zone="example.test.", address=ns1)
            assert behind == 1, behind
            assert agent.metric("soawatch_zone_consistent", zone="example.test.") == 0
        finally:
            lab.run("resume", "ns2")
            lab.run("resume", "ns3")
    finally:
        lab.run("fix-xfr", "ns1")
    eventually(lambda: zone()["consistent"], timeout=30, what="example.test consistent again")


def teardown():
    if agent:
        agent.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
