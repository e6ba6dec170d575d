# soawatch lab: delegation faults (sourced by deploy/lab/lab; docs in deploy/lab/README.md).
#
# A parent-only server, "parent" (BIND, LAB_NET.30), serves the lab's parent zone test. (a copy
# of the primary's, with this file's faults applied) and a root zone "." that delegates test. to
# itself, so tools that start from root hints (Zonemaster) find the lab. The primary and ns1 serve
# test. and every lab zone alike: asked "ZONE NS", they answer for the zone itself, never with
# the referral a parent gives, so the delegation check is pointed at this server
# (zones[].parent_nameservers).
#
#   lab delegation-fault ZONE extra-ns|missing-ns|bad-glue|unresolvable-ns|single-ns|split-ns
#   lab delegation-fix ZONE
#   lab parent up|down
#
# Faults edit the parent's copy of test. and, where the fault is in the zone itself, the zone's
# file on the primary (its serial raised, the secondaries notified).

ADDR[parent]=$LAB_NET.30
BIN[parent]=/usr/sbin/named
SOFT[parent]="BIND named"
CONF[parent]=$LAB_DIR/parent/named.conf
DELEGATION_FAULTS=(extra-ns missing-ns bad-glue unresolvable-ns single-ns split-ns)
PARENT_DEAD=$LAB_NET.31  # the address of the extra NS name: nothing listens there

parent_conf() {
    mkdir -p "$LAB_DIR/parent"
    cat >"${CONF[parent]}" <<CONF
// soawatch lab: parent-only server (deploy/lab/delegation.sh); overwritten by the lab.
controls { };
options {
    directory "$LAB_DIR/parent";
    pid-file "$LAB_DIR/parent.pid";
    lock-file "$LAB_DIR/parent/named.lock";
    session-keyfile "$LAB_DIR/parent/session.key";
    managed-keys-directory "$LAB_DIR/parent";
    listen-on port $LAB_PORT { ${ADDR[parent]}; };
    listen-on-v6 { none; };
    server-id "lab-parent";
    recursion no;
    dnssec-validation no;
    empty-zones-enable no;
    version none;
    notify no;
    check-names primary ignore;
};
logging {
    channel lab_log { file "$LAB_DIR/parent.log" versions 2 size 5m; print-time yes; severity info; };
    category default { lab_log; };
    category lame-servers { null; };
};
zone "." { type primary; file "root.zone"; };
zone "test." { type primary; file "test.zone"; };
CONF
}

