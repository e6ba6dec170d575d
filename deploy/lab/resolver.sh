# soawatch lab: the recursive resolver the agent discovers through. Sourced by deploy/lab/lab
# (after its server tables); see deploy/lab/README.md, "The resolver".
#
# Two modes, chosen at `lab up` and kept in $STATE/resolver-mode:
#   unbound        Unbound on $LAB_NET.53:$LAB_PORT resolves from a lab root (NSD on
#                  $LAB_NET.5, serving . and test.) and follows real referrals to port 53 of
#                  the lab's servers, which then also listen there. Needs root (port 53) and the
#                  unbound package.
#   authoritative  the old way: the primary, which serves test. and every zone, answers the
#                  agent's lookups itself (no referral, no cache). For runs without root or
#                  without unbound.
# LAB_RESOLVER_MODE=auto (default) | unbound | authoritative chooses.
#
# (ADDR, BIN, SOFT, CONF are deploy/lab/lab's associative arrays; cmd and SYNCED are the
# variables its start_server and wait_sync share with their callers.)
# shellcheck shell=bash disable=SC2154,SC2034

# Not .20 and up: tests put servers of their own there (a forwarder, a silent server).
ADDR[root]=$LAB_NET.5
ADDR[resolver]=$LAB_NET.53
BIN[root]=/usr/sbin/nsd
BIN[resolver]=/usr/sbin/unbound
SOFT[root]="NSD (lab root)"
SOFT[resolver]="Unbound"
CONF[root]=$LAB_DIR/root/nsd.conf
CONF[resolver]=$LAB_DIR/resolver/unbound.conf

# The mode this `lab up` should run in.
resolver_mode_wanted() {
    case ${LAB_RESOLVER_MODE:-auto} in
        authoritative) echo authoritative ;;
        unbound)
            (( EUID == 0 )) || die "LAB_RESOLVER_MODE=unbound needs root (the lab's servers listen on port 53)"
            [[ -x ${BIN[resolver]} && -x ${BIN[root]} ]] || die "LAB_RESOLVER_MODE=unbound needs unbound and nsd installed"
            echo unbound ;;
        auto)
            if (( EUID == 0 )) && [[ -x ${BIN[resolver]} && -x ${BIN[root]} ]]; then echo unbound
            else echo authoritative; fi ;;
        *) die "LAB_RESOLVER_MODE '${LAB_RESOLVER_MODE}' must be auto, unbound or authoritative" ;;
    esac
}
# The mode the lab was generated in.
resolver_mode() { if [[ -r $STATE/resolver-mode ]]; then cat "$STATE/resolver-mode"; else echo authoritative; fi; }
uses_unbound() { [[ $(resolver_mode) == unbound ]]; }
resolver_address() {
    if uses_unbound; then echo "${ADDR[resolver]}:$LAB_PORT"; else echo "${ADDR[primary]}:$LAB_PORT"; fi
}

# The line that makes a server of software KIND also answer on port 53 of ADDR, where a
# resolver following a delegation asks (a delegation carries no port). Empty in authoritative
# mode. Each server template has one placeholder for it.
port53_listen() {       # KIND(named|nsd|knot|pdns) ADDR
    uses_unbound || return 0
    case $1 in
        named) printf 'listen-on port 53 { %s; };' "$2" ;;
        nsd) printf 'ip-address: %s@53' "$2" ;;
        knot) printf ', %s@53' "$2" ;;           # appended to the listen list
        pdns) printf ', %s:53' "$2" ;;           # appended to local-address
        *) die "internal: port53_listen: unknown server kind '$1'" ;;
    esac
}

# test.'s extra NS record in unbound mode: the lab root serves test. too.
root_ns_record() { uses_unbound && printf '\tIN\tNS\troot.lab.'; return 0; }

