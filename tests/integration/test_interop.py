"""Every secondary (NSD, Knot, BIND, PowerDNS) behind each kind of hidden primary: states, error
kinds, lag and propagation as soawatch sees them. The primary's software comes from
LAB_PRIMARY_KIND (bind when unset); tests/CMakeLists.txt runs this script once per kind. Each
fault is put on every secondary in turn, so a server the lab handles differently cannot hide."""

import datetime
import os
import subprocess
import tempfile
import time

from labtest import Agent, Lab, check_json, eventually, main, server

lab = Lab(zones=0)
OK, WARNING = 0, 1
ZONE = "example.test"


def secondaries():
    return lab.secondaries(ZONE)


def addresses(name):
    """The addresses soawatch probes for one secondary (ns2 also on ::1 where the lab has it)."""
    out = [lab.addr(name)]
    if name == "ns2" and lab.env.get("LAB_NS2_V6"):
        out.append(lab.env["LAB_NS2_V6"])
    return out


def test_every_secondary_in_sync_and_named_by_nsid():
    assert lab["LAB_PRIMARY_KIND"] == os.environ.get("LAB_PRIMARY_KIND", "bind")
    assert "ns4" in secondaries(), secondaries()
    rc, doc = check_json(lab, ZONE)
    assert rc == OK, doc
    primary = server(doc, ZONE, lab.addr("primary"), primary=True)
    assert primary["state"] == "reference" and primary["nsid"] == "lab-primary", primary
    for name in secondaries():
        for address in addresses(name):
            s = server(doc, ZONE, address)
            assert s["state"] == "in_sync" and s["nsid"] == f"lab-{name}", (name, s)


def test_each_secondary_behind_after_break_xfr():
    for name in secondaries():
        lab.run("break-xfr", name)
        try:
            serial = int(lab.run("bump", ZONE))
            eventually(lambda: all(int(lab.run("serial", ZONE, other)) == serial
                                   for other in secondaries() if other != name),
                       timeout=20, what=f"the others to catch up while {name} is broken")
            rc, doc = check_json(lab, ZONE)
            assert rc == WARNING, (name, doc)
            s = server(doc, ZONE, lab.addr(name))
            assert s["state"] == "behind" and s["behind"] == 1, (name, s)
            assert s["serial"] == serial - 1, (name, s)
        finally:
            lab.run("fix-xfr", name)
        lab.run("wait-sync", ZONE)


def test_each_secondary_stopped_is_connection_refused():
    for name in secondaries():
        lab.run("stop", name)
        try:
            rc, doc = check_json(lab, ZONE)
            assert rc == WARNING, (name, doc)
            s = server(doc, ZONE, lab.addr(name))
            assert s["state"] == "unusable" and s["error"] == "connection_refused", (name, s)
        finally:
            lab.run("start", name)


def check_listed(zone):
    """check_json with the zone's secondaries listed (--nameserver), not discovered: NSD serves
    test. too, so when it is lame for a zone it answers the zone's NS query with a referral,
    which Unbound 1.17 may hand on as an empty NOERROR answer, for as long as it keeps it
    (docs/DISCOVERY.md). This test is about how each server answers, not about discovery."""
    listed = []
    for name in lab.secondaries(zone):
        listed += ["--nameserver", f"{lab.addr(name)}:{lab.port}"]
    return check_json(lab, zone, extra=listed)


def test_each_secondary_lame_and_servfail():
    # How each answers for a zone it does not serve: NSD with a referral, the others REFUSED.
    lame_error = {"ns1": "not_authoritative"}
    for name in secondaries():
        lab.run("lame", name, "second.test")
        try:
            rc, doc = check_listed("second.test")
            assert rc == WARNING, (name, doc)
            s = server(doc, "second.test", lab.addr(name))
            assert s["error"] == lame_error.get(name, "refused"), (name, s)
        finally:
            lab.run("unlame", name, "second.test")
        lab.run("servfail", name, "second.test")
        try:
            rc, doc = check_listed("second.test")
            s = server(doc, "second.test", lab.addr(name))
            assert s["error"] == "servfail", (name, s)
        finally:
            lab.run("unservfail", name, "second.test")
    lab.run("wait-sync")


