"""Anycast: two instances behind one address (issue 12 part 3). Two Knot DNS servers bind the
same loopback address and port with SO_REUSEPORT (Knot sets it on its UDP sockets; TCP with
tcp-reuseport), so the kernel hands each query to one of them by a hash of the 4-tuple: the
source port decides, as ECMP does in front of a real anycast site. Each answers NSID with its own
identity and is a secondary of the lab primary; the "stale" one's primary is a dead address, so
it keeps the old copy of the zone it loaded. soawatch probes the address once a round, from a
fresh source port each time (probes/dns_channel.cpp), sees both instances, and names the lagging
one by its NSID (AnycastInstanceBehind, soawatch_instance_serial_behind, the API); when the stale
instance is let back to its primary and catches up, the alert resolves."""

import json
import os
import subprocess
import tempfile
import time

from labtest import Agent, Lab, Process, eventually, main, metric_value, soawatch

lab = Lab(zones=0)
ZONE = "example.test."
INSTANCES = ("fresh", "stale")
work = None
agent = None
servers = {}  # nsid -> Process
confs = {}    # nsid -> config path


def anycast_address():
    return lab["LAB_NET"] + ".60"


def dead_address():
    # Inside the lab's own /24; nothing listens there.
    return lab["LAB_NET"] + ".250"


def knot_conf(nsid, primary):
    d = os.path.join(work, nsid)
    algorithm, name, secret = lab["LAB_TSIG_KEY"].split(":", 2)
    return f"""
server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: [ {anycast_address()}@{lab.port} ]
    nsid: "{nsid}"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    # Both instances bind the same address and port (UDP sockets have SO_REUSEPORT already).
    tcp-reuseport: on
control:
    listen: "{d}/knot.sock"
log:
  - target: "{d}/knot.log"
    any: info
database:
    storage: "{d}/db"
key:
  - id: {name}
    algorithm: {algorithm}
    secret: {secret}
remote:
  - id: primary
    address: {primary}@{lab.port}
    # The lab primary lets transfers from its own address with the key (the agent's keyed
    # transfer check uses the same): no change to the lab for these two secondaries.
    via: {lab["LAB_PRIMARY"]}
    key: {name}
template:
  - id: default
    storage: "{d}"
    master: primary
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: {ZONE}
    file: "{d}/example.test.zone"
"""


def write_instance(nsid, primary):
    d = os.path.join(work, nsid)
    os.makedirs(d, exist_ok=True)
    # The copy each instance starts from: serial 1, older than the primary's.
    with open(os.path.join(d, "example.test.zone"), "w") as f:
        f.write(f"$ORIGIN {ZONE}\n$TTL 60\n"
                "@ SOA ns1.lab.test. hostmaster.example.test. 1 10 5 600 60\n"
                "@ NS ns1.lab.test.\n")
    confs[nsid] = os.path.join(d, "knot.conf")
    with open(confs[nsid], "w") as f:
        f.write(knot_conf(nsid, primary))


def dig_soa(address, *extra):
    """(serial, nsid) of one SOA query from a fresh source port (dig picks one per run)."""
    out = subprocess.run(["dig", "+norec", "+nsid", "+tries=1", "+timeout=1", "-p", str(lab.port),
                          "@" + address, ZONE, "SOA", *extra],
                         capture_output=True, text=True, timeout=10).stdout
    serial = nsid = None
    for line in out.splitlines():
        if "\tSOA\t" in line and not line.startswith(";"):
            serial = int(line.split()[6])
        if line.startswith("; NSID: ") and '("' in line:
            nsid = line.split('("', 1)[1].rsplit('")', 1)[0]
    return serial, nsid


def primary_serial():
    return dig_soa(lab["LAB_PRIMARY"])[0]


def seen_instances(tries=40):
    """{nsid: serial} answered at the anycast address over `tries` queries."""
    seen = {}
    for _ in range(tries):
        serial, nsid = dig_soa(anycast_address())
        if nsid:
            seen[nsid] = serial
    return seen


def zone_doc():
    status, _, body = agent.get("/api/v1/zones/" + ZONE)
    assert status == 200, status
    return json.loads(body)


def anycast_row(doc):
    for s in doc["servers"]:
        if s["address"] == anycast_address():
            return s
    raise AssertionError(f"no {anycast_address()} in {json.dumps(doc)[:1500]}")


def firing(alertname):
    """The firing alerts of that name for the zone, by their nsid label."""
    status, _, body = agent.get("/api/v1/alerts")
    assert status == 200, status
    return {a["labels"].get("nsid"): a for a in json.loads(body)["alerts"]
            if a["labels"].get("alertname") == alertname and a["labels"].get("zone") == ZONE
            and a["state"] == "firing"}


def test_setup():
    global work
    work = tempfile.mkdtemp(prefix="soawatch-anycast-")
    write_instance("fresh", lab["LAB_PRIMARY"])
    write_instance("stale", dead_address())
    for nsid in INSTANCES:
        servers[nsid] = Process(["knotd", "-c", confs[nsid]], os.path.join(work, nsid + ".out"))
    reference = primary_serial()
    assert reference and reference != 1, reference
    # Both instances answer behind the one address, each with its own serial.
    eventually(lambda: seen_instances(12) == {"fresh": reference, "stale": 1}, timeout=30,
               interval=0.2, what="both instances behind the address, fresh transferred")


