#!/usr/bin/env python3
"""Captures real DNS messages from the lab (deploy/lab/lab) into fuzz/corpus/lab/.

Every file is one message exactly as a real server sent it (BIND, NSD, Knot): SOA answers over
UDP and TCP, with and without EDNS, of the signed zone with DO, a referral, REFUSED, NXDOMAIN, NODATA, SERVFAIL, a truncated
UDP answer, answers with glue, and the NOTIFY messages BIND sends (plain and TSIG-signed). The
DNS fuzz targets (dns_parse, soa_response, notify) all read this folder besides their own, and
ctest replays it.

    LAB_NET=127.0.148 LAB_PORT=51480 LAB_DIR=/tmp/lab deploy/lab/lab up
    LAB_NET=127.0.148 LAB_PORT=51480 LAB_DIR=/tmp/lab fuzz/capture_lab_seeds.py

Needs a running lab instance (the same LAB_* variables); it injects and clears the lame and
servfail faults itself. Old lab-*.bin files are replaced.
"""
import pathlib
import random
import shlex
import socket
import struct
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAB = ROOT / "deploy" / "lab" / "lab"
OUT = ROOT / "fuzz" / "corpus" / "lab"
sys.path.insert(0, str(ROOT / "tests" / "support"))
from dnsio import encode_name, frame, read_frame  # noqa: E402

A, NS, SOA, MX, TXT, AAAA, ANY = 1, 2, 6, 15, 16, 28, 255


def lab(*args):
    proc = subprocess.run([str(LAB), *args], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.exit(f"lab {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def lab_env():
    env = {}
    for line in lab("env").splitlines():
        key, _, value = line.partition("=")
        env[key] = shlex.split(value)[0] if value.strip() else ""
    return env


def query(name, qtype, rd=False, edns=1232, do=False, nsid=False, qid=None):
    qid = random.randrange(65536) if qid is None else qid
    flags = 0x0100 if rd else 0
    msg = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    msg += encode_name(name) + struct.pack(">HH", qtype, 1)
    if edns:
        options = struct.pack(">HH", 3, 0) if nsid else b""  # RFC 5001 NSID, empty
        ttl = 0x8000 if do else 0
        msg += b"\0" + struct.pack(">HHIH", 41, edns, ttl, len(options)) + options
    return msg


def ask_udp(address, port, msg, timeout=2.0):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, (address, port))
        data, _ = s.recvfrom(65535)
        return data


def ask_tcp(address, port, msg, timeout=2.0):
    with socket.create_connection((address, port), timeout=timeout) as s:
        s.sendall(frame(msg))
        return read_frame(s)


def capture_notifies(zone, listen):
    """Bumps `zone` and returns the NOTIFY the primary sends to the agent's address."""
    address, _, port = listen.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, int(port)))
        s.settimeout(10)
        lab("bump", zone)
        data, _ = s.recvfrom(65535)
        return data


