"""Everything under deploy/ that ships soawatch, checked against real counterparts: the
container's build scripts and runtime libraries, the systemd unit (systemd-analyze), the
Kubernetes overlays (kubectl kustomize, then every object against the API schemas offline), the
sidecar's and the shards' arguments and config run for real against the lab (as the container
runs them: non-root, no capabilities, read-only root), the Prometheus rules (promtool), and every
PromQL expression of the rules and the Grafana dashboard evaluated by a real Prometheus that
scrapes the sharded agents watching the lab while it misbehaves."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse

from labtest import (BIN, SRC, Agent, Lab, Process, Prometheus, canonical_zone, eventually,
                     free_port, http, main)

DEPLOY = os.path.join(SRC, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
OVERLAYS = ["standalone", "sharded", "sidecar", "prometheus-operator"]
NODE_TOOLS = os.path.join(SRC, "tests", "deploy")

lab = Lab(zones=4)
work = tempfile.mkdtemp(prefix="soawatch-deploy-",
                        dir=os.path.dirname(os.environ.get("LAB_DIR", "/tmp/x")))
# What runs as the container's unprivileged user must be reachable by it, whatever the
# permissions of the build tree's parents (a clone under /root is not): a folder of its own.
unprivileged = tempfile.mkdtemp(prefix="soawatch-deploy-ro-")
os.chmod(unprivileged, 0o755)
rendered = {}  # overlay -> list of objects (from kubectl kustomize)
running = []   # Agent / Process / Prometheus to stop at the end


def run(args, check=True, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120),
                          **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


def read(*parts):
    with open(os.path.join(*parts)) as f:
        return f.read()


def substitute(text, old, new, count=1):
    """Replaces `old` exactly `count` times: the example must still contain what the test swaps
    for the lab, so the example cannot drift away from what is tested."""
    found = text.count(old)
    assert found == count, f"expected {count}x {old!r} in the example, found {found}"
    return text.replace(old, new)


# ---------------------------------------------------------------- container

def dockerfile_stages():
    """[(stage name, [(instruction, argument)])] of deploy/container/Dockerfile."""
    stages = []
    text = read(DEPLOY, "container", "Dockerfile").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, argument = line.partition(" ")
        if instruction.upper() == "FROM":
            name = argument.split(" AS ")[-1].strip() if " AS " in argument else ""
            stages.append((name, [("FROM", argument)]))
        else:
            stages[-1][1].append((instruction.upper(), argument.strip()))
    return stages


def test_dockerfile_runs_the_readme_scripts():
    stages = dockerfile_stages()
    assert [name for name, _ in stages] == ["build", "runtime"], stages
    for _, steps in stages:
        assert steps[0][1].startswith("debian:12"), steps[0]
    build_runs = " ".join(a for i, a in stages[0][1] if i == "RUN")
    runtime = stages[1][1]
    runtime_runs = " ".join(a for i, a in runtime if i == "RUN")
    assert "deploy/install-deps.sh build" in build_runs and "deploy/build.sh" in build_runs
    assert "install-deps.sh runtime" in runtime_runs
    assert "build.sh" not in runtime_runs and "install-deps.sh build" not in runtime_runs
    # The README's commands use the same scripts (deploy/demo.sh and tests/run.sh call them).
    readme = read(SRC, "README.md")
    for script in ("deploy/install-deps.sh", "deploy/build.sh"):
        assert script in readme, f"README does not mention {script}"
    for caller in ("deploy/demo.sh", "tests/run.sh"):
        body = read(SRC, caller)
        assert "deploy/install-deps.sh" in body and "deploy/build.sh" in body, caller
    # The groups the Dockerfile asks for exist in the script.
    groups = re.findall(r"^\s+([a-z]+)\) want\+=", read(DEPLOY, "install-deps.sh"), re.M)
    assert {"build", "runtime"} <= set(groups), groups
    # Runtime stage: non-root numeric user, the binary as entrypoint, no HEALTHCHECK.
    instructions = dict((i, a) for i, a in runtime)
    assert "HEALTHCHECK" not in [i for s in stages for i, _ in s[1]]
    user = instructions["USER"].split(":")
    assert all(p.isdigit() and int(p) != 0 for p in user), user
    entrypoint = json.loads(instructions["ENTRYPOINT"])
    assert entrypoint == ["/usr/bin/soawatch"], entrypoint
    copies = [a for i, a in runtime if i == "COPY" and "--from=build" in a]
    assert copies == ["--from=build /build/soawatch /usr/bin/soawatch"], copies
    # The default config it copies is valid.
    run([BIN, "--config.check", "--config.file=" + os.path.join(DEPLOY, "container", "soawatch.yml")])
    for script in ("install-deps.sh", "build.sh"):
        run(["bash", "-n", os.path.join(DEPLOY, script)])


def package_of(path):
    """The package that ships the file at `path` itself (a symlink counts as its own file:
    libssl.so comes from libssl-dev even though it points into libssl3)."""
    # /lib is a link to /usr/lib (merged /usr); dpkg may know the file under either name.
    for candidate in (path, os.path.join(os.path.realpath(os.path.dirname(path)),
                                         os.path.basename(path))):
        out = run(["dpkg", "-S", candidate], check=False)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    raise AssertionError(f"{path} belongs to no Debian package")


def runtime_closure():
    """The runtime group's packages and everything they depend on (installed alternatives)."""
    text = read(DEPLOY, "install-deps.sh")
    group = []
    for m in re.finditer(r"^runtime_pkgs\+?=\(([^)]*)\)", text, re.M):
        group += m.group(1).split()
    seen, todo = set(), list(group)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        q = run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg], check=False)
        if q.returncode != 0:
            continue  # virtual or not installed: nothing to follow
        for clause in q.stdout.split(","):
            for alternative in clause.split("|"):
                name = alternative.strip().split(" ")[0].split(":")[0]
                if name and run(["dpkg-query", "-W", name], check=False).returncode == 0:
                    todo.append(name)
                    break
    return group, seen


