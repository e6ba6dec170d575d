#!/usr/bin/env bash
# Installs what soawatch needs from Debian 12's archive (nothing else is downloaded).
#   deploy/install-deps.sh build     compilers and -dev libraries (the container's build stage)
#   deploy/install-deps.sh runtime   shared libraries the binary needs (the container's runtime stage)
#   deploy/install-deps.sh lab       the DNS servers of the loopback lab and their tools
#   deploy/install-deps.sh test      build + runtime + lab + the real counterparts the tests start,
#                                    and the deploy tests' npm packages (npm ci)
# Several groups may be given. Packages already installed are skipped, so a second run is quick.
set -euo pipefail

build_pkgs=(g++ cmake make pkg-config git libc-ares-dev libcurl4-openssl-dev nlohmann-json3-dev
    prometheus-cpp-dev libyaml-cpp-dev catch2)
runtime_pkgs=(libc-ares2 libcurl4 libprometheus-cpp-core1.0 libyaml-cpp0.7 ca-certificates)
# The HTTP server: GNU libmicrohttpd, with TLS through GnuTLS (docs/DEVELOPMENT.md says why).
build_pkgs+=(libmicrohttpd-dev libgnutls28-dev)
runtime_pkgs+=(libmicrohttpd12 libgnutls30)
lab_pkgs=(bind9 bind9-dnsutils nsd knot knot-dnsutils iproute2 procps)
# PowerDNS (ns4, and the primary of lab up --primary pdns): its sqlite3 database is written by
# the lab with the sqlite3 CLI.
lab_pkgs+=(pdns-server pdns-backend-sqlite3 sqlite3)
# The lab's discovery resolver (deploy/lab/resolver.sh); without it the lab falls back to its
# primary as the resolver and tests/integration/test_resolver.py skips.
lab_pkgs+=(unbound)
# The lab's signed zone: dnssec-keygen and dnssec-signzone (bind9 depends on it; named here).
lab_pkgs+=(bind9-utils)
test_pkgs=(python3 prometheus prometheus-alertmanager chromium dnsperf prometheus-blackbox-exporter
    curl clang-format
    clang libclang-rt-14-dev)  # clang: libFuzzer

# OpenSSL checks tls_server_config's files at load and keys the credential cache's HMAC; basic
# auth hashes are bcrypt through libxcrypt. The web security tests make certificates with the
# openssl CLI and drop privileges with setpriv.
build_pkgs+=(libssl-dev libcrypt-dev)
runtime_pkgs+=(libssl3 libcrypt1)
test_pkgs+=(openssl util-linux)
# The lint test (tests/check_tidy.sh): clang-tidy with Clang's thread-safety analysis.
test_pkgs+=(clang-tidy)
# bench/run --discovery --resolver unbound: discovery through a recursive resolver.
test_pkgs+=(unbound)
# The image test (tests/integration/test_image.py): a Debian 12 base image bootstrapped from
# the archive, the Dockerfile built with buildah (chroot isolation: no container runtime).
test_pkgs+=(debootstrap debian-archive-keyring buildah)
# The delegation parity test (tests/integration/test_delegation.py) runs Zonemaster's
# Delegation and Consistency test cases against the lab's faulty zones.
test_pkgs+=(zonemaster-cli)

want=()
want_npm=0  # the deploy tests' npm packages (test group)
for group in "$@"; do
    case "$group" in
        build) want+=("${build_pkgs[@]}") ;;
        runtime) want+=("${runtime_pkgs[@]}") ;;
        lab) want+=("${lab_pkgs[@]}") ;;
        test) want+=("${build_pkgs[@]}" "${runtime_pkgs[@]}" "${lab_pkgs[@]}" "${test_pkgs[@]}")
            want_npm=1 ;;
        *) echo "install-deps: unknown group '$group' (build, runtime, lab, test)" >&2; exit 2 ;;
    esac
done
[ ${#want[@]} -gt 0 ] || { echo "usage: $0 build|runtime|lab|test ..." >&2; exit 2; }

missing=()
# The deploy tests' JavaScript tools (tests/deploy/package.json) need Node.js and npm: the
# machine's own when it has them, else Debian's.
if [ $want_npm -eq 1 ] && ! command -v npm >/dev/null 2>&1; then want+=(nodejs npm); fi
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm ci installs the exact versions of the committed lock file; skipped when that lock file
# is already installed.
npm_test_tools() {
    [ $want_npm -eq 1 ] || return 0
    local dir
    dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/deploy"
    if cmp -s "$dir/package-lock.json" "$dir/node_modules/.soawatch-installed-lock.json"; then
        return 0
    fi
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$dir/node_modules/.soawatch-installed-lock.json"
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#want[@]} packages present"
    npm_test_tools
    exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the servers' own system services on install (where an init system runs):
# the lab runs its own instances on other addresses, so those are not needed.
for svc in named nsd knot unbound prometheus prometheus-blackbox-exporter; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        $sudo systemctl stop "$svc" || true
    fi
done
npm_test_tools
echo "install-deps: done"
