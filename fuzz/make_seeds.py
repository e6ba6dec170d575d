#!/usr/bin/env python3
"""Writes the synthetic seed inputs of the fuzz targets (fuzz/corpus/NAME/seed-*):

- dns_parse: well-formed answers of the shapes soawatch meets (SOA with compression, referral
  with glue, REFUSED, NXDOMAIN, EDNS, TC, NOTIFY) and one of each malformed shape the parser
  must refuse (see tests/unit/dns_wire_test.cpp for the same cases byte by byte);
- soa_response: what the misbehaving test server (tests/support/misbehaving_dns.py) answers to
  an SOA query, for each of its behaviours, over UDP and TCP;
- notify: NOTIFY requests, well-formed and not;
- config: YAML shapes the testdata/config files do not have (anchors, tags, deep nesting).

Real answers captured from the lab are in corpus/lab (fuzz/capture_lab_seeds.py). Files the
fuzzer found (crash-*, regression-*) are left alone.

    python3 fuzz/make_seeds.py            # rewrites every seed-* file
"""
import pathlib
import struct
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ.parent / "tests" / "support"))
import misbehaving_dns  # noqa: E402

A, NS, CNAME, SOA, TXT, AAAA, OPT, RRSIG = 1, 2, 5, 6, 16, 28, 41, 46
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


def rrsig_rdata(expiration, inception, signer=EXAMPLE, key_tag=12345, covered=SOA):
    """RFC 4034 3.1: type covered, algorithm 13, labels 2, original TTL, times, key tag,
    signer, a 64-octet signature."""
    return struct.pack(">HBBIIIH", covered, 13, 2, 3600, expiration, inception, key_tag) + signer + b"\x5a" * 64


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
    # EXPIRE and NSID (RFC 7314, RFC 5001) as the lab's servers answer them, and an NSID option
    # that runs past the OPT RDATA (dropped, the answer kept).
    yield "edns_expire_nsid", header(an=1, ar=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        b"\0", OPT, bytes.fromhex("000900040001518000030007") + b"lab-ns2", rclass=1232, ttl=0)
    yield "edns_nsid_cut", header(an=1, ar=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        b"\0", OPT, bytes.fromhex("00030010") + b"lab", rclass=1232, ttl=0)
    # DNSSEC (DO set): the SOA with two RRSIGs (a rollover: the later expiration counts), the
    # second one's signer compressed, and the shapes of RRSIG the parser refuses or skips.
    yield "soa_rrsig_two_keys", header(an=3, ar=1) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        ptr(12), RRSIG, rrsig_rdata(1_800_000_000, 1_799_000_000)) + rr(
        ptr(12), RRSIG, rrsig_rdata(1_800_600_000, 1_799_600_000, ptr(12), 4242)) + rr(
        b"\0", OPT, b"", rclass=1232, ttl=0x00008000)
    yield "soa_rrsig_wrapped", header(an=2) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        ptr(12), RRSIG, rrsig_rdata(0x00000100, 0xFFFFFF00))
    yield "soa_rrsig_covers_ns", header(an=2) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        ptr(12), RRSIG, rrsig_rdata(1_800_000_000, 1_799_000_000, covered=NS))
    yield "err_rrsig_short", header(an=2) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        ptr(12), RRSIG, rrsig_rdata(1, 2)[:17])
    yield "err_rrsig_signer_past_rdata", header(an=2) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata()) + rr(
        ptr(12), RRSIG, rrsig_rdata(1, 2)[:22])
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