def test_runtime_group_provides_every_library():
    group, closure = runtime_closure()
    needed = {}  # soname -> path
    for line in run(["ldd", BIN]).stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m:
            needed[m.group(1)] = m.group(2)
    # Sanitizer runtimes belong to the test build only (tests/run.sh builds with ASan).
    needed = {k: v for k, v in needed.items() if not re.match(r"lib(asan|ubsan|lsan|tsan)", k)}
    # Libraries that dlopen() others name them in their strings.
    ldconfig = {}
    for line in run(["ldconfig", "-p"]).stdout.splitlines():
        m = re.match(r"\s*(\S+) \((.*?)\) => (\S+)", line)
        if m and ("x86-64" in m.group(2) or "64bit" in m.group(2)):
            ldconfig.setdefault(m.group(1), m.group(3))
    for soname, path in list(needed.items()):
        if "dlopen" not in run(["nm", "-D", "--undefined-only", path], check=False).stdout:
            continue
        with open(path, "rb") as f:
            names = set(re.findall(rb"lib[A-Za-z0-9_+-]+\.so(?:\.[0-9]+)*", f.read()))
        for name in sorted(n.decode() for n in names):
            if name in needed or name == soname or name.startswith("libc.so"):
                continue
            assert name in ldconfig, f"{soname} dlopens {name}, which no installed package has"
            needed[name + f" (dlopened by {soname})"] = ldconfig[name]
    assert needed
    for soname, path in sorted(needed.items()):
        pkg = package_of(path)
        assert pkg in closure, (f"{soname} comes from {pkg}, which the runtime group "
                                f"{group} does not install")
    print(f"  {len(needed)} libraries, all from the runtime group's {len(closure)} packages")


# ---------------------------------------------------------------- systemd

def test_systemd_unit_verifies():
    if not shutil.which("systemd-analyze"):
        print("  SKIP systemd-analyze: not installed (package systemd)")
        return
    unit = os.path.join(work, "soawatch.service")
    with open(unit, "w") as f:
        f.write(read(DEPLOY, "systemd", "soawatch.service").replace("/usr/local/bin/soawatch", BIN))
    out = run(["systemd-analyze", "verify", "--man=no", unit], check=False)
    assert out.returncode == 0 and not out.stderr.strip(), out.stdout + out.stderr
    out = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit], check=False)
    score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout)
    assert out.returncode == 0 and score, out.stdout[-2000:] + out.stderr
    print(f"  systemd-analyze security: exposure {score.group(1)} (threshold 2.0)")
    text = read(DEPLOY, "systemd", "soawatch.service")
    for option in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                   "CapabilityBoundingSet=\n", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert option in text, option
    # Its ExecStart flags are the agent's.
    start = re.search(r"^ExecStart=\S+ (.*)$", text, re.M).group(1).split()
    for flag in start:
        assert flag.split("=")[0] in read(SRC, "agent", "cli", "agent_flags.cpp"), flag


# ---------------------------------------------------------------- Kubernetes

def yaml_documents(text):
    """Rendered manifests as JSON objects, through the validator's YAML parser (node)."""
    out = run(["node", "--input-type=module", "-e",
               "import {parseAllDocuments} from 'yaml'; import fs from 'node:fs';"
               "console.log(JSON.stringify(parseAllDocuments(fs.readFileSync(0,'utf8'))"
               ".map(d => d.toJS()).filter(d => d)))"], input=text, cwd=NODE_TOOLS)
    return json.loads(out.stdout)