def signed_notify(env, zone):
    """A TSIG-signed NOTIFY as dig sends it, caught on a socket of our own."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        port = s.getsockname()[1]
        proc = subprocess.Popen(
            ["dig", "+opcode=notify", "+norec", "+tries=1", "+timeout=1", "-y", env["LAB_TSIG_KEY"],
             "-p", str(port), "@127.0.0.1", zone, "SOA"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            data, _ = s.recvfrom(65535)
        finally:
            proc.wait(timeout=10)
        return data


def main():
    random.seed(1996)
    env = lab_env()
    port = int(env["LAB_PORT"])
    servers = {"bind": env["LAB_PRIMARY"], "nsd": env["LAB_NS1"], "knot": env["LAB_NS2"],
               "bind-secondary": env["LAB_NS3"]}
    captures = {}

    def keep(name, data):
        captures[name] = data

    for soft, addr in servers.items():
        keep(f"{soft}-soa-edns", ask_udp(addr, port, query("example.test", SOA)))
        keep(f"{soft}-soa-plain", ask_udp(addr, port, query("example.test", SOA, edns=0)))
        keep(f"{soft}-soa-tcp", ask_tcp(addr, port, query("gen0001.test", SOA)))
        keep(f"{soft}-soa-do-nsid", ask_udp(addr, port, query("second.test", SOA, do=True, nsid=True)))
        # The signed zone with DO (RFC 3225): RRSIG(SOA) and, from BIND and NSD, NS and RRSIG(NS);
        # over TCP whole, and over UDP with 512 advertised (TC, or trimmed to fit).
        keep(f"{soft}-signed-soa-do-tcp", ask_tcp(addr, port, query("signed.test", SOA, do=True)))
        keep(f"{soft}-signed-soa-do-512", ask_udp(addr, port, query("signed.test", SOA, edns=512, do=True)))
        keep(f"{soft}-ns", ask_udp(addr, port, query("example.test", NS)))
        keep(f"{soft}-any", ask_tcp(addr, port, query("example.test", ANY)))
        keep(f"{soft}-nodata-mx", ask_udp(addr, port, query("www.example.test", MX)))
        keep(f"{soft}-refused", ask_udp(addr, port, query("not-served.example", SOA)))
        keep(f"{soft}-longsoa-udp", ask_udp(addr, port, query("longsoa.test", SOA, edns=0)))
        keep(f"{soft}-longsoa-tcp", ask_tcp(addr, port, query("longsoa.test", SOA)))
    if env.get("LAB_NS2_V6"):
        keep("knot-v6-soa", ask_udp(env["LAB_NS2_V6"], port, query("example.test", SOA)))

    primary = env["LAB_PRIMARY"]
    # The resolver's view (discovery asks with RD=1): NS sets, glue, addresses, NXDOMAIN.
    keep("resolver-ns-gen0002", ask_udp(primary, port, query("gen0002.test", NS, rd=True)))
    keep("resolver-a-ns1", ask_udp(primary, port, query("ns1.lab.test", A, rd=True)))
    keep("resolver-aaaa-ns2", ask_udp(primary, port, query("ns2.lab.test", AAAA, rd=True)))
    keep("resolver-nxdomain", ask_udp(primary, port, query("nope.lab.test", A, rd=True)))
    keep("resolver-ns-test", ask_udp(primary, port, query("test", NS, rd=True)))
    keep("resolver-txt-nodata", ask_udp(primary, port, query("lab.test", TXT, rd=True)))

    # Faults: a lame NSD gives a referral from the parent, a lame Knot REFUSED, SERVFAIL.
    lab("lame", "ns1", "gen0003.test")
    try:
        keep("nsd-referral", ask_udp(env["LAB_NS1"], port, query("gen0003.test", SOA)))
    finally:
        lab("unlame", "ns1", "gen0003.test")
    lab("lame", "ns2", "gen0004.test")
    try:
        keep("knot-lame-refused", ask_udp(env["LAB_NS2"], port, query("gen0004.test", SOA)))
    finally:
        lab("unlame", "ns2", "gen0004.test")
    for soft, ns in (("bind-secondary", "ns3"), ("knot", "ns2")):
        lab("servfail", ns, "gen0005.test")
        try:
            keep(f"{soft}-servfail", ask_udp(env[f"LAB_{ns.upper()}"], port,
                                             query("gen0005.test", SOA)))
        finally:
            lab("unservfail", ns, "gen0005.test")

    # NOTIFY (RFC 1996) as BIND sends it to the agent, and a TSIG-signed one as dig sends it.
    if env.get("LAB_AGENT_NOTIFY", "none") != "none":
        keep("bind-notify", capture_notifies("gen0006.test", env["LAB_AGENT_NOTIFY"]))
    keep("dig-notify-tsig", signed_notify(env, "gen0007.test"))

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("lab-*.bin"):
        old.unlink()
    for name, data in sorted(captures.items()):
        (OUT / f"lab-{name}.bin").write_bytes(data)
    print(f"wrote {len(captures)} captures to {OUT}")


if __name__ == "__main__":
    main()
