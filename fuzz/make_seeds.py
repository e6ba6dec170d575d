#!/usr/bin/env python3
"""Writes the seed inputs of the dns_parse fuzz target into fuzz/corpus/dns_parse/.

One file per case, named after it: well-formed answers of the shapes soawatch meets (SOA with
compression, referral with glue, REFUSED, NXDOMAIN, EDNS, TC, NOTIFY) and one of each malformed
shape the parser must refuse (see tests/unit/dns_wire_test.cpp for the same cases byte by byte).
Files written by the fuzzer itself (crash-*, regression inputs) are left alone.

    python3 fuzz/make_seeds.py            # rewrites the seed-*.bin files
"""
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "dns_parse"

A, NS, CNAME, SOA, TXT, AAAA, OPT = 1, 2, 5, 6, 16, 28, 41
IN, CH = 1, 3


def header(qd=1, an=0, ns=0, ar=0, id_=0x1234, flags=0x8400):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def name(*labels):
    """Uncompressed wire name; bytes or str labels."""
    out = b""
    for label in labels:
        label = label.encode() if isinstance(label, str) else label
        out += bytes([len(label)]) + label
    return out + b"\0"


def labels_then(pointer, *labels):
    """Labels followed by a compression pointer to `pointer`."""
    out = b""
    for label in labels:
        label = label.encode() if isinstance(label, str) else label
        out += bytes([len(label)]) + label
    return out + ptr(pointer)


def ptr(offset):
    return struct.pack(">H", 0xC000 | offset)


def question(qname, qtype=SOA, qclass=IN):
    return qname + struct.pack(">HH", qtype, qclass)


def rr(owner, rtype, rdata, rclass=IN, ttl=3600, rdlength=None):
    rdlength = len(rdata) if rdlength is None else rdlength
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, rdlength) + rdata


SOA_NUMBERS = struct.pack(">IIIII", 2024010101, 7200, 3600, 1209600, 300)
EXAMPLE = name("example", "com")  # at offset 12 when it is the first question
Q_EXAMPLE = question(EXAMPLE)  # 12..29


def soa_rdata(at=12):
    return labels_then(at, "ns1") + labels_then(at, "hostmaster") + SOA_NUMBERS


def pointer_chain(hops):
    """Question '.', a TXT whose RDATA is a chain of hops-1 backward pointers, an owner
    pointing at its end: reading that owner follows `hops` pointers."""
    msg = header(qd=1, an=2) + question(b"\0")  # root label at 12
    rdata_at = len(msg) + 11
    chain, previous = b"", 12
    for _ in range(hops - 1):
        here = rdata_at + len(chain)
        chain += ptr(previous)
        previous = here
    return msg + rr(b"\0", TXT, chain) + rr(ptr(previous), A, bytes([127, 0, 0, 1]))


def long_name_by_pointers():
    msg = header(qd=1, an=2) + question(b"\0")
    rdata_at = len(msg) + 11
    rdata = name("a" * 63)
    previous = rdata_at
    for _ in range(3):
        here = rdata_at + len(rdata)
        rdata += labels_then(previous, "b" * 63)
        previous = here
    return msg + rr(b"\0", TXT, rdata) + rr(ptr(previous), A, bytes([127, 0, 0, 1]))


