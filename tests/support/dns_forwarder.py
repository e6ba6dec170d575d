"""A DNS forwarder for tests: a resolver address of the test's own (UDP and TCP on loopback) that
relays every query to an upstream server and can be stopped and started again, so a test can
make "the resolver" disappear without touching the servers behind it. It can also lower every
TTL in the answers, so a cache in front of it expires within the test.

    fwd = Forwarder("127.0.0.20", 5300, ("127.0.0.10", 5300), ttl=1).start()
    fwd.stop()    # queries now meet a closed port (ICMP port unreachable)
    fwd.start()   # and are answered again
"""
import socket
import struct
import threading

from dnsio import frame, read_frame

OPT = 41


def skip_name(msg, pos):
    """Position after the (possibly compressed) name at pos."""
    while pos < len(msg):
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length
    raise ValueError("name runs past the message")


def with_ttl(msg, ttl):
    """The message with the TTL of every record (but OPT's, which is not one) set to ttl."""
    out = bytearray(msg)
    qd, an, ns, ar = struct.unpack(">HHHH", msg[4:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    for _ in range(an + ns + ar):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlength = struct.unpack(">HHIH", msg[pos:pos + 10])
        if rtype != OPT:
            out[pos + 4:pos + 8] = struct.pack(">I", ttl)
        pos += 10 + rdlength
    return bytes(out)


class Forwarder:
    def __init__(self, address, port, upstream, ttl=None, timeout=2.0):
        self.address, self.port, self.upstream = address, port, upstream
        self.ttl, self.timeout = ttl, timeout
        self.udp = self.tcp = None
        self.lock = threading.Lock()

    def start(self):
        with self.lock:
            if self.udp is not None:
                return self
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.address, self.port))
            self.port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((self.address, self.port))
            tcp.listen(64)
            self.udp, self.tcp = udp, tcp
        threading.Thread(target=self.serve_udp, args=(udp,), daemon=True).start()
        threading.Thread(target=self.serve_tcp, args=(tcp,), daemon=True).start()
        return self

    def stop(self):
        with self.lock:
            for s in (self.udp, self.tcp):
                if s is not None:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
            self.udp = self.tcp = None

    def rewrite(self, answer):
        if self.ttl is None:
            return answer
        try:
            return with_ttl(answer, self.ttl)
        except (ValueError, struct.error):
            return answer  # not ours to judge: pass it on as it came

    def serve_udp(self, udp):
        while True:
            try:
                query, peer = udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self.relay_udp, args=(udp, query, peer), daemon=True).start()

    def relay_udp(self, udp, query, peer):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(self.timeout)
            try:
                up.sendto(query, self.upstream)
                answer, _ = up.recvfrom(65535)
                udp.sendto(self.rewrite(answer), peer)
            except OSError:
                pass  # upstream silent or gone: the client times out, as with a real resolver

    def serve_tcp(self, tcp):
        while True:
            try:
                conn, _ = tcp.accept()
            except OSError:
                return
            threading.Thread(target=self.relay_tcp, args=(conn,), daemon=True).start()

    def relay_tcp(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                while True:
                    query = read_frame(conn)
                    with socket.create_connection(self.upstream, timeout=self.timeout) as up:
                        up.sendall(frame(query))
                        answer = self.rewrite(read_frame(up))
                    conn.sendall(frame(answer))
            except OSError:
                return

