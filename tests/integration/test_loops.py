"""The agent with its zones sharded across two event loops (global.loops: 2) against the lab:
every zone is watched, a NOTIFY reaches the loop that owns the zone (propagation is timed), a
reload adds and removes zones on both loops and the zones that stay keep their state."""

import os
import re
import tempfile
import time

from labtest import Agent, Lab, canonical_zone, eventually, main

lab = Lab(zones=8)
work = None
agent = None
LOOPS = 2
M64 = (1 << 64) - 1


def loop_of(zone, loops=LOOPS):
    """agent/loop_assignment.cpp's loop_of_zone (tests/unit/loops_test.cpp pins the same
    values): FNV-1a 64, salted, the SplitMix64 finalizer, jump consistent hash."""
    if loops <= 1:
        return 0
    h = 0xcbf29ce484222325
    for c in zone.encode():
        h = ((h ^ c) * 0x100000001b3) & M64
    x = h ^ 0x6c6f6f7073000000
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    x ^= x >> 31
    b, j = -1, 0
    while j < loops:
        b = j
        x = (x * 2862933555777941757 + 1) & M64
        j = int((b + 1) * (float(1 << 31) / float((x >> 33) + 1)))
    return b


ALL = ["example.test", "second.test", "longsoa.test"] + [f"gen{i:04d}.test" for i in range(1, 9)]
# The first set: gen0007 and gen0008 are added by the reload (one on each loop).
FIRST = [z for z in ALL if z not in ("gen0007.test", "gen0008.test")]


