"""The container image, built and run: a Debian 12 root filesystem from the machine's own Debian
archive (debootstrap --variant=minbase) imported as the base image debian:12-slim, the
Dockerfile built by buildah (chroot isolation, offline apart from the Debian archive), the image's
files checked (size; no compiler, no -dev package), and its root filesystem run as the image
says (entrypoint, command, user 65532) with a read-only root, no capabilities and no new
privileges, against the lab: /metrics scraped and checked by promtool.

Skipped (exit 77, the reason printed) where it cannot run: not root, or buildah, debootstrap,
unshare, setpriv, chroot or promtool missing, or no Debian archive in the apt sources.

Cached between runs, under the build tree (image-test/): the debootstrap tarball, and buildah's
own storage (the base image, and the layers up to the dependency installs, so a run without a
change to deploy/install-deps.sh compiles soawatch but installs no package). Podman is not
used: `podman run` fails in sandboxes like this one on setrlimit; the image's root filesystem
run through `buildah mount` + chroot is what a runtime would run."""

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time

from labtest import (SRC, Lab, Process, canonical_zone, eventually, free_port, http, main,
                     metric_value, promtool_check_metrics)

SKIP = 77  # ctest's SKIP_RETURN_CODE for this test (tests/CMakeLists.txt)
BUILD_DIR = os.environ.get("SOAWATCH_BUILD_DIR") or os.path.join(SRC, "build")
CACHE = os.path.join(BUILD_DIR, "image-test")
BASE_TAR = os.path.join(CACHE, "debian-12-minbase.tar")
BASE_IMAGE = "docker.io/library/debian:12-slim"  # what `FROM debian:12-slim` names
DOCKERFILE = os.path.join(SRC, "deploy", "container", "Dockerfile")
UID = 65532
# The image may weigh this much at most (its files, uncompressed). Measured 106 MB (the test
# prints it); apt's downloaded packages left behind (86 MB) or a compiler would not fit.
MAX_IMAGE_BYTES = 130 * 1000 * 1000
# The files of the image's Debian 12 base that do not ship in the official slim image.
SLIM_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
"""


def slim(rootfs):
    """Removes what SLIM_EXCLUDES keeps out of later installs from the packages debootstrap
    unpacked before dpkg read it (its first stage extracts them without dpkg)."""
    rules = [line.split() for line in SLIM_EXCLUDES.splitlines()]
    for folder, dirs, names in os.walk(rootfs, topdown=False):
        for name in names + dirs:
            path = os.path.join(folder, name)
            inside = "/" + os.path.relpath(path, rootfs)
            verdict = None
            for rule, pattern in rules:
                if fnmatch.fnmatch(inside, pattern):
                    verdict = rule
            if verdict == "path-exclude":
                if os.path.isdir(path) and not os.path.islink(path):
                    if not os.listdir(path):
                        os.rmdir(path)
                else:
                    os.remove(path)


lab = Lab(zones=2)
state = {}  # image name, build container, mount point, timings


def log(message):
    print("  " + message, flush=True)


def run(args, timeout=600, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
    return proc.stdout


def buildah_command(*args):
    """buildah on the test's own storage, so that nothing of the machine's is touched."""
    return ["buildah", "--root", os.path.join(CACHE, "storage"),
            "--runroot", os.path.join(CACHE, "run"), "--storage-driver", "overlay", *args]


def buildah(*args, timeout=600):
    return run(buildah_command(*args), timeout=timeout)


def debian_mirror():
    """The machine's own Debian archive: the first apt source for bookworm, component main."""
    paths = ["/etc/apt/sources.list"]
    for d in ("/etc/apt/sources.list.d",):
        if os.path.isdir(d):
            paths += sorted(os.path.join(d, n) for n in os.listdir(d))
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            text = f.read()
        if path.endswith(".sources"):  # deb822: one paragraph per source
            for para in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", para, re.M))
                if ("deb" in fields.get("Types", "").split()
                        and "bookworm" in fields.get("Suites", "").split()
                        and "main" in fields.get("Components", "").split()):
                    return fields["URIs"].split()[0]
        elif path.endswith(".list"):
            for line in text.splitlines():
                words = line.split("#")[0].split()
                words = [w for w in words if not w.startswith("[")]
                if len(words) >= 4 and words[0] == "deb" and words[2] == "bookworm" \
                        and "main" in words[3:]:
                    return words[1]
    return None


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (debootstrap, buildah's chroot isolation, mounts)"
    for tool in ("buildah", "debootstrap", "unshare", "setpriv", "chroot", "promtool"):
        if not shutil.which(tool):
            return f"{tool} is not installed (deploy/install-deps.sh test installs it)"
    if not debian_mirror():
        return "no Debian 12 (bookworm main) archive in the apt sources for debootstrap"
    return None


def image_tag():
    """The name and tag the Kubernetes overlays run, which the build must produce."""
    tags = set()
    k8s = os.path.join(SRC, "deploy", "kubernetes")
    for overlay in sorted(os.listdir(k8s)):
        path = os.path.join(k8s, overlay, "kustomization.yaml")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            text = f.read()
        m = re.search(r"^  - name: soawatch\n    newName: (\S+)\n    newTag: (\S+)$", text, re.M)
        if m:
            tags.add(f"{m.group(1)}:{m.group(2).strip(chr(34))}")
    assert len(tags) == 1, f"the overlays name different soawatch images: {tags}"
    return tags.pop()


# ---------------------------------------------------------------- base image

def test_base_image_is_debian_12_from_debootstrap():
    os.makedirs(CACHE, exist_ok=True)
    # A run that was killed may have left build containers behind (our own storage only).
    buildah("rm", "--all")
    if not os.path.isfile(BASE_TAR):
        mirror = debian_mirror()
        rootfs = os.path.join(CACHE, "rootfs")
        shutil.rmtree(rootfs, ignore_errors=True)
        start = time.monotonic()
        # The slim image's dpkg excludes, in place before the first package is unpacked.
        os.makedirs(os.path.join(rootfs, "etc", "dpkg", "dpkg.cfg.d"))
        with open(os.path.join(rootfs, "etc", "dpkg", "dpkg.cfg.d", "docker"), "w") as f:
            f.write(SLIM_EXCLUDES)
        run(["debootstrap", "--variant=minbase", "bookworm", rootfs, mirror], timeout=1200)
        slim(rootfs)
        # What an image should not carry: downloaded packages and package lists.
        for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for name in os.listdir(os.path.join(rootfs, d)):
                path = os.path.join(rootfs, d, name)
                if os.path.isfile(path) and name != "lock":
                    os.remove(path)
        run(["tar", "-C", rootfs, "--numeric-owner", "-cf", BASE_TAR + ".part", "."])
        os.rename(BASE_TAR + ".part", BASE_TAR)
        shutil.rmtree(rootfs)
        # An image imported from an older tarball is replaced.
        subprocess.run(buildah_command("rmi", "--force", BASE_IMAGE), capture_output=True)
        log(f"debootstrap --variant=minbase bookworm from {mirror}: "
            f"{time.monotonic() - start:.0f} s")
    else:
        log(f"debootstrap tarball cached: {BASE_TAR}")
    if BASE_IMAGE not in buildah("images", "--format", "{{.Name}}:{{.Tag}}").split():
        start = time.monotonic()
        container = buildah("from", "scratch").strip()
        try:
            mount = buildah("mount", container).strip()
            run(["tar", "-C", mount, "--numeric-owner", "-xf", BASE_TAR])
            buildah("umount", container)
            buildah("config", "--cmd", "bash", "--env",
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    container)
            buildah("commit", "--rm", container, BASE_IMAGE)
        except Exception:
            buildah("rm", container)
            raise
        log(f"imported as {BASE_IMAGE}: {time.monotonic() - start:.0f} s")
    inspect = json.loads(buildah("inspect", "--type", "image", BASE_IMAGE))
    assert inspect["OCIv1"]["os"] == "linux", inspect["OCIv1"]


# ---------------------------------------------------------------- build

def bud(*args):
    """buildah bud; its whole output (steps, cache use and the build's own output)."""
    proc = subprocess.run(buildah_command("bud", "--isolation", "chroot", "--layers",
                                          "--pull-never", "-f", DOCKERFILE, *args, SRC),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=3600)
    assert proc.returncode == 0, f"buildah bud {' '.join(args)} failed:\n{proc.stdout[-6000:]}"
    return proc.stdout


def bud_steps(output):
    """[(step line, came from the cache)] of a `buildah bud` output."""
    steps = []
    for line in output.splitlines():
        if re.match(r"\[\d+/\d+\] STEP \d+/\d+: ", line):
            steps.append([line, False])
        elif line.startswith("--> Using cache") and steps:
            steps[-1][1] = True
    return [tuple(s) for s in steps]


def test_dockerfile_builds_the_image_the_manifests_run():
    image = image_tag()
    state["image"] = image
    start = time.monotonic()
    # The build stage under a name of its own, so that its layers (the build dependencies
    # above all) stay cached while older builds are pruned below; the full build then finds
    # that stage in the cache and compiles nothing twice.
    bud("--target", "build", "-t", "soawatch-build-stage:cache")
    out = bud("-t", image)
    took = time.monotonic() - start
    # The full build should find the build stage in the cache the first left (unless the
    # sources changed in between): only time is lost when it does not.
    build_steps = [cached for step, cached in bud_steps(out)
                   if step.startswith("[1/") and ": FROM " not in step]
    reused = "reused" if build_steps and all(build_steps) else "NOT reused (sources changed?)"
    # Layers of earlier builds that nothing names any more.
    while buildah("rmi", "--prune").strip():
        pass
    log(f"buildah bud (both stages): {took:.0f} s; build stage {reused} by the second bud")
    config = json.loads(buildah("inspect", "--type", "image", image))["OCIv1"]["config"]
    assert config["User"] == f"{UID}:{UID}", config
    assert config["Entrypoint"] == ["/usr/bin/soawatch"], config
    state["config"] = config


# ---------------------------------------------------------------- what the image holds

def mount_image():
    if "mount" not in state:
        container = buildah("from", "--pull-never", state["image"]).strip()
        state["container"] = container
        state["mount"] = buildah("mount", container).strip()
    return state["mount"]


def tree_bytes(root):
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_size
    return total


def test_image_size_and_no_compiler_or_dev_package():
    root = mount_image()
    size = tree_bytes(root)
    base = json.loads(buildah("inspect", "--type", "image", BASE_IMAGE))
    log(f"image {state['image']}: {size / 1e6:.1f} MB of files "
        f"(buildah images: {buildah('images', '--format', '{{.Size}}', state['image']).strip()})")
    assert size <= MAX_IMAGE_BYTES, f"image is {size} bytes (bound {MAX_IMAGE_BYTES})"
    assert base  # the base image is still there for the next run
    packages = run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W",
                    "-f=${Package} ${db:Status-Status}\\n"]).split("\n")
    installed = sorted(p.split()[0] for p in packages if p.endswith(" installed"))
    assert "libc6" in installed and len(installed) > 50, installed
    # gcc-12-base (in every Debian, for libgcc-s1 and libstdc++6) holds no compiler.
    compilers = [p for p in installed
                 if re.fullmatch(r"(gcc|g\+\+|cpp|clang|llvm|c\+\+|binutils)(-[0-9.]+)?", p)
                 or (re.match(r"(gcc|cpp|g\+\+|binutils)-", p) and not p.endswith("-base"))
                 or p in ("cmake", "make")]
    assert not compilers, f"build tools in the runtime image: {compilers}"
    for tool in ("cc", "c++", "gcc", "g++", "clang", "clang++", "ld", "as", "cmake", "make"):
        path = os.path.join(root, "usr", "bin", tool)
        assert not os.path.lexists(path), f"/usr/bin/{tool} is in the runtime image"
    dev = [p for p in installed if p.endswith("-dev")]
    # libssl-dev is only in the runtime group for civetweb's dlopen of the unversioned
    # libssl.so (deploy/install-deps.sh); it is tolerated while that workaround exists and not
    # a day longer: once exporters/http/civetweb_openssl3.* is gone, so must libssl-dev be.
    workaround = os.path.exists(os.path.join(SRC, "exporters", "http", "civetweb_openssl3.cpp"))
    if workaround and "libssl-dev" in dev:
        dev.remove("libssl-dev")
        log("NOTE libssl-dev is in the image, for civetweb's dlopen workaround only "
            "(exporters/http/civetweb_openssl3); it must go with that workaround")
    assert not dev, f"-dev packages in the runtime image: {dev}"
    log(f"{len(installed)} packages, none a compiler or a -dev package")


