"""Two agents watching the same zone from two vantage points (east: --vantage, west:
global.vantage), scraped by a real Prometheus with the shipped rules and posting their built-in
alerts to a real Alertmanager routed as docs/DEPLOY.md says (group_by without vantage).

ns1 is reachable from east only: west is configured with a closed port on ns1's address, the
same labels as east's working one, as a firewall in front of ns1 on west's path would look.
ns3 is stopped: down from both. Then Prometheus fires NameserverUnreachableFromSome (vantage
west) for ns1 and not NameserverUnreachable, and NameserverUnreachable for ns3 and not
NameserverUnreachableFromSome; Alertmanager gets the two agents' alerts about ns3 as one group
and notifies once, not once per agent.

Every server the test starts (agents, Prometheus, Alertmanager, the receiver) listens on the lab
instance's own LAB_NET.1, on ports LAB_PORT+60.. (the lab uses LAB_PORT..LAB_PORT+54)."""

import json
import os
import re
import tempfile
import time

from labtest import (SRC, Agent, Lab, Process, Prometheus, RecordingReceiver, check_json,
                     eventually, http, main, soawatch)

lab = Lab(zones=0)
work = None
HOST = os.environ.get("LAB_NET", "127.0.0") + ".1"
agents = {}
prom = None
alertmanager = None
receiver = None
am_url = None
ZONE = "example.test."


def port(offset):
    return lab.port + offset


def write_agent_config(path, ns1_port, vantage_in_file=None):
    vantage = f"  vantage: {vantage_in_file}\n" if vantage_in_file else ""
    ns = {name: lab.addr(name) for name in ("ns1", "ns2", "ns3")}
    with open(path, "w") as f:
        f.write(f"""
global:
  interval: 1s
  timeout: 300ms
  retries: 0
  port: {lab.port}
{vantage}alerting:
  for: 2s
  receivers:
    - name: am
      type: alertmanager
      url: {am_url}/
zones:
  - name: {ZONE}
    nameservers: [ "{ns['ns1']}:{ns1_port}", "{ns['ns2']}", "{ns['ns3']}" ]
""")


def write_alertmanager_config(path):
    # The route docs/DEPLOY.md recommends: one group per incident, whichever agents see it.
    with open(path, "w") as f:
        f.write(f"""
route:
  receiver: oncall
  group_by: [alertname, zone, nameserver, address]
  group_wait: 8s
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: oncall
    webhook_configs:
      - url: http://{HOST}:{receiver.port}/am
        send_resolved: false
""")


def prometheus_config(targets):
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - soawatch.rules.yml
scrape_configs:
  - job_name: soawatch
    static_configs:
      - targets: {json.dumps(targets)}
