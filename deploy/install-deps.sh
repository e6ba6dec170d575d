#!/usr/bin/env bash
# Installs what soawatch needs from Debian 12's archive (nothing else is downloaded).
#   deploy/install-deps.sh build     compilers and -dev libraries (the container's build stage)
#   deploy/install-deps.sh runtime   shared libraries the binary needs (the container's runtime stage)
#   deploy/install-deps.sh lab       the DNS servers of the loopback lab and their tools
#   deploy/install-deps.sh test      build + lab + the real counterparts the tests start
# Several groups may be given. Packages already installed are skipped, so a second run is quick.
set -euo pipefail

build_pkgs=(g++ cmake make pkg-config libc-ares-dev libcurl4-openssl-dev nlohmann-json3-dev
    prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev catch2)
runtime_pkgs=(libc-ares2 libcurl4 libprometheus-cpp-core1.0 libcivetweb1 libyaml-cpp0.7 ca-certificates)
lab_pkgs=(bind9 bind9-dnsutils nsd knot knot-dnsutils iproute2 procps)
test_pkgs=(python3 prometheus chromium dnsperf prometheus-blackbox-exporter curl)

want=()
for group in "$@"; do
    case "$group" in
        build) want+=("${build_pkgs[@]}") ;;
        runtime) want+=("${runtime_pkgs[@]}") ;;
        lab) want+=("${lab_pkgs[@]}") ;;
        test) want+=("${build_pkgs[@]}" "${lab_pkgs[@]}" "${test_pkgs[@]}") ;;
        *) echo "install-deps: unknown group '$group' (build, runtime, lab, test)" >&2; exit 2 ;;
    esac
done
[ ${#want[@]} -gt 0 ] || { echo "usage: $0 build|runtime|lab|test ..." >&2; exit 2; }

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#want[@]} packages present"
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
for svc in named nsd knot prometheus prometheus-blackbox-exporter; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        $sudo systemctl stop "$svc" || true
    fi
done
echo "install-deps: done"