# ---------------------------------------------------------------- the image, run

def lab_config(path):
    lines = ["global:", "  interval: 5s", "  timeout: 1s", f"  port: {lab.port}",
             f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]", "zones:"]
    for zone in lab["LAB_ZONES"].split():
        lines.append(f"  - name: {zone}")
        if zone != "longsoa.test":
            lines.append(f"    primary: \"{lab['LAB_PRIMARY']}\"")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)


def image_command(listen):
    """The image's entrypoint and command, listening where the test says (the default :9353
    is every address and a port another agent may hold)."""
    config = state["config"]
    args = [*config["Entrypoint"], *config.get("Cmd", [])]
    listen_args = [a for a in args if a.startswith("--web.listen-address=")]
    assert listen_args == ["--web.listen-address=:9353"], args
    return [("--web.listen-address=" + listen) if a in listen_args else a for a in args]


def test_image_runs_read_only_as_its_user_against_the_lab():
    root = mount_image()
    state["lab"] = lab.up()  # only now: the build above needs no DNS server running
    config = os.path.join(CACHE, "soawatch.yml")
    lab_config(config)
    port = free_port()
    command = image_command(f"127.0.0.1:{port}")
    config_file = next(a for a in command if a.startswith("--config.file=")).split("=", 1)[1]
    assert os.path.isfile(root + config_file), f"the image has no {config_file}"
    # What a runtime does, in a mount namespace of the agent's own (gone when it exits): the
    # root read-only, /proc, a /dev of the usual devices, the config mounted over the image's
    # (as a ConfigMap is); then chroot, the image's user, no capabilities, no new privileges.
    script = """set -e
root=$0 config=$1 config_file=$2; shift 2
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,noexec,mode=755,size=64k tmpfs "$root/dev"
for d in null zero full random urandom; do
    touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
done
mount --bind -o ro "$config" "$root$config_file"
mount -o remount,bind,ro "$root$config_file"
exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all,+sys_chroot,+setuid,+setgid \
    chroot --userspec=%d:%d "$root" "$@"
""" % (UID, UID)
    agent = Process(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                     root, config, config_file, *command],
                    os.path.join(CACHE, "soawatch-in-image.log"))
    state["agent"] = agent
    url = f"http://127.0.0.1:{port}"

    def up():
        if not agent.alive():
            raise AssertionError("the agent in the image exited:\n" + agent.output()[-3000:])
        try:
            return http(url + "/readyz", timeout=2)[0] == 200
        except OSError:
            return False
    eventually(up, timeout=60, what="the agent in the image to be ready")
    pid = agent.proc.pid  # unshare, sh, setpriv and chroot each exec the next
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    assert status["Name"].strip() == "soawatch", status
    assert status["Uid"].split() == [str(UID)] * 4 and status["Gid"].split()[0] == str(UID)
    assert status["CapEff"].strip() == "0" * 16 and status["CapPrm"].strip() == "0" * 16
    assert status["NoNewPrivs"].strip() == "1", status
    assert os.path.realpath(f"/proc/{pid}/root") == os.path.realpath(root)
    with open(f"/proc/{pid}/mounts") as f:
        root_mount = [m.split() for m in f.read().splitlines() if m.split()[1] == "/"][-1]
    assert "ro" in root_mount[3].split(","), root_mount
    status_code, _, body = http(url + "/metrics")
    assert status_code == 200, status_code
    promtool_check_metrics(body)
    assert metric_value(body, "soawatch_build_info") == 1, body[:2000]
    for zone in lab["LAB_ZONES"].split():
        name = canonical_zone(zone)
        assert metric_value(body, "soawatch_zone_consistent", zone=name) == 1, (zone, body[:3000])
        serial = int(lab.run("serial", zone))
        assert metric_value(body, "soawatch_reference_serial", zone=name) == serial, zone
    # A change on the primary reaches the agent in the image (it probes, it is not frozen).
    zone = lab["LAB_ZONES"].split()[0]
    lab.run("bump", zone)
    lab.run("wait-sync", zone)
    serial = int(lab.run("serial", zone))
    eventually(lambda: metric_value(http(url + "/metrics")[2], "soawatch_reference_serial",
                                    zone=canonical_zone(zone)) == serial,
               timeout=30, what="the bumped serial in the image's /metrics")
    state.pop("agent")
    code = agent.stop()
    with open(agent.log_path) as f:
        output = f.read()
    assert code == 0, output[-3000:]
    assert "Read-only file system" not in output, output[-3000:]
    log(f"the image's agent ran as {UID} with a read-only root, {len(lab['LAB_ZONES'].split())} "
        "lab zones consistent, promtool clean")


def teardown():
    agent = state.pop("agent", None)
    if agent is not None:
        agent.stop()
    if state.pop("lab", None) is not None:
        lab.down()
    if "container" in state:
        try:
            buildah("umount", state["container"])
            buildah("rm", state["container"])
        except AssertionError as e:  # report, but let the other cleanups run
            print(e, file=sys.stderr)


if __name__ == "__main__":
    reason = skip_reason()
    if reason:
        print(f"SKIP test_image: {reason}")
        sys.exit(SKIP)
    try:
        main()
    finally:
        teardown()