def test_kustomize_renders_and_objects_validate():
    assert os.path.isdir(os.path.join(NODE_TOOLS, "node_modules")), \
        "tests/deploy/node_modules missing: run deploy/install-deps.sh test"
    files = []
    if shutil.which("kubectl"):
        for overlay in OVERLAYS:
            out = run(["kubectl", "kustomize", os.path.join(K8S, overlay)])
            path = os.path.join(work, f"rendered-{overlay}.yaml")
            with open(path, "w") as f:
                f.write(out.stdout)
            files.append(path)
            rendered[overlay] = yaml_documents(out.stdout)
    else:
        # Without kubectl, validate every complete object the kustomizations list.
        print("  SKIP kubectl kustomize: kubectl is not installed (Debian 12 has no package); "
              "validating the plain resource files instead")
        for root, _, names in os.walk(K8S):
            if "kustomization.yaml" not in names:
                continue
            listed = re.findall(r"^  - (\S+\.yaml)$",
                                read(root, "kustomization.yaml").split("\nresources:")[-1], re.M)
            files += [os.path.join(root, n) for n in listed if os.path.isfile(os.path.join(root, n))]
    out = run(["node", os.path.join(NODE_TOOLS, "validate_manifests.mjs"), *files], check=False)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    print("  " + out.stdout.strip().splitlines()[-1])
    # The PrometheusRule is the rules file, regenerated.
    generated = run([os.path.join(DEPLOY, "prometheus", "make-prometheusrule.sh")]).stdout
    assert generated == read(K8S, "prometheus-operator", "prometheusrule.yaml"), \
        "prometheusrule.yaml is stale: run deploy/prometheus/make-prometheusrule.sh"


def find(overlay, kind, name=None):
    objects = [o for o in rendered[overlay] if o["kind"] == kind and
               (name is None or o["metadata"]["name"] == name)]
    assert len(objects) == 1, (overlay, kind, name, len(objects))
    return objects[0]


