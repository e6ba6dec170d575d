"""DNSSEC signature freshness per address against real servers: signed.test, signed offline on
the lab's hidden BIND primary (lab resign, dnssec-signzone with fixed times) and transferred to
the NSD, Knot and BIND secondaries. soawatch must read the RRSIG(SOA) each address serves (the
times cross-checked with dig +dnssec), name the secondary that keeps serving the old signatures
while it is cut off from its primary, and say what it sees without EDNS (no OPT record, so no DO
and no RRSIG: RFC 3225 3)."""

import calendar
import os
import shutil
import subprocess
import tempfile
import time

from labtest import Agent, Lab, check_json, eventually, main, server, soawatch

lab = Lab(zones=0)
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
ZONE = "signed.test"
DAY = 86400
NOW = int(time.time())
FIRST_END = NOW + 20 * DAY   # the signatures every server has at first
SECOND_END = NOW + 30 * DAY  # the re-signed zone that the isolated secondary never gets


def names():
    """(lab name, address) of every server; ns2 also on ::1 where the lab has IPv6."""
    out = [(n, lab.addr(n)) for n in ("primary", *lab.secondaries("signed.test"))]
    if lab.env.get("LAB_NS2_V6"):
        out.append(("ns2", lab.env["LAB_NS2_V6"]))
    return out


