"""`soawatch check` against real servers: a hidden BIND primary and NSD, Knot and BIND
secondaries on loopback, with faults injected by the lab. Each case asserts the exact per-address
states and the Nagios exit code."""

import json
import os
import time

from labtest import Lab, check_json, eventually, main, server, soawatch, states

lab = Lab(zones=200)
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3


def ns_states(doc, zone):
    return {k: v for k, v in states(doc, zone).items() if k[0] != "(primary)"}


def expected_servers():
    """(nameserver, address) of every NS address of example.test and second.test in the lab."""
    servers = {(f"{ns}.lab.test.", lab.addr(ns)) for ns in lab.secondaries("example.test")}
    if lab.env.get("LAB_NS2_V6"):
        servers.add(("ns2.lab.test.", lab.env["LAB_NS2_V6"]))
    return servers


def test_all_in_sync_with_primary():
    rc, doc = check_json(lab, "example.test", "second.test")
    assert rc == OK, doc
    for zone in ("example.test", "second.test"):
        st = states(doc, zone)
        assert st.pop(("(primary)", lab.addr("primary"))) == "reference"
        assert set(st) == expected_servers(), st
        assert set(st.values()) == {"in_sync"}, st
    assert doc["verdict"] == "OK"


# The identity each lab server answers to NSID (deploy/lab/templates: BIND server-id, NSD nsid:,
# Knot nsid, PowerDNS server-id).
LAB_NSID = {"primary": "lab-primary", "ns1": "lab-ns1", "ns2": "lab-ns2", "ns3": "lab-ns3",
            "ns4": "lab-ns4"}


def test_each_address_names_its_instance_by_nsid():
    rc, doc = check_json(lab, "example.test")
    assert rc == OK, doc
    for name, nsid in LAB_NSID.items():
        s = server(doc, "example.test", lab.addr(name), primary=name == "primary")
        assert s["nsid"] == nsid, s
        assert s["nsid_hex"] == nsid.encode().hex(), s
    if lab.env.get("LAB_NS2_V6"):
        assert server(doc, "example.test", lab.env["LAB_NS2_V6"])["nsid"] == "lab-ns2"
    # The table has the column, each row its server's identity.
    rc, out, _ = soawatch("check", "--resolver", lab["LAB_RESOLVER"], "--port", lab.port,
                          "--primary", lab.addr("primary"), "example.test")
    assert rc == OK, out
    lines = out.splitlines()
    header = next(line.split() for line in lines if line.startswith("zone "))
    assert header[:5] == ["zone", "nameserver", "address", "nsid", "serial"], header
    rows = [line.split() for line in lines if line.startswith("example.test.")]
    by_address = {row[2].rsplit(":", 1)[0].strip("[]"): row[3] for row in rows}
    for name, nsid in LAB_NSID.items():
        assert by_address[lab.addr(name)] == nsid, out


def test_without_edns_no_nsid_is_asked():
    rc, doc = check_json(lab, "example.test", extra=("--edns-bufsize", "0"))
    assert rc == OK, doc
    for name in LAB_NSID:
        s = server(doc, "example.test", lab.addr(name), primary=name == "primary")
        assert s["nsid"] is None and s["nsid_hex"] is None, s


def test_all_in_sync_newest_is_reference():
    rc, doc = check_json(lab, "example.test", primary=False)
    assert rc == OK, doc
    zone = doc["zones"][0]
    assert zone["reference_source"] == "newest"
    assert set(ns_states(doc, "example.test").values()) == {"in_sync"}


def test_secondary_lagging_after_bump_is_behind():
    lab.run("break-xfr", "ns1")
    try:
        lab.run("bump", "example.test")
        lab.run("bump", "example.test")
        # ns2 and ns3 get the new serial by NOTIFY; ns1 keeps answering its old one.
        eventually(lambda: lab.run("serial", "example.test", "ns3") ==
                   lab.run("serial", "example.test", "primary"), what="ns3 to catch up")
        eventually(lambda: lab.run("serial", "example.test", "ns2") ==
                   lab.run("serial", "example.test", "primary"), what="ns2 to catch up")
        rc, doc = check_json(lab, "example.test")
        assert rc == WARNING, doc
        ns1 = server(doc, "example.test", lab.addr("ns1"))
        assert ns1["state"] == "behind", ns1
        assert ns1["behind"] == 2, ns1
        assert ns1["error"] is None
        assert server(doc, "example.test", lab.addr("ns3"))["state"] == "in_sync"
        # The table says the same in words.
        rc, out, _ = soawatch("check", "--resolver", lab["LAB_RESOLVER"], "--port", lab.port,
                              "--primary", lab.addr("primary"), "example.test")
        assert rc == WARNING
        assert out.startswith("SOA WARNING - 1 of 1 zone not OK"), out
        assert "behind (2)" in out, out
    finally:
        lab.run("fix-xfr", "ns1")
    lab.run("wait-sync", "example.test")
    rc, doc = check_json(lab, "example.test")
    assert rc == OK, doc