def container(workload, name="soawatch"):
    return next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def test_manifests_agree_with_each_other():
    if not rendered:
        print("  SKIP: needs kubectl kustomize")
        return
    monitor = find("prometheus-operator", "ServiceMonitor")
    port = monitor["spec"]["endpoints"][0]["port"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    for overlay, kind in (("standalone", "Deployment"), ("sharded", "StatefulSet"),
                          ("sidecar", "Deployment")):
        workload = find(overlay, kind)
        pod = workload["spec"]["template"]
        c = container(workload)
        # Security: what the issue asks for, on the pod and the container.
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] and sc["runAsNonRoot"], (overlay, sc)
        assert sc["capabilities"]["drop"] == ["ALL"] and not sc["allowPrivilegeEscalation"]
        assert pod["spec"]["securityContext"]["runAsUser"] != 0
        assert c["resources"]["requests"] and c["resources"]["limits"], overlay
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        # The metrics port: named, annotated, listened on, and selected by a Service the
        # ServiceMonitor finds.
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        listen = next(a for a in c["args"] if a.startswith("--web.listen-address="))
        assert listen.endswith(f":{ports[port]}"), (listen, ports)
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports[port])
        services = [o for o in rendered[overlay] if o["kind"] == "Service" and
                    all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
        assert len(services) == 1, (overlay, services)
        svc = services[0]
        assert any(p["name"] == port for p in svc["spec"]["ports"]), svc
        assert all(pod["metadata"]["labels"].get(k) == v
                   for k, v in svc["spec"]["selector"].items()), (svc["spec"]["selector"], pod)
        # Every volume mount has its volume; the config file is under the config mount.
        volumes = {v["name"] for v in pod["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        assert set(mounts.values()) <= volumes, (mounts, volumes)
        config = next(a for a in c["args"] if a.startswith("--config.file=")).split("=", 1)[1]
        assert os.path.dirname(config) in mounts, (config, mounts)
    # Sharded: COUNT in --shard is the number of replicas, INDEX the pod ordinal.
    sts = find("sharded", "StatefulSet")
    shard = next(a for a in container(sts)["args"] if a.startswith("--shard="))
    assert shard == f"--shard=$(SHARD_INDEX)/{sts['spec']['replicas']}", shard
    env = {e["name"]: e for e in container(sts)["env"]}
    assert env["SHARD_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.labels['apps.kubernetes.io/pod-index']"
    assert find("sharded", "Service")["spec"]["clusterIP"] == "None"
    assert sts["spec"]["serviceName"] == find("sharded", "Service")["metadata"]["name"]


def test_promtool_checks_rules_and_config():
    prom_dir = os.path.join(DEPLOY, "prometheus")
    out = run(["promtool", "check", "rules", "soawatch.rules.yml"], cwd=prom_dir)
    print("  " + out.stdout.strip().splitlines()[-1].strip())
    out = run(["promtool", "test", "rules", "soawatch.rules.test.yml"], cwd=prom_dir)
    assert "SUCCESS" in out.stdout, out.stdout
    run(["promtool", "check", "config", "prometheus.yml"], cwd=prom_dir)
    # Every built-in alert name of the agent has a rule, and each alert has a promtool test
    # that expects it firing and one that expects it quiet.
    rules = read(prom_dir, "soawatch.rules.yml")
    tests = read(prom_dir, "soawatch.rules.test.yml")
    alerts = re.findall(r"^\s+- alert: (\S+)", rules, re.M)
    for name in ("ZoneSerialMismatch", "NameserverBehind", "NameserverUnreachable",
                 "NameserverLame", "ZoneExpiryRisk", "PrimaryUnreachable",
                 "SecondaryRefreshFailing", "PropagationSlow", "SOAFieldsMismatch",
                 "SOATimersUnsafe", "ZoneTransferOpen", "PrimaryTransferBroken",
                 "SignatureExpiringSoon", "SignatureExpired", "SignatureValidityBelowExpire",
                 "AnycastInstanceBehind", "CatalogUnavailable",
                 "DelegationMismatch"):
        assert name in alerts, name
    for name in alerts:
        cases = re.findall(rf"alertname: {name}\n\s+exp_alerts:( \[\])?", tests)
        assert "" in cases and " []" in cases, f"{name}: needs a firing and a quiet test"


# ---------------------------------------------------------------- the sidecar, for real

def sidecar_source(name):
    """A file of the sidecar's ConfigMaps as rendered (or as written, without kubectl)."""
    if rendered:
        for o in rendered["sidecar"]:
            if o["kind"] == "ConfigMap" and name in o.get("data", {}):
                return o["data"][name]
        raise AssertionError(f"{name} in no sidecar ConfigMap")
    return read(K8S, "sidecar", name)


def container_spec(overlay, kind):
    if rendered:
        workload = find(overlay, kind)
        return container(workload), workload["spec"]["template"]["spec"]["securityContext"]
    return None, None


def mapped_args(args, root, listen):
    """The container's args with absolute paths under `root` and our own listen address."""
    out = []
    for a in args:
        if a.startswith("--web.listen-address="):
            a = "--web.listen-address=" + listen
        elif a.startswith("--config.file="):
            a = "--config.file=" + root + a.split("=", 1)[1]
        out.append(a)
    return out


def mount_namespace_refusal():
    """Why `unshare --mount` cannot run here, or "" when it can: a container without
    CAP_SYS_ADMIN, or a kernel or seccomp profile that forbids new namespaces, refuses it."""
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                          capture_output=True, text=True)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or f"exit {proc.returncode}")


def skip_without_mount_namespace(what):
    """Prints a visible SKIP line and returns True where the kernel refuses a mount namespace."""
    why = mount_namespace_refusal()
    if why:
        print(f"  SKIP {what}: needs a mount namespace (unshare --mount), refused here: {why}")
    return bool(why)


class ContainerAgent(Agent):
    """The agent started like the container runtime starts it: as the pod's user, with no
    capabilities, no new privileges, every mount read-only and a read-only working folder."""

    def __init__(self, args, workdir, uid, gid):
        self.port = free_port()
        self.config_path = None
        # The binary and its files must be reachable by an unprivileged user.
        bindir = tempfile.mkdtemp(prefix="bin-", dir=workdir)
        binary = os.path.join(bindir, "soawatch")
        shutil.copy(BIN, binary)
        for d in (workdir, bindir):
            os.chmod(d, 0o755)
        os.chmod(binary, 0o755)
        args = [a.replace("{port}", str(self.port)) for a in args]
        script = ('for m in $(findmnt -rn -o TARGET); do case "$m" in /proc*|/sys*|/dev*) ;; '
                  '*) mount -o remount,bind,ro "$m" 2>/dev/null ;; esac; done; '
                  'cd "$0" && exec setpriv --reuid="$1" --regid="$2" --clear-groups '
                  '--inh-caps=-all --bounding-set=-all --no-new-privs -- "${@:3}"')
        self.process = Process(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                                script, workdir, str(uid), str(gid), binary, *args],
                               os.path.join(workdir, "soawatch.log"))
        self.url = f"http://127.0.0.1:{self.port}"
        eventually(lambda: self._up(), timeout=30, what="soawatch (as in the container) to listen")


def proc_status(pid):
    return dict(line.split(":\t", 1) for line in read(f"/proc/{pid}/status").splitlines()
                if ":\t" in line)


def test_sidecar_runs_with_its_config_args_and_security_context():
    for tool in ("unshare", "setpriv", "findmnt", "named-checkconf", "named-checkzone"):
        assert shutil.which(tool), tool
    root = os.path.join(unprivileged, "sidecar-root")
    c, pod_sc = container_spec("sidecar", "Deployment")
    if c is None:
        args = ["--config.file=/etc/soawatch/soawatch.yml", "--web.listen-address=:9353"]
        uid = gid = 65532
        mount = "/etc/soawatch"
    else:
        args = c["args"]
        uid, gid = pod_sc["runAsUser"], pod_sc["runAsGroup"]
        mount = next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == "soawatch-config")
    config_text = sidecar_source("soawatch.yml")
    config_path = root + mount + "/soawatch.yml"
    os.makedirs(os.path.dirname(config_path))
    # The Secret's files where the config names them (under root, as mapped_args does for the
    # config file), holding a loopback URL nothing listens on: no notification leaves the host.
    secret_files = re.findall(r"url_file: (\S+)", config_text)
    assert secret_files, "the sidecar config reads no webhook URL from the Secret"
    for path in secret_files:
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "w") as f:
            f.write(f"http://127.0.0.1:{free_port()}/never-listening\n")
    with open(config_path, "w") as f:
        f.write(config_text.replace("url_file: /", "url_file: " + root + "/"))
    # 1. The exact args and file: the agent accepts them.
    config_arg = next(a for a in args if a.startswith("--config.file="))
    assert config_arg.split("=", 1)[1].startswith(mount + "/"), (config_arg, mount)
    checked = run([BIN, "--config.check", *mapped_args(args, root, "127.0.0.1:0")])
    assert "valid, 1 zone(s)" in checked.stdout, checked.stdout
    # 2. BIND's side: the config and zone load, and the two agree on ports and NOTIFY.
    named_conf = sidecar_source("named.conf")
    zone_text = sidecar_source("example.com.zone")
    bind_root = os.path.join(work, "bind")
    os.makedirs(bind_root + "/etc/bind")
    with open(bind_root + "/etc/bind/example.com.zone", "w") as f:
        f.write(zone_text)
    with open(bind_root + "/etc/bind/named.conf", "w") as f:
        f.write(named_conf.replace("/etc/bind/", bind_root + "/etc/bind/")
                .replace("/var/cache/bind", bind_root).replace("/run/named", bind_root))
    run(["named-checkconf", "-z", bind_root + "/etc/bind/named.conf"])
    run(["named-checkzone", "example.com", bind_root + "/etc/bind/example.com.zone"])
    listen_port = re.search(r"listen-on port (\d+)", named_conf).group(1)
    notify = re.search(r"also-notify \{ 127\.0\.0\.1 port (\d+); \}", named_conf).group(1)
    assert f'primary: "127.0.0.1:{listen_port}"' in config_text
    assert f'notify_listen: "127.0.0.1:{notify}"' in config_text
    # The webhook files the config names are keys of the Secret mounted where it says.
    if c is not None:
        secret_mount = next(m["mountPath"] for m in c["volumeMounts"]
                            if m["name"] == "soawatch-webhooks")
        secret = find("sidecar", "Secret")
        for path in re.findall(r"url_file: (\S+)", config_text):
            assert os.path.dirname(path) == secret_mount, (path, secret_mount)
            assert os.path.basename(path) in secret["data"], path
    # 3. A real start with the same args against the lab: its hidden primary stands in for the
    #    BIND container, its resolver for the cluster's, its zone for example.com.
    text = substitute(config_text, '"127.0.0.1:5353"', f'"{lab["LAB_PRIMARY"]}:{lab.port}"')
    text = substitute(text, '"127.0.0.1:5354"', f'"{lab["LAB_AGENT_NOTIFY"]}"')
    text = substitute(text, "- name: example.com\n", "- name: example.test\n")
    text = substitute(text, "global:\n", f"global:\n  port: {lab.port}\n"
                      f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]\n")
    with open(config_path, "w") as f:
        f.write(text.replace("url_file: /", "url_file: " + root + "/"))
    for d in (root, os.path.dirname(config_path), root + "/etc"):
        os.chmod(d, 0o755)
    os.chmod(config_path, 0o644)
    os.chmod(root, 0o555)  # the working folder is read-only too
    if skip_without_mount_namespace("the sidecar started as the container runtime starts it"):
        return
    agent = ContainerAgent(mapped_args(args, root, "127.0.0.1:{port}"), root, uid, gid)
    running.append(agent)
    status = proc_status(agent.process.proc.pid)  # setpriv execs soawatch in place of bash
    assert status["Uid"].split()[0] == str(uid) and status["CapEff"].strip() == "0" * 16, status
    assert status["NoNewPrivs"].strip() == "1", status
    mounts = read(f"/proc/{agent.process.proc.pid}/mounts").splitlines()
    root_mount = [m for m in mounts if m.split()[1] == "/"][-1]
    assert "ro" in root_mount.split()[3].split(","), root_mount
    eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="/readyz")
    assert agent.metric("soawatch_primary_up", zone="example.test.") == 1
    assert agent.metric("soawatch_zone_consistent", zone="example.test.") == 1
    before = agent.metric("soawatch_notify_received_total") or 0
    lab.run("bump", "example.test")
    eventually(lambda: (agent.metric("soawatch_notify_received_total") or 0) > before,
               timeout=15, what="the primary's NOTIFY at the sidecar's listener")
    assert agent.stop() == 0, agent.process.output()[-2000:]
    running.remove(agent)


