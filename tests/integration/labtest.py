"""Shared helpers for the integration tests: a lab instance of real DNS servers on loopback
(deploy/lab/lab) and the soawatch binary under test. Each test script gets its own lab instance
from ctest's environment (LAB_NET, LAB_PORT, LAB_DIR), so scripts can run in parallel."""

import json
import os
import shlex
import subprocess
import sys
import time
import traceback

SRC = os.environ.get("SOAWATCH_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SOAWATCH_BIN") or os.path.join(SRC, "build", "soawatch")
LAB = os.path.join(SRC, "deploy", "lab", "lab")


class Lab:
    """One lab instance; `up` starts it, `down` stops every process it started (by PID)."""

    def __init__(self, zones=0):
        self.zones = zones
        self.env = {}

    def run(self, *args, check=True, timeout=180):
        proc = subprocess.run([LAB, *map(str, args)], capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"lab {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc.stdout.strip()

    def up(self):
        self.run("up", "--zones", self.zones, timeout=300)
        for line in self.run("env").splitlines():
            if "=" in line:
                key, _, value = line.partition("=")
                self.env[key.strip()] = shlex.split(value)[0] if value.strip() else ""
        return self

    def down(self):
        self.run("down", check=False)

    def __getitem__(self, key):
        return self.env[key]

    @property
    def port(self):
        return int(self.env["LAB_PORT"])

    def addr(self, name):
        """Address of a server without the port ('ns1' -> '127.0.20.11')."""
        value = self.env["LAB_" + name.upper()]
        return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def soawatch(*args, timeout=120):
    """Runs the soawatch binary; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def check_json(lab, *zones_and_options, primary=True, extra=()):
    """`soawatch check --json` against the lab; returns (exit code, document)."""
    args = ["check", "--json", "--resolver", lab["LAB_RESOLVER"], "--port", lab.port,
            "--timeout", "500ms", "--retries", "1"]
    if primary:
        args += ["--primary", lab.addr("primary")]
    args += list(extra) + list(zones_and_options)
    rc, out, err = soawatch(*args)
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"soawatch printed no JSON (exit {rc}):\n{out}\n{err}")
    return rc, doc


def states(doc, zone):
    """{(nameserver or '(primary)', address): state or error} for one zone of a check result."""
    for z in doc["zones"]:
        if z["zone"].rstrip(".") == zone.rstrip("."):
            result = {}
            for s in z["servers"]:
                name = "(primary)" if s["is_primary"] else s["nameserver"]
                result[(name, s["address"])] = s["error"] or s["state"]
            return result
    raise AssertionError(f"zone {zone} not in result: {[z['zone'] for z in doc['zones']]}")


def server(doc, zone, address, primary=False):
    for z in doc["zones"]:
        if z["zone"].rstrip(".") == zone.rstrip("."):
            for s in z["servers"]:
                if s["address"] == address and bool(s["is_primary"]) == primary:
                    return s
    raise AssertionError(f"no server {address} for {zone} in {json.dumps(doc)[:2000]}")


def eventually(predicate, timeout=30, interval=0.5, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def main(tests, lab=None):
    """Runs the test functions in order (they share the lab), prints a ctest-friendly summary
    and exits non-zero when any failed. The lab is stopped whatever happens."""
    passed = failed = 0
    try:
        if lab is not None:
            lab.up()
        for test in tests:
            name = test.__name__
            start = time.monotonic()
            try:
                test()
                passed += 1
                print(f"PASS {name} ({time.monotonic() - start:.1f}s)", flush=True)
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - start:.1f}s)", flush=True)
                traceback.print_exc()
                sys.stdout.flush()
    finally:
        if lab is not None:
            lab.down()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