def test_stopped_secondary_is_connection_refused():
    lab.run("stop", "ns3")
    try:
        rc, doc = check_json(lab, "example.test")
        assert rc == WARNING, doc
        ns3 = server(doc, "example.test", lab.addr("ns3"))
        assert ns3["state"] == "unusable" and ns3["error"] == "connection_refused", ns3
        assert server(doc, "example.test", lab.addr("ns1"))["state"] == "in_sync"
    finally:
        lab.run("start", "ns3")
    lab.run("wait-sync")


def test_paused_secondary_times_out():
    lab.run("pause", "ns2")
    try:
        start = time.monotonic()
        rc, doc = check_json(lab, "example.test")
        elapsed = time.monotonic() - start
        assert rc == WARNING, doc
        for (name, address), state in ns_states(doc, "example.test").items():
            assert state == ("timeout" if name == "ns2.lab.test." else "in_sync"), (name, state)
        ns2 = server(doc, "example.test", lab.addr("ns2"))
        assert ns2["error_detail"] == "no answer after 2 tries", ns2
        # 2 tries of 500ms, concurrently with everything else: not 2 tries per zone in a row.
        assert elapsed < 5, elapsed
    finally:
        lab.run("resume", "ns2")


def test_lame_nsd_is_not_authoritative():
    lab.run("lame", "ns1", "example.test")
    try:
        # Listed, not discovered: NSD serves test. too, so when lame it answers the zone's NS
        # query with a referral, which Unbound 1.17 may hand on as an empty NOERROR answer and
        # keep (docs/DISCOVERY.md); this test is about how the server answers the SOA probe.
        rc, doc = check_json(lab, "example.test", extra=explicit_nameservers())
        assert rc == WARNING, doc
        ns1 = server(doc, "example.test", lab.addr("ns1"))
        assert ns1["error"] == "not_authoritative", ns1
        assert ns1["authoritative"] is False
        assert "referral" in ns1["error_detail"], ns1
    finally:
        lab.run("unlame", "ns1", "example.test")
    lab.run("wait-sync", "example.test")


def test_lame_knot_is_refused():
    lab.run("lame", "ns2", "example.test")
    try:
        rc, doc = check_json(lab, "example.test", extra=explicit_nameservers())  # as above
        assert rc == WARNING, doc
        ns2 = server(doc, "example.test", lab.addr("ns2"))
        assert ns2["error"] == "refused", ns2
        assert ns2["rcode"] == "REFUSED", ns2
    finally:
        lab.run("unlame", "ns2", "example.test")
    lab.run("wait-sync", "example.test")


def test_unloaded_zone_is_servfail():
    lab.run("servfail", "ns3", "second.test")
    try:
        rc, doc = check_json(lab, "second.test")
        assert rc == WARNING, doc
        ns3 = server(doc, "second.test", lab.addr("ns3"))
        assert ns3["error"] == "servfail", ns3
    finally:
        lab.run("unservfail", "ns3", "second.test")
    lab.run("wait-sync", "second.test")


def explicit_nameservers():
    return ["--nameserver", lab.addr("ns1"), "--nameserver", lab.addr("ns2"),
            "--nameserver", lab.addr("ns3")]


def test_name_below_a_zone_is_nxdomain():
    rc, doc = check_json(lab, "nope.example.test", primary=False, extra=explicit_nameservers())
    assert rc == CRITICAL, doc
    assert set(ns_states(doc, "nope.example.test").values()) == {"nxdomain"}, doc