def soa_response_cases():
    for behaviour in misbehaving_dns.BEHAVIOURS:
        zone = f"{behaviour}.hostile.test"
        query = header(flags=0, ar=1, id_=0x4242) + question(name(*zone.split("."))) + rr(
            b"\0", OPT, b"", rclass=1232, ttl=0)
        qtype = NS if behaviour == "ns-flood" else SOA
        if qtype == NS:
            query = query[:-15] + struct.pack(">HH", NS, IN) + query[-11:]
        udp = misbehaving_dns.truncate_for_udp(misbehaving_dns.answer(query, False), query)
        tcp = misbehaving_dns.answer(query, True)
        if udp is not None:
            yield behaviour, udp
        if tcp is not None and tcp != udp:
            yield behaviour + "-tcp", tcp


def notify_cases():
    notify = 0x2000  # opcode NOTIFY (4), QR=0
    yield "plain", header(flags=notify | 0x0400) + Q_EXAMPLE
    yield "with_soa", header(an=1, flags=notify | 0x0400) + Q_EXAMPLE + rr(ptr(12), SOA, soa_rdata())
    yield "uppercase_name", header(flags=notify) + question(name("EXAMPLE", "Com"))
    yield "edns", header(ar=1, flags=notify) + Q_EXAMPLE + rr(b"\0", OPT, b"", rclass=1232, ttl=0)
    yield "err_response", header(flags=0x8000 | notify) + Q_EXAMPLE
    yield "err_opcode_query", header(flags=0) + Q_EXAMPLE
    yield "err_two_questions", header(qd=2, flags=notify) + Q_EXAMPLE + question(ptr(12))
    yield "err_no_question", header(qd=0, flags=notify)
    yield "err_type_a", header(flags=notify) + question(EXAMPLE, A)
    yield "err_class_ch", header(flags=notify) + question(EXAMPLE, SOA, CH)
    yield "err_name_in_header", header(flags=notify) + ptr(4) + struct.pack(">HH", SOA, IN)
    yield "escaped_name", header(flags=notify) + question(name(b"a.b", b"\xff", "test"))


CONFIG_CASES = {
    "anchors": "global: &g\n  interval: 30s\nzones:\n  - &z example.com\n  - name: *z\n",
    "merge_key": "x: &base {timeout: 1s}\nglobal:\n  <<: *base\nzones: [a.test]\n",
    "tags": "global: !!map {interval: !!str 1m}\nzones: !!seq [!!str b.test]\n",
    "binary": "zones:\n  - !!binary aGVsbG8=\n",
    "deep_nesting": "zones: " + "[" * 200 + "]" * 200 + "\n",
    "deep_mapping": "global: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
    "flow_everything": "{global: {interval: 10s, resolvers: [127.0.0.1, '[::1]:53']}, zones: "
                       "[{name: c.test, primary: 127.0.0.2, nameservers: [ns.c.test, 10.0.0.1:5353]}]}\n",
    "unicode_keys": "gl\u00f6bal:\n  inter\u200bval: 1s\nzones: [\u00e9xample.test]\n",
    "crlf": "global:\r\n  interval: 60s\r\nzones:\r\n  - d.test\r\n",
    "tabs_and_bom": "\ufeffzones:\n\t- e.test\n",
    "huge_numbers": "global:\n  retries: 99999999999999999999999\n  port: -0\n  interval: 9999999999h\n",
    "null_values": "global: ~\nzones:\n  - name: ~\n  - ~\n",
    "zones_files": "zones_files: ['zones.d/*.yml', '/nonexistent/*.yml']\n",
    "documents": "---\nzones: [f.test]\n...\n---\nzones: [g.test]\n",
}


def write(folder, cases, suffix):
    out = FUZZ / "corpus" / folder
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("seed-*"):
        old.unlink()
    count = 0
    for case, data in cases:
        (out / f"seed-{case}{suffix}").write_bytes(data)
        count += 1
    print(f"wrote {count} seeds to {out}")


def main():
    write("dns_parse", cases(), ".bin")
    write("soa_response", soa_response_cases(), ".bin")
    write("notify", notify_cases(), ".bin")
    write("config", ((k, v.encode()) for k, v in CONFIG_CASES.items()), ".yml")


if __name__ == "__main__":
    main()