# The zone files of the parent: the primary's test. with every fault of $STATE/delegation.*
# applied, a new serial each time (so a reload is seen), and the root zone.
parent_zones() {
    local serial line z label f kind out="" skip
    serial=$(( $(cat "$STATE/parent.serial" 2>/dev/null || echo 0) + 1 ))
    echo "$serial" >"$STATE/parent.serial"
    cat >"$LAB_DIR/parent/root.zone" <<ZONE
\$TTL 300
@	IN	SOA	parent.lab.test. hostmaster.lab.test. $serial 3600 600 1209600 300
@	IN	NS	parent.lab.test.
test.	IN	NS	parent.lab.test.
parent.lab.test.	IN	A	${ADDR[parent]}
ZONE
    # The primary's test. zone: its SOA and delegations; its NS replaced by this server.
    declare -A faulty=()
    for f in "$STATE"/delegation.*; do
        [[ -e $f ]] || continue
        z=${f#"$STATE"/delegation.}
        faulty[${z%.test}]=$(<"$f")
    done
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns1\.lab\.test\.$ ]]; then
            out+=$'\tIN\tNS\tparent.lab.test.\n'"parent.lab	IN	A	${ADDR[parent]}"$'\n'
            out+="nsx.lab	IN	A	$PARENT_DEAD"$'\n'
            continue
        fi
        if [[ $line =~ ^[[:space:]]+([0-9]+)\ \;\ serial$ ]]; then line="		$serial ; serial"; fi
        skip=0
        for label in "${!faulty[@]}"; do
            [[ $line == "$label	IN	NS	"* ]] && skip=1
        done
        (( skip )) || out+="$line"$'\n'
    done <"$LAB_DIR/primary/zones/test.zone"
    for label in "${!faulty[@]}"; do
        kind=${faulty[$label]}
        # The zone's own NS set (ns1..ns3, and ns4 where PowerDNS serves the zone), as generated.
        local ns=() n
        while read -r n; do ns+=("$n"); done < <(awk '$1 == "IN" && $2 == "NS" { print $3 }' \
            "$(zone_file "$label.test")" "$STATE/delegation-orig.$label.test" 2>/dev/null | sort -u |
            grep -E '^ns[0-9]\.lab\.test\.$')
        case $kind in
            extra-ns) ns+=(nsx.lab.test.) ;;
            missing-ns) ns=("${ns[@]/ns3.lab.test.}") ;;
            # Glue that differs from the zone's own address (.13): .12.
            bad-glue) ns+=("ns-glue.$label.test."); out+="ns-glue.$label	IN	A	${ADDR[ns2]}"$'\n' ;;
            unresolvable-ns) ns+=(ns-gone.lab.test.) ;;
            single-ns) ns=(ns1.lab.test.) ;;
            split-ns) ns=("${ns[@]/ns2.lab.test.}") ;;
        esac
        for f in "${ns[@]}"; do [[ -n $f ]] && out+="$label	IN	NS	$f"$'\n'; done
    done
    printf '%s' "$out" >"$LAB_DIR/parent/test.zone"
}

parent_serves() {   # SERIAL: the parent answers test. SOA with it
    local got
    got=$(ldig @"${ADDR[parent]}" test. SOA +short 2>/dev/null | awk '{print $3}')
    [[ $got == "$1" ]]
}

parent_reload() {
    local pid i
    parent_zones
    pid=$(main_pid parent) || die "the parent server is not running (lab parent up)"
    kill -HUP "$pid"
    for ((i = 0; i < 100; i++)); do
        parent_serves "$(<"$STATE/parent.serial")" && return 0
        sleep 0.05
    done
    die "the parent did not load its new zones (see $LAB_DIR/parent.log)"
}

parent_up() {
    local a=${ADDR[parent]} i
    need_up
    if [[ $(proc_state parent) == running ]]; then parent_reload; return 0; fi
    if ! addr_present "$a"; then
        (( EUID == 0 )) || die "address $a is not on lo and only root can add it"
        ip addr add "$a/32" dev lo || die "cannot add $a/32 to lo"
        list_add "$LAB_DIR/added-addresses" "$a"
    fi
    parent_conf
    parent_zones
    stop_server parent >/dev/null 2>&1 || true
    echo "---- $(date '+%F %T') lab: starting parent" >>"$LAB_DIR/parent.log"
    named-checkconf "${CONF[parent]}" >>"$LAB_DIR/parent.log" 2>&1 || die "invalid ${CONF[parent]}"
    (cd "$LAB_DIR" && "${BIN[parent]}" -4 -n 1 -c "${CONF[parent]}" </dev/null >>"$LAB_DIR/parent.log" 2>&1 9>&-) ||
        die "the parent did not start (see $LAB_DIR/parent.log)"
    for ((i = 0; i < 150; i++)); do
        main_pid parent >/dev/null && parent_serves "$(<"$STATE/parent.serial")" && return 0
        sleep 0.1
    done
    die "the parent does not answer on $a port $LAB_PORT (see $LAB_DIR/parent.log)"
}

