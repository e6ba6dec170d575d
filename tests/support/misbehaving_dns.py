#!/usr/bin/env python3
"""A misbehaving DNS server for tests: UDP and TCP on one loopback port, answering each zone in
its own broken way. Point the real agent at it (as the zones' nameserver and as the resolver)
and check that every kind of misbehaviour ends as the right error kind, and hurts nobody else.

    tests/support/misbehaving_dns.py [--address 127.0.0.1 ...] [--port 0]

It serves every --address (default 127.0.0.1) on the same port (0: the first bind picks it),
prints "listening PORT ADDRESS..." once every socket is bound, then serves until SIGTERM. Give
each broken zone an address of its own: the answers of one (a slow drip over TCP, say) then
cannot hold up another's on a shared connection.

A zone's behaviour is the first label of its name, under any parent ("qr-unset.hostile.test."):
see BEHAVIOURS. Names below a zone that are not in it get NXDOMAIN. The NS flood is for
discovery: `ns-flood.*` has FLOOD_NAMES NS names, each with FLOOD_ADDRESSES loopback addresses
where nothing listens. Also importable: `answer(query_bytes, tcp)` gives the bytes sent back,
and fuzz/make_seeds.py writes them into the fuzz corpus.
"""
import argparse
import signal
import socket
import struct
import sys
import threading

from dnsio import encode_name, frame, read_frame

SOA, NS, A, CNAME, TXT, OPT = 6, 2, 1, 5, 16, 41
SERIAL = 2026010101
FLOOD_NAMES = 2000
FLOOD_ADDRESSES = 2000  # enough that quadratic work on them would stall the agent for seconds
DRIP_SECONDS = 0.3  # between two bytes of a slow-drip TCP answer
OVERSIZED_UDP_BYTES = 6000  # above what the agent advertises (EDNS) and what c-ares reads

# behaviour -> what the agent must report for a zone answered that way (README error kinds).
BEHAVIOURS = {
    "good": "none",                  # a correct authoritative SOA answer
    "wrong-id": "timeout",           # answer with another ID: c-ares drops it (RFC 5452)
    "wrong-question": "timeout",     # answer for another name: c-ares drops it too
    "qr-unset": "malformed",         # the answer's QR bit is 0
    "pointer-loop": "malformed",     # the answer's owner name is a pointer to itself
    "pointer-past-end": "malformed", # a compression pointer beyond the message
    "truncated-rdata": "malformed",  # an SOA whose RDATA is cut after MNAME
    "soa-in-authority": "no_soa",    # AA NOERROR, the SOA only in the authority section
    "two-soa": "malformed",          # two SOA records with different serials
    "cname-apex": "no_soa",          # a CNAME at the zone name instead of an SOA
    "tc-always": "truncated",        # TC over UDP and over TCP
    "oversized-udp": "none",         # a 6000-byte UDP answer without TC: asked again over TCP
    "short-tcp-frame": "malformed",  # the TCP length prefix announces less than the answer
    "trailing-junk": "none",         # bytes after the last counted record (ignored)
    "slow-drip": "timeout",          # TC over UDP, then the TCP answer a byte at a time
    "silent": "timeout",             # no answer at all
    "ns-flood": None,                # discovery: more NS names and addresses than the caps
}


# ---- DNS messages (RFC 1035 4.1) --------------------------------------------------------------

