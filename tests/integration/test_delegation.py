"""The delegation check (delegation_check) against real servers: the lab's parent-only BIND
(`lab parent up`, LAB_PARENT) serves test. and its delegations, the hidden BIND primary, NSD, Knot
and BIND serve the zones. The healthy lab has no finding; each `lab delegation-fault` produces its
own finding (reason code, names, side) in `soawatch check`, and the same faults are run through
Zonemaster's Delegation and Consistency test cases and Nameserver06 (zonemaster-cli, pointed at
the lab by a root hints file and a preloaded module that sets the port): the two must agree on
every fault, in a table the test prints. The agent exports the findings as metrics and fires DelegationMismatch;
the extra queries the check costs are counted.

The lab runs in its authoritative mode here (the primary answers discovery, as without root):
the faults are made at the parent-only server this test controls, and Zonemaster is pointed at
it; in the Unbound mode the lab root (LAB_NET.5) would be a second, healthy parent of test.
(tests/integration/test_resolver.py covers discovery through Unbound)."""

import json
import os
import shutil
import subprocess
import tempfile

os.environ["LAB_RESOLVER_MODE"] = "authoritative"

from labtest import SRC, Agent, Lab, eventually, main, metric_value, soawatch

lab = Lab(zones=0)
ZONE = "example.test"

# fault -> (the reason soawatch must report, its side, the names concerned)
FAULTS = {
    "extra-ns": ("parent_child_ns_differ", "parent", ["nsx.lab.test."]),
    "missing-ns": ("parent_child_ns_differ", "child", ["ns3.lab.test."]),
    "bad-glue": ("glue_mismatch", "parent", ["ns-glue.example.test."]),
    "unresolvable-ns": ("ns_unresolvable", "child", ["ns-gone.lab.test."]),
    "single-ns": ("too_few_ns", "parent", ["ns1.lab.test."]),
    "split-ns": ("ns_sets_differ", None, ["ns2.lab.test."]),
}
# soawatch's reason -> the Zonemaster message tags (the Delegation and Consistency test cases,
# and Nameserver06 "NS can be resolved") that report the same problem.
ZONEMASTER_TAGS = {
    "parent_child_ns_differ": {"EXTRA_NAME_PARENT", "EXTRA_NAME_CHILD", "TOTAL_NAME_MISMATCH"},
    "ns_sets_differ": {"MULTIPLE_NS_SET"},
    "glue_mismatch": {"IN_BAILIWICK_ADDR_MISMATCH", "OUT_OF_BAILIWICK_ADDR_MISMATCH"},
    "ns_unresolvable": {"CAN_NOT_BE_RESOLVED"},
    "too_few_ns": {"NOT_ENOUGH_NS_DEL", "NOT_ENOUGH_NS_CHILD"},
}
# Known differences: (fault, reason) pairs only one side reports. Zonemaster's Delegation and
# Consistency test cases match NS names without resolving them; its Nameserver06 reports a name
# that cannot be resolved, as soawatch's ns_unresolvable does, and in split-ns also
# ns2.lab.test., the name only the lagging ns3 still lists, without a query for it in its debug
# log, while the parent serves its address (dig answers it): soawatch finds it resolvable.
KNOWN_DIFFERENCES = {("split-ns", "ns_unresolvable")}


def workdir():
    return tempfile.mkdtemp(prefix="soawatch-deleg-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")


