"""The agent's NOTIFY listener across reloads (issue 11, items 4 and 5): a reload whose new
address cannot be bound keeps the old listener answering, and `notify_listen: ":PORT"` listens
on every local address of both families. No DNS server needed: the zone's nameserver is a
loopback port where nothing listens."""

import os
import random
import socket
import struct
import tempfile

from labtest import Agent, eventually, free_port, main

NET = os.environ.get("LAB_NET", "127.0.20")
work = None
agent = None
config_path = None


def notify_wire():
    """A NOTIFY (RFC 1996 3.7) for example.test: opcode 4, AA, one SOA question."""
    question = b"".join(bytes([len(label)]) + label.encode() for label in ("example", "test"))
    return struct.pack("!HHHHHH", 0x4242, 0x2400, 1, 0, 0, 0) + question + b"\0" + \
        struct.pack("!HH", 6, 1)


def send_notify(address, port, family=socket.AF_INET):
    """The rcode of the answer, or None when nothing answers within 2 s."""
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(notify_wire(), (address, port))
        try:
            answer, _ = s.recvfrom(512)
        except socket.timeout:
            return None
        return answer[3] & 0x0F


def write_config(notify_listen):
    with open(config_path, "w") as f:
        f.write("\n".join([
            "global:", "  interval: 60s", "  timeout: 200ms", "  retries: 0",
            f"  notify_listen: \"{notify_listen}\"",
            "zones:", "  - name: example.test",
            f"    nameservers: [\"{NET}.1:{free_port()}\", \"{NET}.2:{free_port()}\"]"]) + "\n")


def udp_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wildcard_port():
    """A port free for UDP and TCP on every address, below the kernel's ephemeral range: a port
    the kernel handed out (as udp_port's) can be any test's outgoing TCP connection's local port
    a moment later, and a wildcard TCP bind then fails with EADDRINUSE (seen in CI)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    families = [socket.AF_INET] + ([socket.AF_INET6] if socket.has_ipv6 else [])
    for _ in range(200):
        port = random.randrange(20000, low)
        try:
            for family in families:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(family, kind) as s:
                        if family == socket.AF_INET6:
                            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                        s.bind(("::" if family == socket.AF_INET6 else "", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free for UDP and TCP on every address")


def test_reload_to_a_taken_address_keeps_the_old_listener():
    global work, agent, config_path
    work = tempfile.mkdtemp(prefix="soawatch-notify-")
    config_path = os.path.join(work, "soawatch.yml")
    host = f"{NET}.1"
    first = udp_port(host)
    write_config(f"{host}:{first}")
    agent = Agent(config_path, work)
    assert eventually(lambda: send_notify(host, first) == 0, timeout=10, what="NOTIFY answered")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((host, 0))
        busy = taken.getsockname()[1]
        write_config(f"{host}:{busy}")
        status, _, body = agent.reload()
        assert status == 500 and "Address already in use" in body, (status, body)
        assert send_notify(host, first) == 0, "the old listener was lost"
    assert agent.metric("soawatch_config_last_reload_successful") == 0


def test_reload_to_every_address_on_the_same_port_answers_ipv4_and_ipv6():
    port = wildcard_port()
    write_config(f":{port}")
    status, _, body = agent.reload()
    assert status == 200, (status, body)
    assert send_notify(f"{NET}.1", port) == 0
    assert send_notify("127.0.0.1", port) == 0
    if socket.has_ipv6:
        try:
            rcode = send_notify("::1", port, socket.AF_INET6)
        except OSError as e:  # no IPv6 on this host's loopback
            print(f"SKIPPED the IPv6 part: {e}")
        else:
            assert rcode == 0, rcode


def teardown():
    if agent:
        agent.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        teardown()