def cases():
    soa_answer = header(an=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata())
    referral_q = question(name("www", "example", "com"), A)  # example.com. at 16
    ns1 = labels_then(16, "ns1")
    yield "soa_answer_compressed", soa_answer
    yield "soa_rname_to_mname", header(an=1) + Q_EXAMPLE + rr(
        ptr(12), SOA, labels_then(12, "ns1") + ptr(45) + SOA_NUMBERS)
    yield "ns_referral_glue", (
        header(an=0, ns=2, ar=2, flags=0x8000) + referral_q
        + rr(ptr(16), NS, ns1, ttl=172800)                                  # rdata at 45
        + rr(ptr(16), NS, name("ns2", "example", "net"), ttl=172800)
        + rr(ptr(45), A, bytes([192, 0, 2, 1]))
        + rr(ptr(45), AAAA, bytes.fromhex("20010db8000000000000000000000001")))
    yield "refused", header(flags=0x8005) + Q_EXAMPLE
    yield "nxdomain_soa_authority", (
        header(ns=1, flags=0x8403) + question(name("nope", "example", "com"))
        + rr(ptr(17), SOA, soa_rdata(17), ttl=300))
    yield "edns_badvers", header(ar=1) + Q_EXAMPLE + rr(b"\0", OPT, b"", rclass=1232, ttl=0x01000000)
    yield "edns_option_do", header(ar=1, flags=0x8407) + Q_EXAMPLE + rr(
        b"\0", OPT, bytes.fromhex("000a000401020304"), rclass=4096, ttl=0x01008000)
    yield "tc_set", header(flags=0x8600) + Q_EXAMPLE
    yield "notify_request", header(an=1, flags=0x2400, id_=0x5555) + Q_EXAMPLE + rr(
        ptr(12), SOA, soa_rdata())
    yield "query_edns_rd", header(ar=1, flags=0x0100) + Q_EXAMPLE + rr(b"\0", OPT, b"", rclass=1232, ttl=0)
    yield "cname_and_txt_and_ch", (
        header(an=3) + referral_q + rr(ptr(12), CNAME, ptr(16))
        + rr(ptr(16), TXT, b"\x05hello") + rr(ptr(16), A, b"\x01\x02", rclass=CH))
    yield "escaped_names", header(an=1) + question(name(b"a.b", b"\\", b"\0", b"<script>", b"\xff \"")) + rr(
        ptr(12), NS, name(b"(x);@$", "test"))
    yield "root_and_trailing_junk", header(qd=2, an=1) + Q_EXAMPLE + question(b"\0", NS) + rr(
        b"\0", 255, b"") + b"\xde\xad\xbe\xef"
    yield "name_255_octets", header() + question(name("a" * 63, "a" * 63, "a" * 63, "a" * 61))
    yield "pointer_chain_128", pointer_chain(128)
    # Malformed inputs, one per error the parser reports.
    yield "err_short_header", header()[:11]
    yield "err_question_missing", header()
    yield "err_answer_missing", header(an=1) + Q_EXAMPLE
    yield "err_record_cut", header(an=1) + Q_EXAMPLE + ptr(12) + b"\x00\x06\x00\x01\x00"
    yield "err_self_pointer", header() + ptr(12) + b"\x00\x06\x00\x01"
    yield "err_pointer_to_own_name", header() + b"\x01a" + ptr(12) + b"\x00\x06\x00\x01"
    yield "err_two_pointer_cycle", header(an=2) + Q_EXAMPLE + rr(ptr(12), TXT, ptr(43)) + rr(
        ptr(41), A, bytes([127, 0, 0, 1]))
    yield "err_forward_pointer", header() + ptr(14) + question(EXAMPLE)
    yield "err_pointer_past_end", header() + b"\xff\xff\x00\x06\x00\x01"
    yield "err_label_0x40", header() + b"\x41\x00\x00\x06\x00\x01"
    yield "err_label_0x80", header() + b"\x01a\x80\x00\x00\x06\x00\x01"
    yield "err_name_256_octets", header() + question(name("a" * 63, "a" * 63, "a" * 63, "a" * 62))
    yield "err_name_too_long_by_pointers", long_name_by_pointers()
    yield "err_pointer_chain_129", pointer_chain(129)
    yield "err_rdlength_overflow", header(an=1) + Q_EXAMPLE + rr(ptr(12), A, bytes([192, 0, 2, 1]), rdlength=255)
    yield "err_soa_short", header(an=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()[:-1])
    yield "err_soa_long", header(an=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata() + b"\0")
    yield "err_soa_name_past_rdata", header(an=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata(), rdlength=3)
    yield "err_a_5_bytes", header(an=1) + Q_EXAMPLE + rr(ptr(12), A, bytes([192, 0, 2, 1, 0]))
    yield "err_aaaa_4_bytes", header(an=1) + Q_EXAMPLE + rr(ptr(12), AAAA, bytes([192, 0, 2, 1]))
    yield "err_ns_trailing_byte", header(an=1) + Q_EXAMPLE + rr(ptr(12), NS, ptr(12) + b"\0")
    yield "err_too_many_records", header(qd=0xFFFF, an=0xFFFF, ns=0xFFFF, ar=0xFFFF) + Q_EXAMPLE


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("seed-*.bin"):
        old.unlink()
    count = 0
    for case, data in cases():
        (OUT / f"seed-{case}.bin").write_bytes(data)
        count += 1
    print(f"wrote {count} seeds to {OUT}")


if __name__ == "__main__":
    main()
