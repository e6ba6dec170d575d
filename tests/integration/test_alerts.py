"""Built-in alerts against the lab, delivered to real receivers: an HTTP receiver written here
records every request (webhook and Slack payloads), a real prometheus-alertmanager takes the
Alertmanager receiver's alerts, and two broken receivers (one accepts connections and never
answers, one is not listening) must not delay probing or other receivers."""

import json
import os
import tempfile
import time

from labtest import (Agent, HangingReceiver, Lab, Process, RecordingReceiver, eventually,
                     free_port, http, main)

lab = Lab(zones=0)
work = None
agent = None
receiver = None
hanging = None
alertmanager = None
DEAD_PORT = None
SLACK_TOKEN = "T0000000/B0000000/sEcReTsLaCkToKeN"
HEADER_SECRET = "Bearer hOoKsEcReT"
INTERVAL = 2
QUEUE_CAPACITY = 2
bump_time = {}


def write_config(path):
    secret_file = os.path.join(work, "hook-token")
    with open(secret_file, "w") as f:
        f.write(HEADER_SECRET + "\n")
    os.environ["SOAWATCH_TEST_SLACK_URL"] = f"http://127.0.0.1:{receiver.port}/slack/{SLACK_TOKEN}"
    config = f"""
global:
  interval: {INTERVAL}s
  timeout: 500ms
  retries: 1
  port: {lab.port}
  resolvers: [ "{lab['LAB_RESOLVER']}" ]
  notify_listen: "{lab['LAB_AGENT_NOTIFY']}"
  fast_reprobe_interval: 500ms
alerting:
  for: 2s
  queue_capacity: {QUEUE_CAPACITY}
  route:
    group_by: [ "..." ]
  receivers:
    - name: hooks
      type: webhook
      url: http://127.0.0.1:{receiver.port}/hook
      headers: {{ Authorization_file: {secret_file}, X-Soawatch-Test: plain }}
    - name: chat
      type: slack
      url_env: SOAWATCH_TEST_SLACK_URL
    - name: am
      type: alertmanager
      url: http://127.0.0.1:{alertmanager_port}/
    - name: hang
      type: webhook
      url: http://127.0.0.1:{hanging.port}/hook
      timeout: 1s
      max_attempts: 2
    - name: dead
      type: webhook
      url: http://127.0.0.1:{DEAD_PORT}/hook
      max_attempts: 2
zones:
  - name: example.test
    primary: "{lab['LAB_PRIMARY']}"
  - name: second.test
    primary: "{lab['LAB_PRIMARY']}"
    alerting:
      rules:
        NameserverBehind: {{ for: 1m }}
        ZoneSerialMismatch: {{ for: 1m }}
"""
    with open(path, "w") as f:
        f.write(config)


alertmanager_port = None


def setup():
    global work, agent, receiver, hanging, alertmanager, alertmanager_port, DEAD_PORT
    work = tempfile.mkdtemp(prefix="soawatch-alerts-",
                            dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    receiver = RecordingReceiver()
    hanging = HangingReceiver()
    DEAD_PORT = free_port()
    alertmanager_port = free_port()
    am_config = os.path.join(work, "alertmanager.yml")
    with open(am_config, "w") as f:
        f.write("route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\n"
                "receivers:\n  - name: blackhole\n")
    alertmanager = Process(["prometheus-alertmanager", f"--config.file={am_config}",
                            f"--storage.path={os.path.join(work, 'am')}",
                            f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                            "--cluster.listen-address="],
                           os.path.join(work, "alertmanager.log"))
    eventually(lambda: am_ready(), timeout=60, what="alertmanager to be ready")
    write_config(os.path.join(work, "soawatch.yml"))
    agent = Agent(os.path.join(work, "soawatch.yml"), work)
    eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="/readyz")


def am_ready():
    if not alertmanager.alive():
        raise AssertionError("alertmanager exited:\n" + alertmanager.output())
    try:
        return http(f"http://127.0.0.1:{alertmanager_port}/-/ready", timeout=2)[0] == 200
    except OSError:
        return False


def am_alerts(**labels):
    status, _, body = http(f"http://127.0.0.1:{alertmanager_port}/api/v2/alerts")
    assert status == 200, body
    return [a for a in json.loads(body)
            if all(a["labels"].get(k) == v for k, v in labels.items())]