# Writes the mode (before the servers' configs, which read it), then in unbound mode the root
# zone, the root server's and Unbound's configs and the root hints.
resolver_generate_mode() { resolver_mode_wanted >"$STATE/resolver-mode"; }
resolver_generate() {
    uses_unbound || return 0
    mkdir -p "$LAB_DIR/root/tmp" "$LAB_DIR/resolver"
    common_vars
    render root.zone.in "$LAB_DIR/root/root.zone" "ROOT=${ADDR[root]}" "NS1=${ADDR[ns1]}"
    render nsd-root.conf.in "${CONF[root]}" "${COMMON[@]}" "ADDR=${ADDR[root]}"
    render unbound.conf.in "${CONF[resolver]}" "${COMMON[@]}" "ADDR=${ADDR[resolver]}"
    printf '.\t3600000\tNS\troot.lab.\nroot.lab.\t3600000\tA\t%s\n' "${ADDR[root]}" \
        >"$LAB_DIR/resolver/root.hints"
}

# For start_server and check_conf in deploy/lab/lab.
resolver_command() {    # SERVER: sets cmd
    uses_unbound || die "this lab runs without a resolver of its own (LAB_RESOLVER_MODE: $(resolver_mode)); lab up with root and unbound installed"
    cmd=("${BIN[$1]}" -c "${CONF[$1]}")
}
resolver_check_conf() {
    case $1 in
        root) nsd-checkconf "${CONF[root]}" ;;
        resolver) unbound-checkconf "${CONF[resolver]}" ;;
    esac
}

# After the servers: the root, then Unbound; then one lookup through it, so a lab that is up
# resolves.
resolver_start_all() {
    uses_unbound || return 0
    start_server root
    start_server resolver
    local z=${ZONES[0]} i out=
    for ((i = 0; i < 50; i++)); do
        out=$(dig +tries=1 +timeout=1 +short -p "$LAB_PORT" @"${ADDR[resolver]}" "$z." NS 2>/dev/null) || true
        [[ $out == *ns1.lab.test.* ]] && return 0
        sleep 0.1
    done
    warn "the resolver ${ADDR[resolver]}:$LAB_PORT does not resolve $z NS (got '${out//$'\n'/ }'): see $LAB_DIR/resolver.log"
    log_hint resolver
    exit 1
}
resolver_stop_all() {   # prints what it stopped
    local s
    for s in resolver root; do stop_server "$s" && echo "$s"; done
    return 0
}
# A running lab is reusable only in the mode asked for, with its resolver running and every
# zone delegated as generated.
resolver_clean() {
    [[ $(resolver_mode_wanted) == "$(resolver_mode)" ]] || return 1
    [[ ! -s $STATE/delegated ]] || return 1
    uses_unbound || return 0
    [[ $(proc_state root) == running && $(proc_state resolver) == running ]]
}

resolver_status() {
    local s pid
    [[ -s $STATE/delegated ]] && echo "delegation changed (lab delegate): $(paste -sd, "$STATE/delegated")"
    if ! uses_unbound; then
        echo "resolver (authoritative mode: the primary ${ADDR[primary]}:$LAB_PORT answers lookups)"
        return 0
    fi
    for s in root resolver; do
        pid=$(main_pid "$s" || echo -)
        printf '%-7s %-9s %s:%s%s pid %s %s\n' "$s" "${SOFT[$s]%% *}" "${ADDR[$s]}" "$LAB_PORT" \
            "$([[ $s == root ]] && echo ",:53")" "$pid" "$(proc_state "$s")"
    done
}

resolver_env() {
    printf 'LAB_RESOLVER=%q\n' "$(resolver_address)"
    printf 'LAB_RESOLVER_MODE=%q\n' "$(resolver_mode)"
    if uses_unbound; then printf 'LAB_ROOT=%q\n' "${ADDR[root]}"; else echo "LAB_ROOT="; fi
}