# The zone's own file on the primary: the original kept aside while a fault changes it.
child_edit() {  # ZONE KIND
    local z=$1 f orig NEW WANT
    f=$(zone_file "$z")
    orig=$STATE/delegation-orig.$z
    [[ -e $orig ]] || cp "$f" "$orig"
    case $2 in
        bad-glue) printf '@\tIN\tNS\tns-glue\nns-glue\tIN\tA\t%s\n' "${ADDR[ns3]}" >>"$f" ;;
        unresolvable-ns) printf '@\tIN\tNS\tns-gone.lab.test.\n' >>"$f" ;;
        single-ns|split-ns)
            local keep=ns1 line out=""
            [[ $2 == split-ns ]] && keep="ns1|ns3|ns4"
            while IFS= read -r line; do
                if [[ $line =~ ^[[:space:]]+IN[[:space:]]+NS[[:space:]]+(ns[0-9])\.lab\.test\.$ ]] &&
                   ! [[ ${BASH_REMATCH[1]} =~ ^($keep)$ ]]; then continue; fi
                out+="$line"$'\n'
            done <"$f"
            printf '%s' "$out" >"$f" ;;
        *) return 0 ;;
    esac
    set_file_serial "$f" +1
    WANT=("$z $NEW")
    reload_primary "$z"
}

child_restore() {   # ZONE
    local z=$1 f orig NEW WANT serial
    orig=$STATE/delegation-orig.$z
    [[ -e $orig ]] || return 0
    f=$(zone_file "$z")
    serial=$(file_serial "$f")
    cp "$orig" "$f"
    rm -f "$orig"
    set_file_serial "$f" "$(( (serial + 1) % 4294967296 ))"
    WANT=("$z $NEW")
    reload_primary "$z"
}

cmd_delegation_fault() {
    need_up
    need_zone "${1:-}"
    local kind=${2:-} k ok=0
    for k in "${DELEGATION_FAULTS[@]}"; do [[ $kind == "$k" ]] && ok=1; done
    (( ok )) || die "usage: lab delegation-fault ZONE ${DELEGATION_FAULTS[*]// /|}"
    lock
    load_zones
    [[ -e $STATE/delegation.$ZONE ]] && die "$ZONE has a delegation fault already ($(<"$STATE/delegation.$ZONE")): lab delegation-fix $ZONE first"
    echo "$kind" >"$STATE/delegation.$ZONE"
    parent_up
    # split-ns: ns3 keeps the old NS set (its transfers broken), the others get the new one.
    if [[ $kind == split-ns ]]; then
        touch "$STATE/broken.ns3"
        reconfig_primary
    fi
    child_edit "$ZONE" "$kind"
    [[ $kind == split-ns ]] || wait_sync 30 "" "$ZONE" >/dev/null || die "the secondaries did not get $ZONE"
    echo "delegation fault $kind on $ZONE (parent ${ADDR[parent]}:$LAB_PORT)"
}

cmd_delegation_fix() {
    need_up
    need_zone "${1:-}"
    lock
    load_zones
    local kind=""
    [[ -e $STATE/delegation.$ZONE ]] && kind=$(<"$STATE/delegation.$ZONE")
    rm -f "$STATE/delegation.$ZONE"
    if [[ $kind == split-ns ]]; then
        rm -f "$STATE/broken.ns3"
        reconfig_primary
    fi
    child_restore "$ZONE"
    [[ $(proc_state parent) == running ]] && parent_reload
    [[ $kind == split-ns ]] && catch_up ns3 "$ZONE"
    wait_sync 30 "" "$ZONE" >/dev/null || die "the secondaries did not get $ZONE"
    echo "delegation of $ZONE fixed${kind:+ (was $kind)}"
}

cmd_parent() {
    case ${1:-} in
        up) lock; parent_up; echo "parent up: ${ADDR[parent]}:$LAB_PORT serves . and test." ;;
        down) lock; if stop_server parent; then echo "parent stopped"; else echo "parent was not running"; fi ;;
        *) die "usage: lab parent up|down" ;;
    esac
}

# Hook for lab down and a fresh lab up: the parent stops with the lab.
delegation_stop() { stop_server parent >/dev/null 2>&1; }