# ---------------------------------------------------------------- shards + Prometheus + Grafana

SHARDS = []      # ContainerAgent per shard
prom = None
DEAD = None      # an address nothing listens on (the lab's dead primary)


def lab_zones_config(path, broken=False):
    global DEAD
    DEAD = lab["LAB_NET"] + ".9"
    zones = lab["LAB_ZONES"].split()
    lines = ["global:", "  interval: 5s", "  timeout: 500ms", "  retries: 0",
             f"  port: {lab.port}", f"  resolvers: [ \"{lab['LAB_RESOLVER']}\" ]",
             "  fast_reprobe_interval: 1s",
             # The transfer audit, so its rules' metrics have data: refused everywhere, and
             # the primary serves the lab's key (soawatch_transfer_tsig_ok 1).
             "  transfer_check:", "    interval: 1m",
             "    tsig: { name: lab-xfr, algorithm: hmac-sha256, secret_file: xfr.secret }"]
    secret = os.path.join(os.path.dirname(path), "xfr.secret")
    with open(secret, "w") as f:
        f.write(lab["LAB_TSIG_KEY"].split(":", 2)[2] + "\n")
    os.chmod(secret, 0o644)
    if broken:
        lines.append("  timeout: 5x")
    lines.append("zones:")
    for zone in zones:
        lines.append(f"  - name: {zone}")
        if zone == "gen0003.test":    # a dead hidden primary: PrimaryUnreachable
            lines.append(f"    primary: \"{DEAD}\"")
        elif zone == "gen0002.test":  # one dead nameserver: NameserverUnreachable
            lines.append(f"    nameservers: [ ns1.lab.test, ns2.lab.test, \"{DEAD}\" ]")
        elif zone != "longsoa.test":
            lines.append(f"    primary: \"{lab['LAB_PRIMARY']}\"")
    # A catalog the lab's primary does not serve, so CatalogUnavailable's metric has data
    # (soawatch_catalog_up 0); test_catalog follows real ones.
    lines += ["zones_from_catalog:", "  - catalog: catalog.lab.test",
              f"    primary: \"{lab['LAB_PRIMARY']}:{lab.port}\"", "    refresh: 1m"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)