def test_resign_reaches_every_secondary():
    # `lab resign` on this kind of primary: a new serial and new signatures, transferred to every
    # secondary (a PowerDNS primary serves the offline signatures as PRESIGNED).
    end = int(time.time()) + 20 * 86400
    serial = int(lab.run("resign", "--end", str(end)).split()[0])
    lab.run("wait-sync", "signed.test")
    rc, doc = check_json(lab, "signed.test")
    assert rc == OK, doc
    for name in lab.secondaries("signed.test"):
        s = server(doc, "signed.test", lab.addr(name))
        assert s["state"] == "in_sync" and s["serial"] == serial, (name, s)
        rrsig = s["dnssec"]["rrsig"]
        assert rrsig, (name, s["dnssec"])
        expiration = datetime.datetime.fromisoformat(rrsig["expiration"].replace("Z", "+00:00"))
        assert int(expiration.timestamp()) == end, (name, rrsig)
    lab.run("resign")  # back to the lab's default validity


def ns_set(address, zone):
    out = subprocess.run(["dig", "+norec", "+short", "+tries=2", "+timeout=2", "-p", str(lab.port),
                          f"@{address}", zone, "NS"], capture_output=True, text=True, check=True)
    return sorted(out.stdout.split())


def referral(root):
    """The NS names of the lab root's referral for ZONE (the root serves test., not ZONE)."""
    out = subprocess.run(["dig", "+norec", "+tries=2", "+timeout=2", f"@{root}", ZONE, "NS"],
                         capture_output=True, text=True).stdout
    authority = out.split("AUTHORITY SECTION:")[-1].split(";;")[0] if "AUTHORITY" in out else ""
    return sorted(line.split()[-1] for line in authority.splitlines() if "\tNS\t" in line)


def test_delegate_reaches_parent_and_every_secondary():
    # `lab delegate` on this kind of primary: the parent's NS records (test., served by the
    # primary and ns1) and the zone's own apex, transferred to every secondary.
    everyone = secondaries()
    lab.run("delegate", ZONE, "ns1", "ns2")
    try:
        lab.run("wait-sync", ZONE)
        wanted = ["ns1.lab.test.", "ns2.lab.test."]
        assert ns_set(lab.addr("primary"), ZONE) == wanted
        for name in everyone:
            assert ns_set(lab.addr(name), ZONE) == wanted, name
        root = lab.env.get("LAB_ROOT")  # the lab root serves test. alone: its referral
        if root:
            eventually(lambda: referral(root) == wanted, timeout=20,
                       what=f"the lab root's referral for {ZONE} to name ns1 and ns2 only")
    finally:
        lab.run("delegate", ZONE, *everyone)
        lab.run("wait-sync", ZONE)
    assert ns_set(lab.addr("primary"), ZONE) == sorted(f"{n}.lab.test." for n in everyone)


def test_propagation_timed_for_every_secondary():
    # The agent times propagation from the primary's NOTIFY (its fast re-probes start there).
    # Knot 3.2 sends that NOTIFY over TCP ("connection reset" in its log) and the agent's NOTIFY
    # listener is UDP only: behind a Knot primary the agent finds the new serial at its next
    # check (every 2 s here), when the secondaries have long had it, so no propagation sample.
    timed = lab["LAB_PRIMARY_KIND"] != "knot"
    work = tempfile.mkdtemp(prefix="soawatch-interop-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    path = os.path.join(work, "soawatch.yml")
    with open(path, "w") as f:
        f.write("global:\n  interval: 2s\n  timeout: 500ms\n  retries: 1\n"
                f"  port: {lab.port}\n  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]\n"
                f"  notify_listen: \"{lab['LAB_AGENT_NOTIFY']}\"\n"
                "  fast_reprobe_interval: 500ms\n"
                f"zones:\n  - name: {ZONE}\n    primary: \"{lab['LAB_PRIMARY']}\"\n")
    agent = Agent(path, work)
    try:
        eventually(lambda: agent.metric("soawatch_zone_consistent", zone=ZONE + ".") == 1,
                   timeout=30, what="the zone consistent")
        names = [f"{name}.lab.test." for name in secondaries()]
        before = {n: agent.metric("soawatch_propagation_seconds_count", nameserver=n) or 0
                  for n in names}
        serial = int(lab.run("bump", ZONE))
        for n in names if timed else []:
            eventually(lambda: (agent.metric("soawatch_propagation_seconds_count",
                                             nameserver=n) or 0) > before[n],
                       timeout=20, what=f"propagation to {n}")
        eventually(lambda: agent.metric("soawatch_reference_serial", zone=ZONE + ".") == serial
                   and agent.metric("soawatch_zone_consistent", zone=ZONE + ".") == 1,
                   timeout=20, what="the new serial everywhere")
    finally:
        agent.terminate()


if __name__ == "__main__":
    main(lab)
