"""Zones from catalog zones (RFC 9432, zones_from_catalog) against real producers started here,
on this script's own loopback addresses (LAB_NET.51, .52) and port (LAB_PORT), without the lab:

- Knot DNS 3.2 generates kcat.test. from its zones marked `catalog-role: member`; transfers
  need the TSIG key. Knot refuses queries for a generated catalog (the IXFR is the serial
  check) and sends its NOTIFY over TCP.
- BIND 9.18 serves the hand-written bcat.test. (ixfr-from-differences: real IXFR differences),
  NOTIFYing the agent's listener over UDP on every reload.
The agent's refresh of both is an hour: only the NOTIFYs can make it follow.

Members added and removed on the producers appear in and leave /api/v1/zones; a broken catalog
(version "1", a PTR at x.y.zones.) is rejected with its reason, the last good member list kept,
soawatch_catalog_up 0 and CatalogUnavailable firing; fixed, it recovers."""

import json
import os
import shutil
import signal
import subprocess

from labtest import Agent, Process, eventually, main, metric_value, soawatch

NET = os.environ.get("LAB_NET", "127.0.80")
PORT = int(os.environ.get("LAB_PORT", "5800"))
WORK = os.path.join(os.environ.get("LAB_DIR", f"/tmp/lab-catalog-{PORT}"), "catalog")
KNOT_ADDR, BIND_ADDR, AGENT_ADDR = f"{NET}.51", f"{NET}.52", f"{NET}.1"
NOTIFY_PORT = PORT + 1
SECRET = "kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI="  # tests/unit/tsig_test.cpp's lab key

knot = bind = agent = None
bind_serial = 1
added_addresses = []  # put on lo by this script (BIND binds only addresses it finds there)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def knot_config(members):
    zones = "".join(f"""  - domain: {m}
    catalog-role: member
    catalog-zone: kcat.test.
""" for m in members)
    write(os.path.join(WORK, "knot.conf"), f"""server:
    rundir: "{WORK}/knot"
    pidfile: "{WORK}/knot/knot.pid"
    listen: {KNOT_ADDR}@{PORT}
log:
  - target: stderr
    any: info
database:
    storage: "{WORK}/knot"
key:
  - id: catalog-key
    algorithm: hmac-sha256
    secret: {SECRET}
acl:
  - id: xfr
    key: catalog-key
    action: transfer
remote:
  - id: agent
    address: {AGENT_ADDR}@{NOTIFY_PORT}
template:
  - id: default
    storage: "{WORK}/knot"
    file: "%s.zone"
zone:
  - domain: kcat.test.
    catalog-role: generate
    acl: xfr
    notify: agent
{zones}""")
    for m in members:
        path = os.path.join(WORK, "knot", f"{m}.zone")
        if not os.path.exists(path):
            write(path, f"$TTL 300\n@ SOA ns.{m} h.{m} 1 60 10 600 60\n@ NS ns\n"
                        f"ns A {KNOT_ADDR}\n")


def bind_catalog(members, version="2", extra=""):
    """bcat.test.'s zone file with a new serial; members: {unique-id: zone}."""
    global bind_serial
    bind_serial += 1
    ptrs = "".join(f"{uid}.zones PTR {zone}.\n" for uid, zone in members.items())
    write(os.path.join(WORK, "bind", "bcat.test.db"), f"""$TTL 0
@ SOA invalid. invalid. {bind_serial} 3600 600 2147483646 0
@ NS invalid.
version TXT "{version}"
{ptrs}{extra}""")


def add_address(address):
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"], capture_output=True,
                         text=True, check=True).stdout
    if f" inet {address}/" not in out:
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True)
        added_addresses.append(address)