def write_config(work, delegation="", rules=""):
    """example.test with the lab's parent server; second.test with a discovered parent (the
    lab's test. servers serve the zones too: no referral, no parent view)."""
    text = f"""global:
  port: {lab.port}
  timeout: 500ms
  retries: 1
  resolvers: [ "{lab['LAB_RESOLVER']}" ]
{delegation}{rules}zones:
  - name: {ZONE}
    parent_nameservers: [ "{lab['LAB_PARENT']}" ]
  - second.test
"""
    path = os.path.join(work, "soawatch.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def check(config, *extra):
    rc, out, err = soawatch("check", "--json", "--config.file", config, *extra)
    try:
        return rc, json.loads(out), err
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON (exit {rc}):\n{out}\n{err}")


def delegation(doc, zone=ZONE):
    return next(z for z in doc["zones"] if z["zone"] == zone + ".")["delegation"]


def reasons(d):
    return {f["reason"] for f in d["findings"]}


def zonemaster_tags():
    """The message tags Zonemaster's Delegation and Consistency test cases (and Nameserver06)
    give example.test,
    asked through the lab: root hints point at the parent server, the preloaded module
    (tests/support/SoawatchLabPort.pm) sets the lab's port on every resolver object, no IPv6."""
    work = workdir()
    hints = os.path.join(work, "hints")
    with open(hints, "w") as f:
        f.write(f". 3600 IN NS parent.lab.test.\nparent.lab.test. 3600 IN A {lab['LAB_PARENT']}\n")
    env = dict(os.environ, SOAWATCH_ZONEMASTER_PORT=str(lab.port))
    proc = subprocess.run(
        ["perl", "-I" + os.path.join(SRC, "tests", "support"), "-MSoawatchLabPort",
         shutil.which("zonemaster-cli"), "--no-ipv6", "--hints", hints, "--test", "Delegation",
         "--test", "Consistency", "--test", "Nameserver/nameserver06", "--json", "--level", "INFO",
         ZONE],
        capture_output=True, text=True, timeout=120, env=env, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {m["tag"] for m in json.loads(proc.stdout)}


def test_healthy_lab_has_no_finding():
    lab.run("parent", "up")
    work = workdir()
    rc, doc, _ = check(write_config(work))
    assert rc == 0, json.dumps(doc)[:3000]
    d = delegation(doc)
    assert d["findings"] == [], d["findings"]
    assert d["consistent"] is True and d["ns_set_consistent"] is True
    assert d["parent_ns"] == [f"{s}.lab.test." for s in lab.secondaries(ZONE)]
    assert d["child_ns"] == d["parent_ns"]
    # A discovered parent that serves the zone too gives no parent view, and no finding.
    other = delegation(doc, "second.test")
    assert other["parent_zone"] == "test." and other["parent_ns"] is None
    assert "serves the zone too" in other["parent_error"], other["parent_error"]
    assert other["findings"] == [] and other["consistent"] is None


def test_each_fault_has_its_finding_and_zonemaster_agrees():
    work = workdir()
    config = write_config(work)
    have_zonemaster = shutil.which("zonemaster-cli") is not None
    rows, disagreements = [], []
    healthy_tags = zonemaster_tags() if have_zonemaster else set()
    for reason_tags in ZONEMASTER_TAGS.values():
        assert not reason_tags & healthy_tags, healthy_tags
    for fault, (reason, side, names) in FAULTS.items():
        lab.run("delegation-fault", ZONE, fault)
        try:
            rc, doc, _ = check(config)
            d = delegation(doc)
            found = [f for f in d["findings"] if f["reason"] == reason]
            assert found, f"{fault}: no {reason} in {d['findings']}"
            assert any(f["side"] == side and set(names) <= set(f["names"]) for f in found), \
                f"{fault}: {found}"
            z = next(z for z in doc["zones"] if z["zone"] == ZONE + ".")
            assert z["verdict"] in ("WARNING", "CRITICAL") and rc in (1, 2), (rc, z["verdict"])
            assert any(f["text"] in z["reasons"] for f in found)
            tags = zonemaster_tags() if have_zonemaster else None
        finally:
            lab.run("delegation-fix", ZONE)
        for code, zm_tags in ZONEMASTER_TAGS.items():
            ours = code in reasons(d)
            theirs = None if tags is None else bool(zm_tags & tags)
            rows.append((fault, code, ours, theirs, sorted(zm_tags & tags) if tags else []))
            if theirs is not None and ours != theirs and (fault, code) not in KNOWN_DIFFERENCES:
                disagreements.append((fault, code, ours, theirs))
    print(f"{'fault':<16} {'finding':<24} {'soawatch':<9} {'zonemaster':<11} zonemaster tags")
    for fault, code, ours, theirs, tags in rows:
        if not ours and not theirs:
            continue
        zm = "n/a" if theirs is None else ("yes" if theirs else "no")
        note = " (known difference)" if (fault, code) in KNOWN_DIFFERENCES else ""
        print(f"{fault:<16} {code:<24} {'yes' if ours else 'no':<9} {zm:<11} "
              f"{','.join(tags) or '-'}{note}")
    if not have_zonemaster:
        print("zonemaster-cli not installed: the parity column is n/a")
    assert not disagreements, disagreements
    # Fixed: healthy again.
    rc, doc, _ = check(config)
    assert delegation(doc)["findings"] == [] and rc == 0


def test_extra_queries_per_check():
    """The delegation check's cost, counted: `soawatch check --stats` with and without it."""
    work = workdir()
    on = write_config(work)
    off_dir = workdir()
    off = write_config(off_dir, delegation="  delegation_check: { enabled: false }\n")

    def queries(config):
        rc, _, err = soawatch("check", "--summary", "--stats", "--config.file", config)
        line = next(l for l in err.splitlines() if "stats" in l)
        return int(next(p for p in line.split() if p.startswith("queries=")).split("=")[1])
    extra = queries(on) - queries(off)
    per_hour = extra * 6  # the default interval, 10m
    print(f"delegation check: {extra} extra queries for 2 zones per check, "
          f"{per_hour / 2:.0f} per zone per hour at the default 10m")
    # Per zone: an NS query to each of its addresses (the secondaries that serve it, ns2 on ::1
    # too), to its parent (configured, or the parent's NS lookup and address for second.test);
    # the NS names' addresses come from discovery's cache.
    addresses = sum(len(lab.secondaries(z)) + 1 for z in (ZONE, "second.test"))
    assert 0 < extra <= addresses + 4, extra


def test_agent_exports_findings_and_fires_delegation_mismatch():
    work = workdir()
    rules = "alerting:\n  for: 0s\n"
    lab.run("delegation-fault", ZONE, "extra-ns")
    agent = None
    try:
        agent = Agent(write_config(work, rules=rules), work)

        def firing():
            status, _, body = agent.get("/api/v1/alerts")
            assert status == 200
            return [a for a in json.loads(body)["alerts"]
                    if a["state"] == "firing" and a["labels"]["alertname"] == "DelegationMismatch"]
        alerts = eventually(firing, timeout=30, what="DelegationMismatch firing")
        assert alerts[0]["labels"]["zone"] == ZONE + "."
        assert "nsx.lab.test." in alerts[0]["annotations"]["summary"]
        assert "parent" in alerts[0]["annotations"]["summary"]
        text = agent.metrics()
        assert metric_value(text, "soawatch_delegation_consistent", zone=ZONE + ".") == 0
        assert metric_value(text, "soawatch_ns_set_consistent", zone=ZONE + ".") == 1
        assert metric_value(text, "soawatch_delegation_problem", zone=ZONE + ".",
                            reason="parent_child_ns_differ") == 1
        assert metric_value(text, "soawatch_delegation_problem", zone=ZONE + ".",
                            reason="glue_mismatch") == 0
        assert metric_value(text, "soawatch_delegation_finding_info", zone=ZONE + ".",
                            reason="parent_child_ns_differ", side="parent",
                            names="nsx.lab.test.") == 1
        # No parent view for second.test: no soawatch_delegation_consistent, NS sets agree
        # (its first check may come later in the first round).
        eventually(lambda: agent.metric("soawatch_ns_set_consistent", zone="second.test.") == 1,
                   timeout=20, what="second.test's delegation check")
        assert agent.metric("soawatch_delegation_consistent", zone="second.test.") is None
        status, _, body = agent.get("/")
        assert status == 200 and "delegation check" in body and "nsx.lab.test." in body
        agent.terminate()
    finally:
        if agent:
            agent.stop()
        lab.run("delegation-fix", ZONE)


if __name__ == "__main__":
    main(lab=lab)