def test_shards_partition_the_lab_zones():
    if skip_without_mount_namespace("the shards started as the container runtime starts them"):
        return
    c, pod_sc = container_spec("sharded", "StatefulSet")
    if c is None:
        args, count, uid, gid = ["--config.file=/etc/soawatch/soawatch.yml",
                                 "--web.listen-address=:9353", "--shard=$(SHARD_INDEX)/3"], 3, 65532, 65532
    else:
        args, count = c["args"], find("sharded", "StatefulSet")["spec"]["replicas"]
        uid, gid = pod_sc["runAsUser"], pod_sc["runAsGroup"]
    for index in range(count):
        root = os.path.join(unprivileged, f"shard-{index}")
        config = root + "/etc/soawatch/soawatch.yml"
        os.makedirs(os.path.dirname(config))
        lab_zones_config(config)
        for d in (root, root + "/etc", root + "/etc/soawatch"):
            os.chmod(d, 0o755)
        # Kubernetes expands $(SHARD_INDEX) from the pod-index label: the ordinal.
        shard_args = [a.replace("$(SHARD_INDEX)", str(index))
                      for a in mapped_args(args, root, "127.0.0.1:{port}")]
        agent = ContainerAgent(shard_args, root, uid, gid)
        agent.config_path = config
        SHARDS.append(agent)
        running.append(agent)
    seen = {}
    for index, agent in enumerate(SHARDS):
        eventually(lambda: agent.get("/readyz")[0] == 200, timeout=30, what=f"shard {index} ready")
        zones = {z["zone"] for z in json.loads(agent.get("/api/v1/zones")[2])["zones"]}
        for zone in zones:
            assert zone not in seen, f"{zone} in shards {seen[zone]} and {index}"
            seen[zone] = index
    assert set(seen) == {canonical_zone(z) for z in lab["LAB_ZONES"].split()}, seen
    # A reload filters the new file the same way.
    agent = SHARDS[0]
    before = agent.metric("soawatch_config_last_reload_success_timestamp_seconds")
    agent.process.signal(signal.SIGHUP)
    eventually(lambda: agent.metric("soawatch_config_last_reload_success_timestamp_seconds") != before,
               timeout=10, what="shard 0 reloaded")
    zones = {z["zone"] for z in json.loads(agent.get("/api/v1/zones")[2])["zones"]}
    assert zones == {z for z, i in seen.items() if i == 0}, zones


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names an expression selects (not functions, labels or keywords)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        if m.group(2) or m.group(1).lower() in PROMQL_WORDS:
            continue
        names.add(m.group(1))
    return names


