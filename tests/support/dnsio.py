"""Small DNS helpers the Python test tools share: names in wire form and DNS over TCP framing
(RFC 1035 4.2.2: each message after a two-byte length)."""
import struct


def encode_name(name):
    """Wire form of a plain name (no escapes, no compression)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def frame(message):
    return struct.pack(">H", len(message)) + message


def read_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed early")
        data += chunk
    return data


def read_frame(conn):
    """One length-prefixed message from a TCP connection; OSError when it closes early."""
    return read_exactly(conn, struct.unpack(">H", read_exactly(conn, 2))[0])