def am_active(**labels):
    return [a for a in am_alerts(**labels) if a["status"]["state"] == "active"]


def test_nameserver_behind_fires_once_after_for():
    setup()
    ns1 = dict(zone="example.test.", nameserver="ns1.lab.test.")
    lab.run("break-xfr", "ns1")
    bump_time["example"] = time.monotonic()
    lab.run("bump", "example.test")
    eventually(lambda: receiver.alerts("/hook", "NameserverBehind", "firing", **ns1),
               timeout=30, what="a firing NameserverBehind for ns1")
    (request, alert), = receiver.alerts("/hook", "NameserverBehind", "firing", **ns1)
    delay = request["at"] - bump_time["example"]
    # for is 2s; probing every 2s with NOTIFY-triggered fast re-probes: a few seconds at most.
    assert 2 <= delay < 12, delay
    assert request["headers"]["Authorization"] == HEADER_SECRET, request["headers"]
    assert request["headers"]["X-Soawatch-Test"] == "plain"
    body = request["body"]
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "hooks"
    assert alert["labels"]["severity"] == "warning" and alert["labels"]["address"] == lab.addr("ns1")
    assert "behind" in alert["annotations"]["summary"], alert
    assert "serial" in alert["annotations"]["description"], alert
    assert alert["endsAt"] == "0001-01-01T00:00:00Z" and alert["startsAt"].endswith("Z")
    # Listed by the API while it fires.
    status, _, text = agent.get("/api/v1/alerts")
    listed = [a for a in json.loads(text)["alerts"] if a["labels"]["alertname"] == "NameserverBehind"
              and a["labels"]["zone"] == "example.test."]
    assert status == 200 and listed and listed[0]["state"] == "firing", text
    assert agent.metric("soawatch_alerts_firing", alertname="NameserverBehind") >= 1
    # And on the status page, above the zones.
    page = agent.get("/")[2]
    assert "alert firing" in page or "alerts firing" in page, page[:2000]
    assert page.index("NameserverBehind") < page.index("<details class=\"zone"), page[:3000]
    # Alertmanager has it, active.
    eventually(lambda: am_active(alertname="NameserverBehind", **ns1), timeout=15,
               what="the alert active in alertmanager")
    # No second firing notification (repeat_interval is 4h).
    time.sleep(2 * INTERVAL)
    assert len(receiver.alerts("/hook", "NameserverBehind", "firing", **ns1)) == 1


def test_resolved_once_when_it_clears():
    ns1 = dict(zone="example.test.", nameserver="ns1.lab.test.")
    lab.run("fix-xfr", "ns1")
    eventually(lambda: receiver.alerts("/hook", "NameserverBehind", "resolved", **ns1),
               timeout=30, what="a resolved NameserverBehind for ns1")
    time.sleep(2 * INTERVAL)
    resolved = receiver.alerts("/hook", "NameserverBehind", "resolved", **ns1)
    assert len(resolved) == 1, resolved
    assert resolved[0][1]["endsAt"] != "0001-01-01T00:00:00Z"
    assert len(receiver.alerts("/hook", "NameserverBehind", "firing", **ns1)) == 1
    # Alertmanager was told: the alert is no longer active there.
    eventually(lambda: not am_active(alertname="NameserverBehind", **ns1), timeout=15,
               what="the alert resolved in alertmanager")
    assert agent.metric("soawatch_alerts_firing", alertname="NameserverBehind") == 0


def test_flap_shorter_than_for_sends_nothing():
    # second.test waits 1m before NameserverBehind fires: a lag that heals sooner is silent.
    ns3 = dict(zone="second.test.", nameserver="ns3.lab.test.")
    lab.run("break-xfr", "ns3")
    try:
        lab.run("bump", "second.test")
        eventually(lambda: agent.metric("soawatch_serial_behind", zone="second.test.",
                                        nameserver="ns3.lab.test.") == 1,
                   timeout=20, what="ns3 behind on second.test")

        def pending():
            alerts = json.loads(agent.get("/api/v1/alerts")[2])["alerts"]
            return [a for a in alerts
                    if a["labels"].get("zone") == "second.test." and a["state"] == "pending"]
        # The engine publishes its alerts once a second.
        eventually(pending, timeout=5, what="a pending alert for second.test.")
    finally:
        lab.run("fix-xfr", "ns3")
    eventually(lambda: agent.metric("soawatch_serial_behind", zone="second.test.",
                                    nameserver="ns3.lab.test.") == 0,
               timeout=30, what="ns3 back in sync")
    time.sleep(INTERVAL)
    for path in ("/hook", "/slack/" + SLACK_TOKEN):
        for r in receiver.posts(path):
            assert "second.test." not in json.dumps(r["body"]), r["body"]
    assert not am_alerts(zone="second.test.")