def test_the_lagging_instance_is_named_by_its_nsid():
    global agent
    config = os.path.join(work, "soawatch.yml")
    with open(config, "w") as f:
        f.write(f"""
global:
  interval: 1s
  timeout: 500ms
  retries: 1
  port: {lab.port}
  min_usable_nameservers: 1
alerting:
  for: 0s
zones:
  - name: {ZONE}
    primary: "{lab['LAB_PRIMARY']}"
    nameservers: [ "{anycast_address()}" ]
""")
    agent = Agent(config, work)
    eventually(lambda: agent.get("/api/v1/zones/" + ZONE)[0] == 200, timeout=20,
               what="the zone's first check")
    # Each round reaches one instance (the one its source port hashes to): both are known after
    # a few rounds, and the stale one is named in the round that completes the pair.
    row = eventually(lambda: len(anycast_row(zone_doc())["instances"]) == 2 and
                     anycast_row(zone_doc()), timeout=30, interval=0.5,
                     what="both instances in the API")
    checks = zone_doc()["checks_total"]
    by_nsid = {i["nsid"]: i for i in row["instances"]}
    assert by_nsid["stale"]["serial"] == 1 and by_nsid["stale"]["lagging"], by_nsid
    assert by_nsid["stale"]["behind"] > 0, by_nsid
    assert by_nsid["fresh"]["behind"] == 0 and not by_nsid["fresh"]["lagging"], by_nsid
    assert any('instance "stale"' in r for r in zone_doc()["reasons"]), zone_doc()["reasons"]
    alert = eventually(lambda: firing("AnycastInstanceBehind").get("stale"), timeout=5,
                       what="AnycastInstanceBehind for the stale instance")
    assert alert["labels"]["address"] == anycast_address(), alert
    assert "fresh" not in firing("AnycastInstanceBehind")
    text = agent.metrics()
    assert metric_value(text, "soawatch_instance_serial_behind", zone=ZONE,
                        address=anycast_address(), nsid="stale") > 0
    assert metric_value(text, "soawatch_instance_serial_behind", zone=ZONE,
                        address=anycast_address(), nsid="fresh") == 0
    print(f"both instances known after {checks} checks of the zone (1 s interval)", flush=True)
    # From now on each round probes the address 2 x 2 more times from other ports: the stale
    # instance is answered every round, so it stays named (one probe a round would miss it for
    # a whole window of 3 rounds 1 time in 8, and the alert would resolve and fire again).
    until = checks + 6
    while zone_doc()["checks_total"] < until:
        row = anycast_row(zone_doc())
        names = {i["nsid"]: i for i in row["instances"]}
        assert "stale" in names and names["stale"]["lagging"], row["instances"]
        assert "stale" in firing("AnycastInstanceBehind")
        time.sleep(0.3)


def check_with_samples(*extra):
    """`soawatch check` of the anycast address with 8 extra probes: (exit code, stdout)."""
    rc, out, err = soawatch("check", "--port", lab.port, "--timeout", "500ms", "--retries", "1",
                            "--primary", lab["LAB_PRIMARY"], "--nameserver", anycast_address(),
                            "--anycast-samples", "8", *extra, ZONE)
    assert rc in (0, 1, 2), f"exit {rc}:\n{out}\n{err}"
    return rc, out


def test_check_shows_the_instances_with_anycast_samples():
    # One look, 9 probes of the address from 9 ports: both instances are there unless all 9
    # reach one of them (1 time in 256); a second look is allowed for that.
    def both():
        rc, out = check_with_samples("--json")
        row = anycast_row(json.loads(out)["zones"][0])
        return (rc, row) if len(row["instances"]) == 2 else None
    rc, row = eventually(both, timeout=20, interval=0.1, what="check naming both instances")
    by_nsid = {i["nsid"]: i for i in row["instances"]}
    assert by_nsid["stale"]["lagging"] and not by_nsid["fresh"]["lagging"], by_nsid
    assert rc != 0, rc  # WARNING at least (one NS name is also below min_usable_nameservers)
    _, text = eventually(lambda: (lambda r: r if "instances behind" in r[1] else None)(
        check_with_samples()), timeout=20, interval=0.1, what="the instances line")
    assert "stale=1 (" in text and "lagging)" in text, text
    # Without the option, one probe per address: no instances.
    rc, out, _ = soawatch("check", "--json", "--port", lab.port, "--primary", lab["LAB_PRIMARY"],
                          "--nameserver", anycast_address(), ZONE)
    assert anycast_row(json.loads(out)["zones"][0])["instances"] == [], out


def test_the_instance_catches_up_and_the_alert_resolves():
    # The stale instance's primary becomes the lab primary: it transfers the current zone.
    with open(confs["stale"], "w") as f:
        f.write(knot_conf("stale", lab["LAB_PRIMARY"]))
    sock = os.path.join(work, "stale", "knot.sock")
    subprocess.run(["knotc", "-s", sock, "reload"], check=True, capture_output=True, timeout=20)
    subprocess.run(["knotc", "-s", sock, "zone-refresh", ZONE], check=True,
                   capture_output=True, timeout=20)
    eventually(lambda: not firing("AnycastInstanceBehind"), timeout=30,
               what="AnycastInstanceBehind resolved")
    stale = [i for i in anycast_row(zone_doc())["instances"] if i["nsid"] == "stale"]
    assert stale and not stale[0]["lagging"] and stale[0]["behind"] == 0, stale


def test_teardown():
    if agent:
        agent.terminate()
    for process in servers.values():
        process.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        # main() exits; every knotd started here is stopped by PID even when a test failed.
        for process in servers.values():
            process.stop()