def test_name_inside_a_zone_has_no_soa():
    rc, doc = check_json(lab, "www.example.test", primary=False, extra=explicit_nameservers())
    assert rc == CRITICAL, doc
    assert set(ns_states(doc, "www.example.test").values()) == {"no_soa"}, doc
    detail = server(doc, "www.example.test", lab.addr("ns1"))["error_detail"]
    assert "authority" in detail, detail


def test_hidden_primary_down_is_critical():
    lab.run("stop", "primary")
    try:
        rc, doc = check_json(lab, "example.test", extra=explicit_nameservers())
        assert rc == CRITICAL, doc
        primary = server(doc, "example.test", lab.addr("primary"), primary=True)
        assert primary["error"] == "connection_refused", primary
        assert set(ns_states(doc, "example.test").values()) == {"in_sync"}
        assert doc["zones"][0]["reasons"][0].startswith("primary"), doc
    finally:
        lab.run("start", "primary")


def test_truncated_udp_answer_is_retried_over_tcp():
    # Knot (ns2) sends at most 512 bytes over UDP; longsoa.test's SOA answer is longer.
    rc, doc = check_json(lab, "longsoa.test")
    assert rc == OK, doc
    ns2 = server(doc, "longsoa.test", lab.addr("ns2"))
    assert ns2["state"] == "in_sync" and ns2["transport"] == "tcp", ns2
    ns1 = server(doc, "longsoa.test", lab.addr("ns1"))
    assert ns1["transport"] == "udp", ns1
    # Without EDNS every server must truncate at 512 bytes: all fall back to TCP.
    rc, doc = check_json(lab, "longsoa.test", extra=["--edns-bufsize", "0"])
    assert rc == OK, doc
    for z in doc["zones"]:
        for s in z["servers"]:
            assert s["transport"] == "tcp", s
    mname = server(doc, "longsoa.test", lab.addr("ns1"))["soa"]["mname"]
    assert len(mname) > 200, mname


def test_ipv6_addresses_are_probed():
    v6 = lab.env.get("LAB_NS2_V6")
    if not v6:
        print("SKIP: no IPv6 on loopback")
        return
    rc, doc = check_json(lab, "example.test", extra=["-6"])
    assert set(ns_states(doc, "example.test")) == {("ns2.lab.test.", v6)}, doc
    # A single nameserver address is fewer than two usable servers.
    assert rc == CRITICAL


def test_many_zones_are_checked_concurrently():
    zones = [f"gen{i:04d}.test" for i in range(1, 201)]
    # Discovery through the lab's Unbound is cold for these 200 zones at first (it follows the
    # referrals of each); one round warms it, so the timed rounds compare probing, not recursion.
    check_json(lab, *zones)
    start = time.monotonic()
    rc, doc = check_json(lab, "example.test")
    one = time.monotonic() - start
    start = time.monotonic()
    rc, doc = check_json(lab, *zones)
    many = time.monotonic() - start
    assert rc == OK, [z for z in doc["zones"] if z["verdict"] != "OK"][:3]
    assert len(doc["zones"]) == 200
    # Sequential checking would take 200 times as long; concurrent checking a few times.
    assert many < 30 * max(one, 0.05), (one, many)


def test_config_file_checks_every_zone_once():
    path = os.path.join(os.environ.get("LAB_DIR", "/tmp"), "check-config.yml")
    nameservers = ", ".join(lab.addr(ns) for ns in lab.secondaries())
    zones = [f"gen{i:04d}.test" for i in range(1, 51)]
    with open(path, "w") as f:
        f.write(f"global:\n  port: {lab.port}\n  timeout: 500ms\n  retries: 1\n"
                f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]\nzones:\n"
                f"  - {{ name: example.test, primary: \"{lab.addr('primary')}\" }}\n")
        for zone in zones:
            f.write(f"  - {{ name: {zone}, nameservers: [ {nameservers} ] }}\n")
    rc, out, err = soawatch("check", f"--config.file={path}", "--json", "--stats")
    assert rc == OK, (out[:2000], err)
    doc = json.loads(out)
    # Every configured zone once, in the file's order, each with its own settings.
    assert [z["zone"] for z in doc["zones"]] == ["example.test."] + [z + "." for z in zones]
    assert states(doc, "example.test")[("(primary)", lab.addr("primary"))] == "reference"
    assert set(ns_states(doc, "gen0001.test")) == {(None, lab.addr(ns)) for ns in
                                                    lab.secondaries()}, doc["zones"][1]
    stats = dict(kv.split("=") for kv in err.split("stats ", 1)[1].split())
    assert int(stats["zones"]) == 51 and int(stats["timeouts"]) == 0, err
    assert int(stats["probes"]) == (1 + len(expected_servers())
                                    + len(lab.secondaries()) * len(zones)), err
    # The plugin line and the zones that are not OK only.
    rc, out, _ = soawatch("check", f"--config.file={path}", "--summary")
    assert rc == OK and out == "SOA OK - 51 zones in sync\n", out
    rc, out, err = soawatch("check", f"--config.file={path}", "example.test")
    assert rc == UNKNOWN and "no ZONE arguments" in err, err