def write_config(zones):
    lines = ["global:", "  interval: 60s", "  timeout: 500ms", "  retries: 1", f"  loops: {LOOPS}",
             f"  port: {lab.port}", f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]",
             f"  notify_listen: \"{lab['LAB_AGENT_NOTIFY']}\"", "  fast_reprobe_interval: 500ms",
             "zones:"]
    for zone in zones:
        lines.append(f"  - {{ name: {zone}, primary: \"{lab['LAB_PRIMARY']}\" }}")
    with open(os.path.join(work, "soawatch.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def test_the_hash_pins_agree_and_both_loops_have_zones():
    # The values tests/unit/loops_test.cpp checks against the C++ hash.
    assert [loop_of(z) for z in ("example.test.", "second.test.", "longsoa.test.",
                                 "gen0001.test.", "gen0002.test.", "gen0007.test.")] == \
        [1, 0, 1, 0, 1, 1]
    assert loop_of("example.test.", 3) == 2 and loop_of("gen0007.test.", 3) == 1
    assert {loop_of(canonical_zone(z)) for z in FIRST} == {0, 1}
    assert {loop_of(canonical_zone(z)) for z in ("gen0007.test", "gen0008.test")} == {0, 1}


def test_every_zone_is_watched_on_two_loops():
    global work, agent
    work = tempfile.mkdtemp(prefix="soawatch-loops-", dir=os.environ.get("LAB_DIR", "/tmp") + "/..")
    write_config(FIRST)
    agent = Agent(os.path.join(work, "soawatch.yml"), work)
    eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="/readyz")
    assert "loops=2" in agent.process.output()
    # Each loop says its first round is done for its own share of the zones, and which loop it is.
    def first_rounds():
        found = re.findall(r'msg="first round of checks done" zones=(\d+) \S+ loop=(\d) loops=2',
                           agent.process.output())
        return found if len(found) == 2 else None

    firsts = eventually(first_rounds, timeout=30, what="both loops' first rounds")
    assert sorted(loop for _, loop in firsts) == ["0", "1"], firsts
    assert sum(int(zones) for zones, _ in firsts) == len(FIRST), firsts
    for zone in FIRST:
        assert agent.metric("soawatch_zone_consistent", zone=canonical_zone(zone)) == 1, zone
    # The loops' counters add up in /metrics: one check per zone at least, queries of both.
    assert agent.metric("soawatch_zones_watched") == len(FIRST)
    assert agent.metric("soawatch_zone_checks_total") >= len(FIRST)


def test_the_agent_asked_for_huge_pages_in_place():
    # agent/cli/huge_pages.hpp: the agent executed itself once more with glibc's THP tunable,
    # keeping its PID (the one this test started, and serving) and its arguments.
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        thp = f.read()
    with open(f"/proc/{agent.process.proc.pid}/environ", "rb") as f:
        environ = f.read().split(b"\0")
    with open(f"/proc/{agent.process.proc.pid}/cmdline", "rb") as f:
        cmdline = f.read().split(b"\0")
    assert any(a.startswith(b"--config.file=") for a in cmdline), cmdline
    # Its name stays (ps, top, pkill soawatch), not /proc/self/exe's "exe".
    with open(f"/proc/{agent.process.proc.pid}/comm") as f:
        assert f.read().strip() == os.path.basename(cmdline[0].decode())[:15]
    tunables = [e for e in environ if e.startswith(b"GLIBC_TUNABLES=")]
    given = os.environ.get("GLIBC_TUNABLES")
    if ("[madvise]" in thp or "[always]" in thp) and not os.environ.get("LD_PRELOAD") and \
            "glibc.malloc.hugetlb" not in (given or "") and \
            os.environ.get("SOAWATCH_MALLOC_HUGE_PAGES") != "0":
        assert tunables and b"glibc.malloc.hugetlb=1" in tunables[0], tunables
    else:  # left as it was
        assert tunables == ([f"GLIBC_TUNABLES={given}".encode()] if given is not None else []), \
            tunables
    assert agent.get("/healthz")[0] == 200


def test_notify_reaches_the_owning_loop():
    # One zone of each loop: the primary's NOTIFY arrives on the main loop and is handed to the
    # zone's loop, which re-probes at once (the interval is 60 s) and times the propagation.
    for zone in ("second.test", "example.test"):
        name = canonical_zone(zone)
        before = agent.metric("soawatch_reference_serial", zone=name)
        notified = agent.metric("soawatch_notify_received_total") or 0
        lab.run("bump", zone)
        eventually(lambda: (agent.metric("soawatch_notify_received_total") or 0) > notified,
                   timeout=10, what=f"the primary's NOTIFY for {zone}")
        eventually(lambda: (agent.metric("soawatch_reference_serial", zone=name) or 0) > before,
                   timeout=10, what=f"the new serial of {zone} (loop {loop_of(name)})")
        for ns in ("ns2.lab.test.", "ns3.lab.test."):
            seconds = eventually(
                lambda: agent.metric("soawatch_last_propagation_seconds", zone=name,
                                     nameserver=ns),
                timeout=15, what=f"propagation of {zone} to {ns}")
            assert seconds < 5, (zone, ns, seconds)
        eventually(lambda: agent.metric("soawatch_zone_consistent", zone=name) == 1,
                   timeout=15, what=f"{zone} consistent")


def test_reload_adds_and_removes_zones_on_both_loops_and_keeps_state():
    # Removed: one zone of each loop; added: one of each; kept zones keep what they measured.
    removed = ["gen0002.test", "gen0001.test"]
    assert {loop_of(canonical_zone(z)) for z in removed} == {0, 1}
    kept = {z: agent.metric("soawatch_last_propagation_seconds", zone=canonical_zone(z),
                            nameserver="ns2.lab.test.") for z in ("second.test", "example.test")}
    changed = {z: agent.metric("soawatch_last_serial_change_timestamp_seconds",
                               zone=canonical_zone(z)) for z in FIRST}
    zones = [z for z in ALL if z not in removed]
    write_config(zones)
    status, _, body = agent.reload()
    assert status == 200, (status, body)
    for zone in removed:
        assert agent.metric("soawatch_zone_consistent", zone=canonical_zone(zone)) is None, zone
    for zone in ("gen0007.test", "gen0008.test"):
        eventually(lambda: agent.metric("soawatch_zone_consistent", zone=canonical_zone(zone)) == 1,
                   timeout=20, what=f"{zone} added on loop {loop_of(canonical_zone(zone))}")
    for zone, seconds in kept.items():
        assert agent.metric("soawatch_last_propagation_seconds", zone=canonical_zone(zone),
                            nameserver="ns2.lab.test.") == seconds, zone
    for zone in zones:
        if zone in changed:
            assert agent.metric("soawatch_last_serial_change_timestamp_seconds",
                                zone=canonical_zone(zone)) == changed[zone], zone
    assert agent.metric("soawatch_zones_watched") == len(zones)


def test_sigterm_stops_every_loop_within_a_second():
    agent.terminate(within=1.5)


if __name__ == "__main__":
    try:
        main(lab)
    finally:
        if agent is not None:
            agent.stop()