# ---------------------------------------------------------------- lab delegate
# Rewrites the NS records of ZONE: its delegation in the parent test. (on the primary, ns1
# and the lab root) and, unless --parent-only, its own apex NS set (on the primary, then the
# secondaries by NOTIFY), the two steps of a real change of nameservers. "dead" is
# dead.lab.test., an address where nothing answers.
ns_name_of() {          # SERVER -> its NS name
    case $1 in
        dead) echo dead.lab.test. ;;
        *) is_secondary "$1" || die "delegate: '$1' is not a secondary or dead"; echo "$1.lab.test." ;;
    esac
}

cmd_delegate() {
    local parent_only=0 args=() a
    for a in "$@"; do
        case $a in --parent-only) parent_only=1 ;; -*) die "delegate: unknown option '$a'" ;; *) args+=("$a") ;; esac
    done
    set -- "${args[@]}"
    need_up
    need_zone "${1:-}"
    shift
    (( $# )) || die "usage: lab delegate [--parent-only] ZONE SERVER... (SERVER: a secondary or dead)"
    local names=() s
    for s in "$@"; do names+=("$(ns_name_of "$s")"); done
    lock
    [[ $(proc_state primary) == running ]] || die "the primary is $(proc_state primary): cannot change the delegation"
    local parent label=${ZONE%.test} tmp NEW WANT=() zs=(test)
    parent=$(zone_file test)
    tmp=$(mktemp "$LAB_DIR/tmp/deleg.XXXXXX")
    # The parent: this zone's NS lines replaced (their place does not matter: each has an owner).
    awk -v l="$label" '!($1 == l && $2 == "IN" && $3 == "NS")' "$parent" >"$tmp"
    for a in "${names[@]}"; do printf '%s\tIN\tNS\t%s\n' "$label" "$a" >>"$tmp"; done
    if [[ " ${names[*]} " == *" dead.lab.test. "* ]] && ! grep -q '^dead\.lab[[:space:]]' "$tmp"; then
        printf 'dead.lab\tIN\tA\t%s\n' "$DEAD" >>"$tmp"
    fi
    cat "$tmp" >"$parent"
    set_file_serial "$parent" +1
    WANT+=("test $NEW")
    if (( ! parent_only )); then
        # The child's apex NS lines have no owner (they follow the SOA): replaced in place.
        local child
        child=$(zone_file "$ZONE")
        awk -v set="$(printf '\tIN\tNS\t%s\n' "${names[@]}")" '
            /^[[:space:]]+IN[[:space:]]+NS[[:space:]]/ { if (!done) { print set; done = 1 } ; next }
            { print }' "$child" >"$tmp"
        cat "$tmp" >"$child"
        set_file_serial "$child" +1
        WANT+=("$ZONE $NEW")
        zs+=("$ZONE")
    fi
    rm -f "$tmp"
    # Zones whose NS records differ from what `up` generated (a reused lab must not have any).
    local generated=() x
    for x in "${SECONDARIES[@]}"; do carries "$x" "$ZONE" && generated+=("$x.lab.test."); done
    if (( ! parent_only )) && [[ "${names[*]}" == "${generated[*]}" ]]; then
        list_del "$STATE/delegated" "$ZONE"
    else
        list_add "$STATE/delegated" "$ZONE"
    fi
    reload_primary "${zs[@]}"
    if uses_unbound; then
        nsd-control -c "${CONF[root]}" reload test. >/dev/null || die "nsd-control reload test. of the lab root failed (see $LAB_DIR/root.log)"
        local i want=${WANT[0]#* }
        for ((i = 0; i < 100; i++)); do
            probe "${ADDR[root]}" test
            [[ $SERIAL == "$want" ]] && break
            sleep 0.05
        done
        [[ $SERIAL == "$want" ]] || die "the lab root does not serve test. serial $want (see $LAB_DIR/root.log)"
    fi
    load_zones
    local SYNCED=()
    wait_sync 30 "" "${zs[@]}" || die "the secondaries did not get the new NS records"
    echo "$ZONE: delegation$( (( parent_only )) || echo " and apex NS set") now ${names[*]}"
}