def grafana_expressions():
    """[(where, expr)] of every PromQL expression of the dashboard: panel targets, template
    variable queries (label_values(...) is Grafana's, only its selector is PromQL) and
    annotations."""
    dash = json.loads(read(DEPLOY, "grafana", "soawatch.json"))
    found = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                found.append((f"panel '{p['title']}' {t['refId']}", t["expr"]))
            walk(p.get("panels", []))
    walk(dash["panels"])
    for a in dash["annotations"]["list"]:
        if a.get("expr"):
            found.append((f"annotation '{a['name']}'", a["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
            assert m, f"variable {v['name']}: {q}"
            found.append((f"variable {v['name']}", m.group(1)))
    return dash, found


def grafana_substitute(expr, zone):
    for var, value in (("$__rate_interval", "1m"), ("$__interval", "15s"), ("$__range", "10m"),
                       ("$job", "soawatch"), ("$zone", zone)):
        expr = expr.replace("${" + var[1:] + "}", value).replace(var, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def instant(expr):
    """(status, result or error) of an instant query."""
    status, _, body = http(prom.url + "/api/v1/query?query=" + urllib.parse.quote(expr))
    doc = json.loads(body)
    if doc.get("status") != "success":
        return False, doc.get("error", body)
    return True, doc["data"]["result"]


def exported_families(agent):
    names = set()
    for line in agent.metrics().splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "histogram":
                names |= {name + "_bucket", name + "_sum", name + "_count"}
    return names


# Series that exist only in conditions this healthy lab never has: anycast addresses (two or
# more NSIDs behind one address; tests/integration/test_anycast.py gives them data), and zones
# with a delegation finding (tests/integration/test_delegation.py).
CONDITIONAL = {"soawatch_instance_serial_behind", "soawatch_delegation_problem"}


def test_rules_and_dashboard_against_prometheus_scraping_the_shards():
    global prom
    if not SHARDS and mount_namespace_refusal():
        print("  SKIP rules and dashboard against the shards: no shards (no mount namespace)")
        return
    assert SHARDS, "needs the shards"
    # Faults the alerts are about.
    lab.run("break-xfr", "ns1")
    lab.run("lame", "ns2", "second.test")
    # One shard rejects a reload (its own copy of the file is broken).
    broken = SHARDS[-1]
    lab_zones_config(broken.config_path, broken=True)
    broken.process.signal(signal.SIGHUP)
    # Prometheus with the example's scrape configuration, pointed at the shards (and one
    # target that is down), and the rules loaded.
    dead_port = free_port()
    targets = json.dumps([f"127.0.0.1:{a.port}" for a in SHARDS] + [f"127.0.0.1:{dead_port}"])
    text = read(DEPLOY, "prometheus", "prometheus.yml")
    text = substitute(text, "scrape_interval: 30s", "scrape_interval: 1s", count=2)
    text = substitute(text, "evaluation_interval: 30s", "evaluation_interval: 1s")
    text = substitute(text, "scrape_timeout: 10s", "scrape_timeout: 1s")
    text = substitute(text, 'targets: ["127.0.0.1:9353"]', f"targets: {targets}")
    text = substitute(text, 'targets: ["example.com", "example.net"]', 'targets: ["second.test"]')
    text = substitute(text, "replacement: 127.0.0.1:9353", f"replacement: 127.0.0.1:{SHARDS[0].port}")
    text = substitute(text, "scrape_interval: 60s", "scrape_interval: 2s")
    shutil.copy(os.path.join(DEPLOY, "prometheus", "soawatch.rules.yml"), work)
    prom = Prometheus(work, [], config_text=text)
    running.append(prom)
    eventually(lambda: instant('soawatch_reference_serial{zone="example.test."}')[1], timeout=20,
               what="a first scrape")
    # New serials Prometheus sees arrive (the dashboard annotates them); ns1 cannot follow.
    lab.run("bump", "example.test")
    lab.run("bump", "gen0002.test")

    def alerts():
        ok, result = instant("ALERTS")
        return {r["metric"]["alertname"] for r in result} if ok else set()
    expected = {"ZoneSerialMismatch", "NameserverBehind", "NameserverUnreachable",
                "NameserverLame", "PrimaryUnreachable", "SoawatchDown",
                "SoawatchConfigReloadFailed"}
    eventually(lambda: expected <= alerts(), timeout=60, interval=1,
               what=f"alerts {sorted(expected)} pending or firing")
    print(f"  alerts pending or firing: {sorted(alerts())}")
    # ns1 gets its transfers back: the serial it lacked reaches it, a propagation sample.
    lab.run("fix-xfr", "ns1")
    # Two scrapes of it at least, so rate() and increase() over it have data.
    eventually(lambda: instant("count_over_time(soawatch_propagation_seconds_count[1m]) >= 3")[1],
               timeout=30, what="propagation samples")
    eventually(lambda: instant("changes(soawatch_reference_serial[2m]) > 0")[1], timeout=10,
               what="a serial change")
    # The dashboard is checked for gen0002.test. alone too: its own propagation sample scraped.
    eventually(lambda: instant('soawatch_last_propagation_seconds{zone="gen0002.test."}')[1],
               timeout=30, what="a propagation sample of gen0002.test.")

    exported = set()
    for agent in SHARDS:
        exported |= exported_families(agent)
    rules_text = read(DEPLOY, "prometheus", "soawatch.rules.yml")
    recorded = set(re.findall(r"- record: (\S+)", rules_text))
    known = exported | recorded | {"up", "ALERTS"} | CONDITIONAL
    failures = []

    # Rules: each expression is valid PromQL over exported metrics, and each selector has data.
    rule_exprs = [(f"rule {name}", expr) for name, expr in rule_expressions(rules_text)]
    for where, expr in rule_exprs:
        ok, result = instant(expr)
        if not ok:
            failures.append(f"{where}: {result}")
        for name in metric_names(expr):
            if name not in known:
                failures.append(f"{where}: metric {name} is not exported by the agent")
            elif not instant(name)[1] and name not in CONDITIONAL:
                failures.append(f"{where}: {name} has no data")
    for name in recorded:
        if not instant(name)[1]:
            failures.append(f"recording rule {name} produced no data")

    # Dashboard: every expression returns data, for all zones and for one zone.
    dash, exprs = grafana_expressions()
    assert any(v["name"] == "zone" for v in dash["templating"]["list"])
    assert any("soawatch_reference_serial" in e for w, e in exprs if w.startswith("annotation"))
    for where, raw in exprs:
        for zone in (".+", "gen0002.test."):  # all zones, and one with a dead nameserver
            expr = grafana_substitute(raw, zone)
            for name in metric_names(expr):
                if name not in known:
                    failures.append(f"{where}: metric {name} is not exported by the agent")
            ok, result = instant(expr)
            if not ok:
                failures.append(f"{where}: {result}: {expr}")
            elif not result:
                failures.append(f"{where} (zone {zone}): no data: {expr}")
    assert not failures, "\n".join(failures)
    print(f"  {len(rule_exprs)} rule and {len(exprs)} dashboard expressions checked")


def rule_expressions(text):
    """(name, expr) of every rule; `expr: |` blocks joined."""
    found = []
    lines = text.splitlines()
    name = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s+- (?:alert|record): (\S+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"(\s+)expr: (.*)$", line)
        if m:
            if m.group(2).strip() == "|":
                block = []
                i += 1
                while i < len(lines) and (lines[i].startswith(m.group(1) + "  ") or not lines[i].strip()):
                    block.append(lines[i].strip())
                    i += 1
                found.append((name, " ".join(block)))
                continue
            found.append((name, m.group(2)))
        i += 1
    return found


def test_a_metric_the_agent_does_not_export_fails_the_check():
    """The checks above must be able to fail: a dashboard naming an unknown metric does."""
    if not SHARDS and mount_namespace_refusal():
        print("  SKIP the unknown-metric check: no shards (no mount namespace)")
        return
    exported = exported_families(SHARDS[0])
    bad = 'sum by (zone) (soawatch_zone_consistant{job=~"$job",zone=~"$zone"})'
    unknown = [n for n in metric_names(grafana_substitute(bad, ".+")) if n not in exported]
    assert unknown == ["soawatch_zone_consistant"], unknown
    ok, result = instant(grafana_substitute(bad, ".+"))
    assert ok and result == [], result


def teardown():
    for name, server in (("ns1", None), ("ns2", "second.test")):
        try:
            if server:
                lab.run("unlame", name, server, check=False)
            else:
                lab.run("fix-xfr", name, check=False)
        except Exception:  # noqa: BLE001 - the lab goes down anyway
            pass
    for thing in reversed(running):
        thing.stop()
    shutil.rmtree(unprivileged, ignore_errors=True)


if __name__ == "__main__":
    try:
        main(lab=lab)
    finally:
        teardown()