def start_servers():
    global knot, bind
    add_address(BIND_ADDR)
    shutil.rmtree(WORK, ignore_errors=True)
    for d in ("knot", "bind"):
        os.makedirs(os.path.join(WORK, d))
    knot_config(["one.test.", "two.test."])
    knot = Process(["knotd", "-c", os.path.join(WORK, "knot.conf")],
                   os.path.join(WORK, "knot.log"))
    # group and coo member properties (RFC 9432 4.3) are allowed and ignored.
    bind_catalog({"m1": "alpha.test", "m2": "beta.test"},
                 extra='group.m1.zones TXT "blue"\ncoo.m2.zones PTR other-catalog.test.\n')
    write(os.path.join(WORK, "named.conf"), f"""key "catalog-key" {{
    algorithm hmac-sha256;
    secret "{SECRET}";
}};
controls {{ }};
options {{
    directory "{WORK}/bind";
    pid-file "{WORK}/bind/named.pid";
    lock-file "{WORK}/bind/named.lock";
    session-keyfile "{WORK}/bind/session.key";
    managed-keys-directory "{WORK}/bind";
    listen-on port {PORT} {{ {BIND_ADDR}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    empty-zones-enable no;
    notify explicit;
    notify-delay 0;
    notify-source {BIND_ADDR};
    transfer-source {BIND_ADDR};
    also-notify {{ {AGENT_ADDR} port {NOTIFY_PORT}; }};
    allow-transfer {{ key catalog-key; }};
    ixfr-from-differences yes;
}};
zone "bcat.test" {{ type primary; file "bcat.test.db"; }};
""")
    bind = Process(["named", "-g", "-4", "-n", "1", "-c", os.path.join(WORK, "named.conf")],
                   os.path.join(WORK, "named.log"))
    eventually(lambda: "loaded serial" in bind.output() or not bind.alive(), timeout=20,
               what="named to load bcat.test")
    eventually(lambda: "kcat.test.] loaded" in knot.output() or not knot.alive(), timeout=20,
               what="knotd to generate kcat.test")
    assert bind.alive(), bind.output()
    assert knot.alive(), knot.output()


def start_agent():
    global agent
    write(os.path.join(WORK, "catalog.secret"), SECRET + "\n")
    config = os.path.join(WORK, "soawatch.yml")
    write(config, f"""global:
  interval: 1m
  timeout: 500ms
  retries: 0
  notify_listen: {AGENT_ADDR}:{NOTIFY_PORT}
alerting:
  rules:
    CatalogUnavailable: {{ for: 0s }}
zones:
  # Also a member of kcat.test.: this entry wins (its own interval).
  - name: two.test
    nameservers: [ "{KNOT_ADDR}:{PORT}" ]
    interval: 5m
zones_from_catalog:
  - catalog: kcat.test
    primary: {KNOT_ADDR}:{PORT}
    tsig: {{ name: catalog-key, algorithm: hmac-sha256, secret_file: catalog.secret }}
    refresh: 1h
    defaults:
      nameservers: [ "{KNOT_ADDR}:{PORT}" ]
  - catalog: bcat.test
    primary: {BIND_ADDR}:{PORT}
    tsig: {{ name: catalog-key, algorithm: hmac-sha256, secret_file: catalog.secret }}
    refresh: 1h
    defaults:
      nameservers: [ "{BIND_ADDR}:{PORT}" ]
      interval: 2m
""")
    agent = Agent(config, WORK)


def api(path):
    status, _, body = agent.get(path)
    assert status == 200, (status, body)
    return json.loads(body)


def zones():
    return {z["zone"] for z in api("/api/v1/zones")["zones"]}


def catalog(name):
    return next(c for c in api("/api/v1/catalogs")["catalogs"] if c["catalog"] == name)


def catalog_alerts():
    return {a["labels"].get("catalog") for a in api("/api/v1/alerts")["alerts"]
            if a["labels"]["alertname"] == "CatalogUnavailable" and a["state"] == "firing"}


def test_members_of_both_catalogs_are_watched():
    start_servers()
    start_agent()
    want = {"one.test.", "two.test.", "alpha.test.", "beta.test."}
    eventually(lambda: want <= zones(), timeout=30, what=f"{want} in /api/v1/zones")
    for name, members in (("kcat.test.", ["one.test.", "two.test."]),
                          ("bcat.test.", ["alpha.test.", "beta.test."])):
        c = catalog(name)
        assert c["up"] and c["members"] == members and c["error"] is None, c
        metrics = agent.metrics()
        assert metric_value(metrics, "soawatch_catalog_up", catalog=name) == 1
        assert metric_value(metrics, "soawatch_catalog_members", catalog=name) == len(members)
        assert metric_value(metrics, "soawatch_catalog_serial", catalog=name) == c["serial"]
    # Member zones are checked: one.test. answers from Knot.
    eventually(lambda: any(z["zone"] == "one.test." and z["servers"]
                           for z in api("/api/v1/zones")["zones"]), timeout=20,
               what="one.test. checked")


def test_check_watches_the_members_too():
    """`soawatch check --config.file` transfers each catalog once and checks its members."""
    rc, out, err = soawatch("check", "--json", f"--config.file={agent.config_path}")
    doc = json.loads(out)
    checked = {z["zone"] for z in doc["zones"]}
    assert {"one.test.", "two.test.", "alpha.test.", "beta.test."} <= checked, (checked, err)