"""


def alerts_in_prometheus(alertname, state="firing"):
    return [labels for labels, _ in
            prom.query(f'ALERTS{{alertname="{alertname}",alertstate="{state}"}}')]


def test_two_agents_two_vantages():
    global work, prom, alertmanager, receiver, am_url
    work = tempfile.mkdtemp(prefix="soawatch-vantage-",
                            dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    receiver = RecordingReceiver(host=HOST, port=port(60))
    am_url = f"http://{HOST}:{port(61)}"
    am_config = os.path.join(work, "alertmanager.yml")
    write_alertmanager_config(am_config)
    alertmanager = Process(["prometheus-alertmanager", f"--config.file={am_config}",
                            f"--storage.path={os.path.join(work, 'am')}",
                            f"--web.listen-address={HOST}:{port(61)}",
                            "--cluster.listen-address="],
                           os.path.join(work, "alertmanager.log"))

    lab.run("stop", "ns3")
    closed = port(62)  # nothing listens there: west's path to ns1 is broken
    east_config = os.path.join(work, "east.yml")
    west_config = os.path.join(work, "west.yml")
    write_agent_config(east_config, lab.port)
    write_agent_config(west_config, closed, vantage_in_file="west")
    agents["east"] = Agent(east_config, work, extra=["--vantage=east"], log_name="east.log",
                           host=HOST, port=port(63))
    agents["west"] = Agent(west_config, work, log_name="west.log", host=HOST, port=port(64))

    # Rules as shipped, with their `for` shortened so the test does not wait minutes.
    with open(os.path.join(SRC, "deploy", "prometheus", "soawatch.rules.yml")) as f:
        rules = re.sub(r"for: \d+[smh]", "for: 2s", f.read())
    with open(os.path.join(work, "soawatch.rules.yml"), "w") as f:
        f.write(rules)
    prom = Prometheus(work, [], host=HOST, port=port(65),
                      config_text=prometheus_config([f"{HOST}:{a.port}" for a in agents.values()]))

    # Each agent labels its series, its API answer and its page with its own vantage.
    for name, agent in agents.items():
        eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what=f"{name} ready")
        doc = json.loads(agent.get("/api/v1/zones")[2])
        assert doc["vantage"] == name and doc["zones"][0]["vantage"] == name, doc
        assert agent.metric("soawatch_zone_status", vantage=name, zone=ZONE) is not None
        assert f'<span class="vantage">from {name}</span>' in agent.get("/")[2]
    ns1, ns3 = lab.addr("ns1"), lab.addr("ns3")
    assert agents["west"].metric("soawatch_nameserver_up", vantage="west", address=ns1) == 0
    assert agents["east"].metric("soawatch_nameserver_up", vantage="east", address=ns1) == 1

    # Prometheus: ns1 is unreachable from some (west), ns3 from all.
    eventually(lambda: [a for a in alerts_in_prometheus("NameserverUnreachableFromSome")
                        if a["address"] == ns1],
               timeout=40, what="NameserverUnreachableFromSome for ns1 firing in Prometheus")
    eventually(lambda: [a for a in alerts_in_prometheus("NameserverUnreachable")
                        if a["address"] == ns3],
               timeout=20, what="NameserverUnreachable for ns3 firing in Prometheus")
    some = [labels for labels, _ in
            prom.query('ALERTS{alertname="NameserverUnreachableFromSome"}')]
    assert [(a["address"], a["vantage"]) for a in some] == [(ns1, "west")], some
    every = [labels for labels, _ in prom.query('ALERTS{alertname="NameserverUnreachable"}')]
    assert [a["address"] for a in every] == [ns3], every
    assert "vantage" not in every[0], every

    # Alertmanager: both agents posted their NameserverUnreachable for ns3 (two alerts, one
    # per vantage), in one group; one notification for it, holding both.
    def ns3_groups():
        status, _, body = http(am_url + "/api/v2/alerts/groups")
        assert status == 200, body
        return [g for g in json.loads(body)
                if g["labels"].get("alertname") == "NameserverUnreachable"
                and g["labels"].get("address") == ns3]
    eventually(lambda: len(ns3_groups()) == 1 and len(ns3_groups()[0]["alerts"]) == 2,
               timeout=30, what="both vantages' alerts about ns3 in one Alertmanager group")
    vantages = sorted(a["labels"]["vantage"] for a in ns3_groups()[0]["alerts"])
    assert vantages == ["east", "west"], vantages

    def ns3_notifications():
        return [r["body"] for r in receiver.posts("/am")
                if r["body"]["groupLabels"].get("address") == ns3]
    eventually(ns3_notifications, timeout=30, what="the notification about ns3")
    # Both agents keep the alert firing there; nothing more is sent for the group.
    time.sleep(3)
    notes = ns3_notifications()
    assert len(notes) == 1, notes
    assert sorted(a["labels"]["vantage"] for a in notes[0]["alerts"]) == ["east", "west"], notes
    # ns1: only west's agent sees it down: its alert is a group of one, one notification.
    eventually(lambda: [r for r in receiver.posts("/am")
                        if r["body"]["groupLabels"].get("address") == ns1],
               timeout=30, what="the notification about ns1")
    ns1_notes = [r["body"] for r in receiver.posts("/am")
                 if r["body"]["groupLabels"].get("address") == ns1]
    assert len(ns1_notes) == 1 and [a["labels"]["vantage"] for a in ns1_notes[0]["alerts"]] \
        == ["west"], ns1_notes
    print(f"  Prometheus: FromSome {[(a['address'], a['vantage']) for a in some]}, "
          f"Unreachable {[a['address'] for a in every]}; Alertmanager: "
          f"{len(receiver.posts('/am'))} notifications")


def test_a_reload_keeps_the_vantage():
    # The vantage is part of every series' identity: a changed global.vantage waits for a
    # restart, and says so; the reload itself succeeds.
    west = agents["west"]
    write_agent_config(west.config_path, port(62), vantage_in_file="north")
    status, _, body = west.reload()
    assert status == 200, body
    assert "global.vantage changed: it takes effect at the next restart" in west.process.output()
    assert west.metric("soawatch_zone_status", vantage="west", zone=ZONE) is not None
    assert json.loads(west.get("/api/v1/zones")[2])["vantage"] == "west"


def test_check_names_its_vantage():
    _, doc = check_json(lab, "example.test", extra=["--vantage", "probe-host"])
    assert doc["vantage"] == "probe-host" and doc["zones"][0]["vantage"] == "probe-host", doc
    # With --config.file, the file's global.vantage; the flag wins over it.
    west = agents["west"].config_path
    assert soawatch_json("check", "--json", f"--config.file={west}")["vantage"] == "north"
    doc = soawatch_json("check", "--json", f"--config.file={west}", "--vantage=south")
    assert doc["vantage"] == "south", doc


def soawatch_json(*args):
    rc, out, err = soawatch(*args)
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"soawatch printed no JSON (exit {rc}):\n{out}\n{err}")


def teardown():
    for thing in (*agents.values(), prom, alertmanager, receiver):
        if thing:
            thing.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