def parse_query(data):
    """(id, flags, qname, qtype, question bytes) of a query, or None when it is not one."""
    if len(data) < 17:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", data[:6])
    if qdcount != 1:
        return None
    pos, labels = 12, []
    while pos < len(data) and data[pos] != 0:
        length = data[pos]
        if length > 63 or pos + 1 + length > len(data):
            return None
        labels.append(data[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    if pos + 5 > len(data):
        return None
    qtype, _ = struct.unpack(">HH", data[pos + 1:pos + 5])
    return qid, flags, ".".join(labels).lower() + ".", qtype, data[12:pos + 5]


def rr(owner, rtype, rdata, ttl=300):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


PTR_QNAME = b"\xc0\x0c"  # the question's name, always at offset 12


def soa_rdata(serial=SERIAL):
    return (encode_name("ns.hostile.test") + encode_name("hostmaster.hostile.test")
            + struct.pack(">IIIII", serial, 3600, 600, 1209600, 300))


def message(qid, question, flags=0x8400, an=(), ns=(), ar=()):
    """flags default: QR, AA, NOERROR."""
    head = struct.pack(">HHHHHH", qid, flags, 1, len(an), len(ns), len(ar))
    return head + question + b"".join(an) + b"".join(ns) + b"".join(ar)


def zone_of(qname):
    """(behaviour, zone) for a query name: the zone is the name whose first label is a
    behaviour (the query name itself or an ancestor)."""
    labels = qname.rstrip(".").split(".")
    for i, label in enumerate(labels):
        base = label.split("-")[0] if label.startswith("good") else label
        if base in BEHAVIOURS:
            return base, ".".join(labels[i:]) + "."
    return None, None


def flood_ns_names(zone):
    return [f"ns-{i:04d}.{zone}" for i in range(FLOOD_NAMES)]


def flood_addresses(index):
    # 127.77.0.0/16 and up: loopback, where nothing listens (probes end as connection_refused).
    return [f"127.{77 + j // 62500}.{(index + j // 250) % 250}.{j % 250 + 1}"
            for j in range(FLOOD_ADDRESSES)]


def answer_flood(qid, question, qname, qtype, zone):
    if qname == zone and qtype == NS:
        # "ns-0001" and a pointer to the zone name: 2000 of them fit in one TCP message.
        return message(qid, question, an=[rr(PTR_QNAME, NS, encode_name(n)[:8] + PTR_QNAME)
                                          for n in flood_ns_names(zone)])
    if qname == zone and qtype == SOA:
        return message(qid, question, an=[rr(PTR_QNAME, SOA, soa_rdata())])
    if qname.startswith("ns-") and qtype == A:
        index = int(qname[3:7]) if qname[3:7].isdigit() else 0
        return message(qid, question, an=[rr(PTR_QNAME, A, socket.inet_aton(a))
                                          for a in flood_addresses(index)])
    return message(qid, question)  # NODATA (AAAA and the rest)


def answer(data, tcp):
    """The bytes to send back for one query (without the TCP length prefix), or None."""
    q = parse_query(data)
    if q is None:
        return None
    qid, _, qname, qtype, question = q
    behaviour, zone = zone_of(qname)
    if behaviour is None:
        return message(qid, question, flags=0x8005)  # REFUSED: not ours
    if behaviour == "ns-flood":
        return answer_flood(qid, question, qname, qtype, zone)
    if qname != zone:
        return message(qid, question, flags=0x8403,
                       ns=[rr(encode_name(zone), SOA, soa_rdata())])  # NXDOMAIN
    good = message(qid, question, an=[rr(PTR_QNAME, SOA, soa_rdata())])
    if behaviour == "good" or qtype != SOA:
        return good
    if behaviour == "wrong-id":
        return message((qid + 1) & 0xFFFF, question, an=[rr(PTR_QNAME, SOA, soa_rdata())])
    if behaviour == "wrong-question":
        other = encode_name("x" + zone) + question[-4:]
        return message(qid, other, an=[rr(PTR_QNAME, SOA, soa_rdata())])
    if behaviour == "qr-unset":
        return message(qid, question, flags=0x0400, an=[rr(PTR_QNAME, SOA, soa_rdata())])
    if behaviour == "pointer-loop":
        owner_at = 12 + len(question)
        return message(qid, question, an=[rr(struct.pack(">H", 0xC000 | owner_at), SOA,
                                             soa_rdata())])
    if behaviour == "pointer-past-end":
        return message(qid, question, an=[rr(b"\xff\xff", SOA, soa_rdata())])
    if behaviour == "truncated-rdata":
        return message(qid, question, an=[rr(PTR_QNAME, SOA, encode_name("ns.hostile.test"))])
    if behaviour == "soa-in-authority":
        return message(qid, question, ns=[rr(PTR_QNAME, SOA, soa_rdata())])
    if behaviour == "two-soa":
        return message(qid, question, an=[rr(PTR_QNAME, SOA, soa_rdata(SERIAL)),
                                          rr(PTR_QNAME, SOA, soa_rdata(SERIAL + 1))])
    if behaviour == "cname-apex":
        return message(qid, question, an=[rr(PTR_QNAME, CNAME, encode_name("elsewhere.test"))])
    if behaviour == "tc-always":
        return message(qid, question, flags=0x8600)
    if behaviour == "oversized-udp":
        if tcp:
            return good
        filler = [rr(PTR_QNAME, TXT, b"\xff" + b"x" * 255)
                  for _ in range(OVERSIZED_UDP_BYTES // 267 + 1)]
        return message(qid, question, an=[rr(PTR_QNAME, SOA, soa_rdata())], ar=filler)
    if behaviour == "short-tcp-frame":
        return good if tcp else message(qid, question, flags=0x8600)  # framing: see serve_tcp
    if behaviour == "trailing-junk":
        return good + b"\xde\xad\xbe\xef" * 8
    if behaviour == "slow-drip":
        return good if tcp else message(qid, question, flags=0x8600)
    if behaviour == "silent":
        return None
    raise AssertionError(behaviour)


def truncate_for_udp(reply, query):
    """An answer larger than the query's EDNS size (512 without EDNS) gets TC and no records,
    as BIND does; `oversized-udp` is left alone on purpose."""
    q = parse_query(query)
    if reply is None or q is None or zone_of(q[2])[0] == "oversized-udp":
        return reply
    limit = 512
    rest = query[12 + len(q[4]):]
    if len(rest) >= 11 and struct.unpack(">H", rest[1:3])[0] == OPT:
        limit = max(512, struct.unpack(">H", rest[3:5])[0])
    if len(reply) <= limit:
        return reply
    qid, flags = struct.unpack(">HH", reply[:4])
    return message(qid, q[4], flags=flags | 0x0200)


# ---- the server ---------------------------------------------------------------------------------

def bind_pair(address, port):
    """UDP and TCP sockets on (address, port); port 0 lets UDP pick one TCP must get too."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(50):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((address, port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((address, chosen))
            tcp.listen(128)
            return udp, tcp, chosen
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
    raise OSError(f"no port free for UDP and TCP on {address}")


class Server:
    def __init__(self, addresses=("127.0.0.1",), port=0):
        self.sockets = []
        for address in addresses:
            udp, tcp, port = bind_pair(address, port)
            self.sockets.append((udp, tcp))
        self.port = port
        self.addresses = list(addresses)
        self.stopping = threading.Event()

    def start(self):
        for udp, tcp in self.sockets:
            threading.Thread(target=self.serve_udp, args=(udp,), daemon=True).start()
            threading.Thread(target=self.serve_tcp, args=(tcp,), daemon=True).start()
        return self

    def serve_udp(self, udp):
        while not self.stopping.is_set():
            try:
                data, peer = udp.recvfrom(65535)
            except OSError:
                return
            reply = truncate_for_udp(answer(data, False), data)
            if reply is not None:
                try:
                    udp.sendto(reply, peer)
                except OSError:
                    pass

    def serve_tcp(self, tcp):
        while not self.stopping.is_set():
            try:
                conn, _ = tcp.accept()
            except OSError:
                return
            threading.Thread(target=self.serve_connection, args=(conn,), daemon=True).start()

    def serve_connection(self, conn):
        with conn:
            conn.settimeout(60)
            try:
                while not self.stopping.is_set():
                    query = read_frame(conn)
                    reply = answer(query, True)
                    if reply is None:
                        continue
                    behaviour = zone_of((parse_query(query) or (0, 0, ""))[2])[0]
                    if behaviour == "short-tcp-frame":
                        # Announce 20 bytes less than the answer holds, then hang up (a stream
                        # out of step would only turn into timeouts).
                        conn.sendall(struct.pack(">H", len(reply) - 20) + reply)
                        return
                    framed = frame(reply)
                    if behaviour == "slow-drip":
                        for i in range(len(framed)):
                            conn.sendall(framed[i:i + 1])
                            if self.stopping.wait(DRIP_SECONDS):
                                return
                        continue
                    conn.sendall(framed)
            except (OSError, ValueError):
                return

    def stop(self):
        self.stopping.set()
        for udp, tcp in self.sockets:
            udp.close()
            tcp.close()


def main():
    global FLOOD_NAMES, FLOOD_ADDRESSES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", action="append", help="loopback address (repeatable)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--flood-names", type=int, default=FLOOD_NAMES,
                        help="NS names of an ns-flood zone")
    parser.add_argument("--flood-addresses", type=int, default=FLOOD_ADDRESSES,
                        help="addresses of each of its NS names")
    args = parser.parse_args()
    FLOOD_NAMES, FLOOD_ADDRESSES = args.flood_names, args.flood_addresses
    addresses = args.address or ["127.0.0.1"]
    for address in addresses:
        if not (address.startswith("127.") or address == "::1"):
            sys.exit(f"misbehaving_dns: {address}: loopback addresses only")
    server = Server(addresses, args.port).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"listening {server.port} {' '.join(server.addresses)}", flush=True)
    while not done.wait(1):
        pass
    server.stop()


if __name__ == "__main__":
    main()