def dig(address, zone, *options):
    proc = subprocess.run(["dig", "+norec", "+tries=1", "+timeout=2", "-p", str(lab.port),
                           f"@{address}", zone, "SOA", *options],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def dig_signature(address, zone=ZONE):
    """(serial, inception, expiration) of the SOA and its RRSIG as dig +dnssec shows them."""
    serial = inception = expiration = None
    for line in dig(address, zone, "+dnssec", "+noall", "+answer").splitlines():
        f = line.split()
        if len(f) > 6 and f[3] == "SOA":
            serial = int(f[6])
        if len(f) > 9 and f[3] == "RRSIG" and f[4] == "SOA":
            to_unix = lambda t: calendar.timegm(time.strptime(t, "%Y%m%d%H%M%S"))  # noqa: E731
            expiration, inception = to_unix(f[8]), to_unix(f[9])
    return serial, inception, expiration


def message_size(address, zone, *options):
    for line in dig(address, zone, *options).splitlines():
        if "MSG SIZE" in line:
            return int(line.split()[-1])
    raise AssertionError(f"no size from dig @{address} {zone}")


def zone_doc(doc, zone=ZONE):
    return next(z for z in doc["zones"] if z["zone"] == zone + ".")


def row(doc, name, address):
    return server(doc, ZONE, address, primary=name == "primary")


def resign(start, end):
    """Signs signed.test anew on the primary; returns the new serial."""
    return int(lab.run("resign", "--start", start, "--end", end).split()[0])


def test_each_address_serves_the_signature_dig_sees():
    serial = resign(NOW - 3600, FIRST_END)
    lab.run("wait-sync", ZONE)
    rc, doc = check_json(lab, ZONE, "example.test")
    assert rc == OK, doc
    z = zone_doc(doc)
    assert z["dnssec"]["signed"] is True and z["dnssec"]["mode"] == "auto", z["dnssec"]
    assert z["dnssec"]["older_signatures"] == [], z["dnssec"]
    for name, address in names():
        s = row(doc, name, address)
        assert dig_signature(address) == (serial, NOW - 3600, FIRST_END), (name, address)
        sig = s["dnssec"]
        assert sig["asked"] is True, s
        assert sig["rrsig"]["expiration_unix"] == FIRST_END, s
        assert sig["rrsig"]["inception_unix"] == NOW - 3600, s
        assert sig["rrsig"]["algorithm"] == 8, s  # RSASHA256, the lab's key
        assert not any(sig[k] for k in ("expired", "expiring", "below_expire", "older",
                                        "missing")), s
        assert s["transport"] == "udp", s
    # An unsigned zone: DO asked, no signature, nothing to report.
    plain = zone_doc(doc, "example.test")
    assert plain["dnssec"]["signed"] is False, plain["dnssec"]
    for s in plain["servers"]:
        assert s["dnssec"]["asked"] is True and s["dnssec"]["rrsig"] is None, s
    # What DO costs (docs/REPLICATION.md): nothing in an unsigned zone's answer.
    for _, address in names()[:4]:
        assert (message_size(address, "example.test", "+dnssec") ==
                message_size(address, "example.test", "+nodnssec")), address


def test_isolated_secondary_keeps_the_old_signatures_and_is_named():
    lab.run("isolate", "ns2")
    try:
        serial = resign(NOW - 60, SECOND_END)
        for n in ("ns1", "ns3"):
            eventually(lambda: lab.run("serial", ZONE, n) == str(serial), timeout=30,
                       what=f"{n} to transfer the re-signed zone")
        rc, doc = check_json(lab, ZONE)
        assert rc == WARNING, doc
        z = zone_doc(doc)
        stale = [a for n, a in names() if n == "ns2"]
        assert sorted(z["dnssec"]["older_signatures"]) == sorted(stale), z["dnssec"]
        for name, address in names():
            s = row(doc, name, address)
            want = FIRST_END if name == "ns2" else SECOND_END
            assert dig_signature(address)[2] == want, (name, address)
            assert s["dnssec"]["rrsig"]["expiration_unix"] == want, s
            assert s["dnssec"]["older"] is (name == "ns2"), s
        for address in stale:
            assert any(f"(" + address + ") serves an RRSIG(SOA) expiring" in r and
                       "10d before the newest one" in r for r in z["reasons"]), z["reasons"]
        # The table names it too: its signature column says "older".
        rc, out, _ = soawatch("check", "--resolver", lab["LAB_RESOLVER"], "--port", lab.port,
                              "--primary", lab.addr("primary"), ZONE)
        assert rc == WARNING, out
        rows = [line.split() for line in out.splitlines() if line.startswith(ZONE + ".")]
        older = {r[2].rsplit(":", 1)[0].strip("[]") for r in rows if r[-1] == "older"}
        assert older == set(stale), out
    finally:
        lab.run("unisolate", "ns2")
    lab.run("wait-sync", ZONE)


def test_expiring_expired_and_shorter_than_the_expire_time():
    # One day left: under SignatureExpiringSoon's 3 days, and under the 14-day SOA expire a
    # secondary would keep serving the zone without its primary (SignatureValidityBelowExpire).
    resign(NOW - 10 * DAY, NOW + DAY)
    lab.run("wait-sync", ZONE)
    rc, doc = check_json(lab, ZONE)
    assert rc == WARNING, doc
    for name, address in names():
        sig = row(doc, name, address)["dnssec"]
        assert sig["expiring"] is True and sig["expired"] is False, (name, sig)
        assert sig["below_expire"] is (name != "primary"), (name, sig)
    assert any("serves an RRSIG(SOA) that expires in" in r for r in zone_doc(doc)["reasons"]), doc
    # Expired an hour ago: validating resolvers reject every answer, CRITICAL.
    resign(NOW - 10 * DAY, int(time.time()) - 3600)
    lab.run("wait-sync", ZONE)
    rc, doc = check_json(lab, ZONE)
    assert rc == CRITICAL, doc
    for name, address in names():
        assert row(doc, name, address)["dnssec"]["expired"] is True, name
    assert any("serves an expired RRSIG(SOA)" in r for r in zone_doc(doc)["reasons"]), doc
    resign(NOW - 3600, SECOND_END)
    lab.run("wait-sync", ZONE)


def test_tcp_fallback_carries_the_signature():
    # With 512 octets advertised, every DO answer of signed.test (a 384-octet signature) is
    # truncated (TC): the probe asks again over TCP (RFC 7766 5) and reads the RRSIG there.
    rc, doc = check_json(lab, ZONE, extra=("--edns-bufsize", "512"))
    assert rc == OK, doc
    for name, address in names():
        s = row(doc, name, address)
        assert s["transport"] == "tcp", s
        assert s["dnssec"]["rrsig"]["expiration_unix"] == SECOND_END, s


def test_without_edns_no_do_and_no_signature():
    # No OPT record, no DO (RFC 3225 3): the servers send no RRSIG; soawatch says it asked for
    # none (dnssec.asked false) and reports no signature and no finding, not a missing one.
    rc, doc = check_json(lab, ZONE, extra=("--edns-bufsize", "0"))
    assert rc == OK, doc
    z = zone_doc(doc)
    assert z["dnssec"]["signed"] is False, z["dnssec"]
    for name, address in names():
        s = row(doc, name, address)
        assert s["dnssec"]["asked"] is False and s["dnssec"]["rrsig"] is None, s
        assert s["dnssec"]["missing"] is False, s
    # dnssec: true cannot be held without EDNS: refused before any query.
    rc, _, err = soawatch("check", "--edns-bufsize", "0", "--dnssec", "true", ZONE)
    assert rc == UNKNOWN and "--dnssec: true needs EDNS" in err, err
    # dnssec false: no DO, nothing read, though EDNS is on.
    rc, doc = check_json(lab, ZONE, extra=("--dnssec", "false"))
    assert rc == OK, doc
    assert all(s["dnssec"]["rrsig"] is None for s in zone_doc(doc)["servers"]), doc


def test_agent_exports_the_signature_times():
    work = tempfile.mkdtemp(prefix="soawatch-dnssec-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    path = os.path.join(work, "soawatch.yml")
    with open(path, "w") as f:
        f.write("global:\n  interval: 2s\n  timeout: 1s\n"
                f"  port: {lab.port}\n  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]\n"
                f"zones:\n  - name: {ZONE}\n    primary: \"{lab['LAB_PRIMARY']}\"\n")
    agent = Agent(path, work)
    try:
        for _, address in names():
            eventually(lambda: agent.metric("soawatch_rrsig_expiration_timestamp_seconds",
                                            zone=ZONE + ".", address=address) == SECOND_END,
                       timeout=20, what=f"the expiration of {address}")
            assert agent.metric("soawatch_rrsig_inception_timestamp_seconds", zone=ZONE + ".",
                                address=address) == NOW - 3600
        agent.terminate()
    finally:
        agent.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(lab)