def test_knot_members_added_and_removed_are_followed():
    knot_config(["two.test.", "three.test."])  # one.test. leaves, three.test. joins
    knot.signal(signal.SIGHUP)
    # The refresh is an hour: Knot's NOTIFY (over TCP) brings this.
    eventually(lambda: {"three.test.", "two.test."} <= zones() and "one.test." not in zones(),
               timeout=20, what="three.test. in, one.test. out")
    # (The one Knot sent at its start, before the agent listened, failed.)
    sent = [line for line in knot.output().splitlines() if "notify, outgoing" in line]
    assert sent and "failed" not in sent[-1], sent
    # The explicit two.test. stays (it is in zones: too) while alpha/beta are untouched.
    assert {"alpha.test.", "beta.test."} <= zones()
    assert catalog("kcat.test.")["members"] == ["three.test.", "two.test."]


def test_reload_keeps_the_members():
    """A reload re-reads the file; the catalogs keep their member lists (no transfer needed)."""
    before = zones()
    transfers = catalog("kcat.test.")["transfers"]
    status, _, body = agent.reload()
    assert status == 200, body
    assert zones() == before
    assert catalog("kcat.test.")["transfers"] == transfers


def test_bind_notify_brings_members_at_once():
    bind_catalog({"m1": "alpha.test", "m3": "gamma.test"})  # beta.test. leaves
    bind.signal(signal.SIGHUP)
    # The refresh is an hour: only the NOTIFY can bring this.
    eventually(lambda: "gamma.test." in zones() and "beta.test." not in zones(), timeout=15,
               what="gamma.test. in, beta.test. out after NOTIFY")
    c = catalog("bcat.test.")
    assert c["serial"] == bind_serial and c["last_transfer"] == "ixfr", c


def test_broken_catalog_is_rejected_and_old_list_kept():
    before = catalog("bcat.test.")
    for version, extra, reason in (
            ("1", "", 'unsupported catalog schema version "1"'),
            ("2", "x.m1.zones PTR delta.test.\n", "x.m1.zones.bcat.test."),
            ("2", "m1.zones PTR delta.test.\n", "2 PTR records at member node m1")):
        bind_catalog({"m1": "alpha.test", "m3": "gamma.test", "m4": "delta.test"},
                     version=version, extra=extra)
        bind.signal(signal.SIGHUP)
        eventually(lambda: reason in (catalog("bcat.test.")["error"] or ""), timeout=15,
                   what=f"rejection naming {reason}")
        c = catalog("bcat.test.")
        assert not c["up"] and c["members"] == before["members"], c
        assert c["serial"] == before["serial"], c
        assert "delta.test." not in zones()
        assert agent.metric("soawatch_catalog_up", catalog="bcat.test.") == 0
        eventually(lambda: "bcat.test." in catalog_alerts(), timeout=10,
                   what="CatalogUnavailable firing")
    assert "catalog refresh failed; keeping the last good member list" in agent.process.output()
    # Fixed: the new member arrives and the alert resolves.
    bind_catalog({"m1": "alpha.test", "m3": "gamma.test", "m4": "delta.test"})
    bind.signal(signal.SIGHUP)
    eventually(lambda: "delta.test." in zones(), timeout=15, what="delta.test. after the fix")
    assert catalog("bcat.test.")["up"]
    eventually(lambda: "bcat.test." not in catalog_alerts(), timeout=10,
               what="CatalogUnavailable resolved")


def test_large_catalog_over_several_signed_messages():
    """BIND signs every message of a transfer; a catalog of 6,000 members takes several (about
    2,500 PTRs fit in one), each one's MAC chained to the previous (RFC 8945 5.3.1)."""
    members = {"m1": "alpha.test", "m3": "gamma.test", "m4": "delta.test"}
    members.update({f"n{i}": f"z{i}.big.test" for i in range(6000)})
    bind_catalog(members)
    bind.signal(signal.SIGHUP)
    eventually(lambda: catalog("bcat.test.")["member_count"] == 6003, timeout=30,
               what="6003 members")
    c = catalog("bcat.test.")
    assert c["up"] and c["serial"] == bind_serial, c
    lines = [line for line in agent.process.output().splitlines()
             if 'msg="catalog transferred" catalog=bcat.test.' in line]
    assert f"serial={bind_serial}" in lines[-1], lines[-1]
    messages = int(lines[-1].split("messages=")[1].split()[0])
    assert messages >= 3, lines[-1]


def test_shutdown():
    try:
        agent.terminate(wait=10)
    finally:
        for p in (knot, bind):
            if p is not None:
                p.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in (agent, knot, bind):
            if p is not None:
                try:
                    p.stop()
                except Exception:  # noqa: BLE001 - stop what is left, whatever failed
                    pass
        for address in added_addresses:
            subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], check=False)
