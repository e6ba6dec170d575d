"""The transfer audit (transfer_check) against real servers: the lab's hidden BIND primary and its
NSD, Knot and BIND secondaries. Each refuses an unsigned AXFR from soawatch in the lab's normal
state and serves it after `lab open-xfr SERVER`, exactly; the primary serves a TSIG-signed IXFR
with the lab's key (ok) and not with a wrong secret (BIND: BADSIG) or an unknown key name
(BADKEY); a server that accepts the TCP connection and says nothing gives a timeout while the
agent's other checks go on."""

import json
import os
import socket
import tempfile
import threading

from labtest import Agent, Lab, eventually, main, metric_value, soawatch

lab = Lab(zones=0)
OK, WARNING = 0, 1
SERVERS = ("primary", "ns1", "ns2", "ns3", "ns4")


def workdir():
    return tempfile.mkdtemp(prefix="soawatch-xfr-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")


def lab_secret():
    return lab["LAB_TSIG_KEY"].split(":", 2)[2]


def write_config(work, tsig=None, extra_zones="", zone="example.test", rules=""):
    """A config that discovers example.test's NS set through the lab's resolver, with the
    hidden primary and the transfer audit on (with `tsig`: (name, secret) of the key)."""
    text = f"""global:
  port: {lab.port}
  timeout: 500ms
  retries: 1
  resolvers: [ "{lab['LAB_RESOLVER']}" ]
  transfer_check:
    interval: 1m
"""
    if tsig:
        name, secret = tsig
        with open(os.path.join(work, "xfr.secret"), "w") as f:
            f.write(secret + "\n")
        text += f"""    tsig:
      name: {name}
      algorithm: hmac-sha256
      secret_file: xfr.secret
"""
    if rules:
        text += rules
    text += f"""zones:
  - name: {zone}
    primary: {lab.addr('primary')}
{extra_zones}"""
    path = os.path.join(work, "soawatch.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def check(config):
    rc, out, err = soawatch("check", "--json", "--config.file", config)
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON (exit {rc}):\n{out}\n{err}")
    return rc, doc


def addresses(server):
    """The addresses the audit asks for one lab server (ns2 also on ::1 when loopback has it)."""
    out = [lab.addr(server)]
    if server == "ns2" and lab.env.get("LAB_NS2_V6"):
        out.append(lab.env["LAB_NS2_V6"])
    return out


def axfr_results(doc, zone="example.test."):
    """{address: result} of the zone's unsigned AXFR audit."""
    z = next(z for z in doc["zones"] if z["zone"] == zone)
    assert z["transfer"] is not None, json.dumps(z)[:2000]
    return {x["address"]: x["result"] for x in z["transfer"]["axfr"]}


def expected(open_server=None):
    out = {}
    for s in SERVERS:
        for a in addresses(s):
            out[a] = "open" if s == open_server else "refused"
    return out


def test_every_server_refuses_unsigned_axfr():
    rc, doc = check(write_config(workdir()))
    assert rc == OK, json.dumps(doc)[:3000]
    assert axfr_results(doc) == expected(), axfr_results(doc)
    z = doc["zones"][0]
    assert z["transfer"]["open"] is False
    assert z["transfer"]["signed_ixfr"] is None and z["transfer"]["tsig_ok"] is None
    # How each refuses (measured): BIND and NSD with REFUSED, Knot and PowerDNS with NOTAUTH.
    rcodes = {x["address"]: x["rcode"] for x in z["transfer"]["axfr"]}
    primary_refusal = "REFUSED" if lab["LAB_PRIMARY_KIND"] == "bind" else "NOTAUTH"
    assert rcodes[lab.addr("primary")] == primary_refusal, rcodes
    assert rcodes[lab.addr("ns1")] == "REFUSED", rcodes
    assert rcodes[lab.addr("ns2")] == "NOTAUTH", rcodes
    assert rcodes[lab.addr("ns3")] == "REFUSED", rcodes
    assert rcodes[lab.addr("ns4")] == "NOTAUTH", rcodes


def test_each_server_open_after_the_fault_exactly():
    config = write_config(workdir())
    for server in SERVERS:
        lab.run("open-xfr", server)
        try:
            rc, doc = check(config)
            assert axfr_results(doc) == expected(server), (server, axfr_results(doc))
            assert rc == WARNING, (server, rc)
            z = doc["zones"][0]
            assert z["verdict"] == "WARNING" and z["transfer"]["open"] is True
            opened = [r for r in z["reasons"] if r.startswith("zone transfer open at ")]
            assert len(opened) == len(addresses(server)), z["reasons"]
            assert lab.addr(server) in opened[0], opened
            serial = int(lab.run("serial", "example.test"))
            open_entries = [x for x in z["transfer"]["axfr"] if x["result"] == "open"]
            assert {x["serial"] for x in open_entries} == {serial}, open_entries
        finally:
            lab.run("close-xfr", server)
        rc, doc = check(config)
        assert rc == OK and axfr_results(doc) == expected(), (server, axfr_results(doc))
        print(f"  {server}: refused -> open -> refused")


def test_keyed_ixfr_of_the_primary():
    cases = [(("lab-xfr", lab_secret()), "ok", OK),
             (("lab-xfr", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), "badsig", WARNING),
             (("no-such-key", lab_secret()), "badkey", WARNING)]
    for key, want, want_rc in cases:
        rc, doc = check(write_config(workdir(), tsig=key))
        z = doc["zones"][0]
        keyed = z["transfer"]["signed_ixfr"]
        assert keyed is not None and keyed["address"] == lab.addr("primary"), z["transfer"]
        assert keyed["result"] == want, (key[0], keyed)
        assert z["transfer"]["tsig_ok"] is (want == "ok")
        assert rc == want_rc, (key[0], rc, z["reasons"])
        if want == "ok":
            assert keyed["serial"] == int(lab.run("serial", "example.test")), keyed
        else:
            assert any("does not serve a TSIG-signed IXFR" in r for r in z["reasons"]), z
        print(f"  key {key[0]}{' (wrong secret)' if key[1].startswith('AAAA') else ''}: "
              f"{keyed['result']} ({keyed['detail']})")


class SilentServer:
    """Accepts TCP connections on (address, port) and never says anything."""

    def __init__(self, address, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)
        self.accepted = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # kept open, unread

    def close(self):
        for c in self.accepted:
            c.close()
        self.sock.close()


def test_silent_server_times_out_and_blocks_nothing():
    silent_addr = lab["LAB_NET"] + ".20"
    silent = SilentServer(silent_addr, lab.port)
    work = workdir()
    # The silent zone's audit waits 5s x (1 + 2 retries) = 15s for the silent address; meanwhile
    # both zones must go on being checked every second, and /metrics must answer.
    zones = f"""    nameservers: [ "{lab.addr('ns1')}", "{silent_addr}" ]
    interval: 1s
    timeout: 5s
    retries: 2
  - name: second.test
    primary: {lab.addr('primary')}
    nameservers: [ "{lab.addr('ns3')}" ]
    interval: 1s
"""
    rules = """alerting:
  for: 0s
"""
    agent = Agent(write_config(work, extra_zones=zones, rules=rules), work)
    try:
        def zone(name):
            status, _, body = agent.get("/api/v1/zones/" + name)
            assert status == 200, status
            return json.loads(body)

        eventually(lambda: silent.accepted, timeout=20, what="the audit to connect")
        start = {n: zone(n)["checks_total"] for n in ("example.test", "second.test")}
        # While the silent address holds its request: more checks of both zones, no result yet.
        eventually(lambda: all(zone(n)["checks_total"] >= start[n] + 2 for n in start),
                   timeout=12, interval=0.2, what="checks to go on during the audit")
        assert zone("example.test")["transfer"] is None, "the audit finished before the timeout"
        assert metric_value(agent.metrics(), "soawatch_zone_consistent", zone="second.test.") == 1

        transfer = eventually(lambda: zone("example.test")["transfer"], timeout=30,
                              what="the audit's result")
        results = {x["address"]: x["result"] for x in transfer["axfr"]}
        assert results == {lab.addr("primary"): "refused", lab.addr("ns1"): "refused",
                           silent_addr: "timeout"}, results
        silent_entry = next(x for x in transfer["axfr"] if x["address"] == silent_addr)
        assert silent_entry["detail"] == "no answer within 15000 ms", silent_entry
        # The other zone was audited too, and nothing is open.
        eventually(lambda: zone("second.test")["transfer"], timeout=10, what="second.test audit")
        text = agent.metrics()
        assert metric_value(text, "soawatch_transfer_open", zone="example.test.",
                            address=silent_addr) == 0
        assert metric_value(text, "soawatch_transfer_open", zone="second.test.",
                            address=lab.addr("ns3")) == 0
        status, _, page = agent.get("/")
        assert status == 200 and "transfer audit" in page and "timeout at " + silent_addr in page
        agent.terminate()
    finally:
        agent.stop()
        silent.close()


def test_agent_alerts_on_open_axfr_and_broken_key():
    work = workdir()
    rules = """alerting:
  for: 0s
"""
    zones = f"""    nameservers: [ "{lab.addr('ns1')}", "{lab.addr('ns2')}" ]
"""
    lab.run("open-xfr", "ns1")
    agent = None
    try:
        agent = Agent(write_config(work, tsig=("lab-xfr", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                                   extra_zones=zones, rules=rules), work)

        def firing():
            status, _, body = agent.get("/api/v1/alerts")
            assert status == 200
            return {(a["labels"]["alertname"], a["labels"].get("address", ""))
                    for a in json.loads(body)["alerts"] if a["state"] == "firing"}
        eventually(lambda: {("ZoneTransferOpen", lab.addr("ns1")),
                            ("PrimaryTransferBroken", lab.addr("primary"))} <= firing(),
                   timeout=30, what="ZoneTransferOpen and PrimaryTransferBroken firing")
        assert not any(name == "ZoneTransferOpen" and addr != lab.addr("ns1")
                       for name, addr in firing()), firing()
        text = agent.metrics()
        assert metric_value(text, "soawatch_transfer_open", zone="example.test.",
                            nameserver=lab.addr("ns1"), address=lab.addr("ns1")) == 1
        assert metric_value(text, "soawatch_transfer_open", zone="example.test.",
                            address=lab.addr("ns2")) == 0
        assert metric_value(text, "soawatch_transfer_tsig_ok", zone="example.test.",
                            address=lab.addr("primary")) == 0
        assert metric_value(text, "soawatch_zone_status", zone="example.test.") == 1
        agent.terminate()
    finally:
        if agent:
            agent.stop()
        lab.run("close-xfr", "ns1")


if __name__ == "__main__":
    main(lab=lab)