def test_min_usable_nameservers_decides_what_lost_redundancy_is():
    """Two NS names given, Knot (ns2) paused: CRITICAL by default (RFC 2182 wants two usable),
    WARNING with min_usable_nameservers_severity: warning or min_usable_nameservers: 1."""
    path = os.path.join(os.environ.get("LAB_DIR", "/tmp"), "check-min-usable.yml")
    nameservers = ", ".join(f"\"{lab.addr(ns)}\"" for ns in ("ns1", "ns2"))

    def check(*extra):
        with open(path, "w") as f:
            f.write("\n".join(["global:", f"  port: {lab.port}", "  timeout: 300ms",
                               "  retries: 0", *extra, "zones:",
                               f"  - {{ name: example.test, nameservers: [ {nameservers} ] }}"])
                    + "\n")
        rc, out, err = soawatch("check", f"--config.file={path}", "--json")
        return rc, json.loads(out)["zones"][0]

    lab.run("pause", "ns2")
    try:
        rc, zone = check()
        assert rc == CRITICAL, zone
        assert zone["reasons"][0].startswith("only 1 nameserver is usable; "
                                             "min_usable_nameservers is 2"), zone["reasons"]
        rc, zone = check("  min_usable_nameservers_severity: warning")
        assert rc == WARNING, zone
        assert zone["reasons"][0].startswith("only 1 nameserver is usable"), zone["reasons"]
        rc, zone = check("  min_usable_nameservers: 1")
        assert rc == WARNING, zone
        assert not any(r.startswith("only") for r in zone["reasons"]), zone["reasons"]
    finally:
        lab.run("resume", "ns2")


def test_zone_missing_on_the_primary_is_critical_not_unknown():
    """The primary answers NXDOMAIN and no NS set is found: CRITICAL (an unusable primary)
    outranks UNKNOWN (nothing to compare)."""
    rc, doc = check_json(lab, "nope.example.test")
    assert rc == CRITICAL, doc
    zone = doc["zones"][0]
    assert zone["reasons"][0].startswith(f"primary {lab.addr('primary')} is unusable: nxdomain"), \
        zone["reasons"]
    assert zone["reasons"][1].startswith("no nameserver address known"), zone["reasons"]
    assert zone["last_serial_change"] is None


def test_bad_arguments_exit_unknown():
    for args, message in [
        (["check"], "no zone given"),
        (["check", "--timeout", "5x", "example.test"], "--timeout: not a duration"),
        (["check", "--port", "70000", "example.test"],
         "--port: out of range: 70000 (allowed 1..65535)"),
        (["check", "--edns-bufsize=65535", "example.test"],
         "--edns-bufsize: out of range: 65535 (allowed 0, or 512..4096)"),
        (["check", "--timeout=2h", "example.test"], "--timeout: out of range: 2h (allowed 1ms..1m)"),
        (["check", "--resolver", "not-an-ip", "example.test"], "--resolver"),
        (["check", "--bogus", "example.test"], "unknown flag --bogus"),
        (["check", "a..b"], "invalid zone name"),
    ]:
        rc, out, err = soawatch(*args)
        assert rc == UNKNOWN, (args, rc, out, err)
        assert err.count("\n") == 1 and message in err, (args, err)
    # Help is printed on stdout with exit 0 (no exit() inside the parser).
    rc, out, err = soawatch("check", "--help")
    assert rc == 0 and out.startswith("Usage: soawatch check") and not err, (rc, err)


if __name__ == "__main__":
    main(lab=lab)