def check_slack_text(obj, limit):
    assert obj["type"] in ("plain_text", "mrkdwn"), obj
    assert isinstance(obj["text"], str) and 0 < len(obj["text"]) <= limit, obj


def check_slack_blocks(blocks):
    """The block shapes Slack documents (api.slack.com/reference/block-kit/blocks)."""
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50, blocks
    for b in blocks:
        if b["type"] == "header":
            assert b["text"]["type"] == "plain_text"
            check_slack_text(b["text"], 150)
        elif b["type"] == "section":
            check_slack_text(b["text"], 3000)
        elif b["type"] == "context":
            assert 0 < len(b["elements"]) <= 10
            for e in b["elements"]:
                check_slack_text(e, 3000)
        else:
            raise AssertionError(f"unexpected block type {b['type']}")


def test_slack_payload_has_the_documented_shape():
    posts = receiver.posts("/slack/" + SLACK_TOKEN)
    assert posts, "no Slack message"
    firing = resolved = False
    for r in posts:
        body = r["body"]
        assert r["headers"]["Content-Type"] == "application/json"
        assert isinstance(body["text"], str) and body["text"]
        check_slack_blocks(body["blocks"])
        for att in body["attachments"]:
            assert att["color"].startswith("#") and len(att["color"]) == 7, att
            check_slack_blocks(att["blocks"])
        firing |= body["text"].startswith("[FIRING")
        resolved |= body["text"].startswith("[RESOLVED")
        if "NameserverBehind" in body["text"] and body["text"].startswith("[FIRING"):
            assert any(a["color"] == "#e8a200" for a in body["attachments"])  # warning: amber
    assert firing and resolved, [p["body"]["text"] for p in posts]


def test_broken_receivers_do_not_delay_probes_and_stay_bounded():
    # By now the hanging and the dead receiver each had several notifications to deliver.
    eventually(lambda: (agent.metric("soawatch_notifications_total", receiver="dead",
                                     result="failed") or 0) >= 1,
               timeout=30, what="a dead letter for the dead receiver")
    eventually(lambda: (agent.metric("soawatch_notifications_total", receiver="hang",
                                     result="retry") or 0) >= 1,
               timeout=30, what="a retry for the hanging receiver")
    for name in ("hang", "dead"):
        queued = agent.metric("soawatch_notification_queue_length", receiver=name)
        assert queued is not None and queued <= QUEUE_CAPACITY, (name, queued)
        retries = agent.metric("soawatch_notifications_total", receiver=name, result="retry")
        given_up = (agent.metric("soawatch_notifications_total", receiver=name, result="failed")
                    + agent.metric("soawatch_notifications_total", receiver=name, result="dropped"))
        # max_attempts 2: at most one retry per notification.
        assert retries <= given_up + QUEUE_CAPACITY, (name, retries, given_up)
        assert agent.metric("soawatch_notifications_total", receiver=name, result="success") == 0
    # The good receivers were served all along, and probes kept their schedule.
    assert agent.metric("soawatch_notifications_total", receiver="hooks", result="failed") == 0
    assert agent.metric("soawatch_notifications_total", receiver="hooks", result="success") >= 2
    assert agent.metric("soawatch_schedule_delay_seconds") < 1.5
    cycle = agent.metric("soawatch_cycle_duration_seconds")
    assert INTERVAL - 0.5 < cycle < INTERVAL + 1.5, cycle


def test_secrets_never_leave_the_agent():
    texts = [agent.process.output(), agent.get("/api/v1/alerts")[2], agent.get("/")[2],
             agent.metrics(), agent.get("/api/v1/zones")[2]]
    for text in texts:
        assert SLACK_TOKEN not in text and "hOoKsEcReT" not in text
    assert "receivers=" in agent.process.output()


def test_sigterm_with_a_hanging_receiver_stops_within_a_second():
    agent.terminate(within=1.5)


def teardown():
    for thing in (agent, alertmanager, receiver, hanging):
        if thing:
            thing.stop()


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
