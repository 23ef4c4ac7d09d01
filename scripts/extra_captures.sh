#!/usr/bin/env bash
# Make more real-kernel captures than shared/captures/lab holds, aimed at what is
# hard to get right: loss, reordering and duplication in BOTH directions of an
# interactive conversation (monologue boundaries then depend on delivery order),
# capture on the server side, mid-stream pick-up under loss, port reuse ended by
# RST, half-close under loss, many short connections under loss.
#
# It reuses shared/tools/gen_captures.sh as a library (namespaces, tapwire,
# tcpdump) and writes <name>.pcap plus <name>.oracle.json (tshark's reference)
# into OUTDIR.  Needs root and the packages gen_captures.sh lists.  Then:
#   scripts/conformance OUTDIR
#
# Usage: scripts/extra_captures.sh OUTDIR [SEED]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [SEED]" >&2; exit 2; }
SHARED_TOOLS="$(cd "$(dirname "$0")/../../shared/tools" 2>/dev/null && pwd)" \
    || { echo "shared/tools not found beside the repository" >&2; exit 2; }
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
SEED=${2:-1}

GEN_CAPTURES_LIB=1 . "$SHARED_TOOLS/gen_captures.sh"

impaired_wire() {   # impaired_wire DIRECTIONS LOSS REORDER DUP
    # shellcheck disable=SC2086
    setup_wire --impair "$1" --loss "$2" --reorder "$3" --dup "$4" --delay-ms 5 --seed "$SEED"
}

scn_chatter_lossy_client() {   # a chatter with loss/reorder/dup both ways, captured at the client
    impaired_wire both 0.03 0.25 0.02
    cap_start $NS_C $IF_C "$OUT/chatter_lossy_client.pcap"
    local sched="random:turns=120,min=2,max=4000,burst=0.2,burstmax=4,first=c,seed=$((SEED + 100))"
    tcpapp_pair 7600 "--schedule $sched --msg-gap-ms 2 --close c-first" \
                     "--schedule $sched --msg-gap-ms 2 --close c-first"
    cap_stop
}

scn_chatter_lossy_server() {   # the same, captured at the server (the other side of the loss)
    impaired_wire both 0.03 0.25 0.02
    cap_start $NS_S $IF_S "$OUT/chatter_lossy_server.pcap"
    local sched="random:turns=120,min=2,max=4000,burst=0.2,burstmax=4,first=s,seed=$((SEED + 200))"
    tcpapp_pair 7601 "--schedule $sched --msg-gap-ms 2 --close s-first" \
                     "--schedule $sched --msg-gap-ms 2 --close s-first"
    cap_stop
}

scn_bulk_both_ways() {         # large messages each way in turn, with loss both ways
    impaired_wire both 0.02 0.3 0.01
    cap_start $NS_C $IF_C "$OUT/bulk_both_ways.pcap"
    local sched="c:300000,s:400000,c:250000+1000,s:200000,c:50"
    tcpapp_pair 7602 "--schedule $sched --payload binary --seed $SEED --close c-first" \
                     "--schedule $sched --payload binary --seed $SEED --close c-first"
    cap_stop
}

scn_midstream_lossy() {        # picked up mid-conversation, with loss both ways
    impaired_wire both 0.03 0.2 0.01
    local sched="random:turns=150,min=5,max=3000,burst=0.15,burstmax=3,first=c,seed=$((SEED + 300))"
    local ready="$WORK/srv.7603.ready"; rm -f "$ready"
    bg $NS_S timeout 60 "$PY" "$TRAFFIC/tcpapp.py" server --port 7603 --ready-file "$ready" \
        --schedule "$sched" --turn-gap-ms 20 --close c-first --log "$WORK/app.log"
    wait_file "$ready"
    bg $NS_C timeout 60 "$PY" "$TRAFFIC/tcpapp.py" client --host $S4 --port 7603 \
        --schedule "$sched" --turn-gap-ms 20 --close c-first --log "$WORK/app.log"
    local cpid=$!
    sleep 1
    cap_start $NS_C $IF_C "$OUT/midstream_lossy.pcap"
    sleep 2
    cap_stop 0
    wait "$cpid" 2>/dev/null || true
}

scn_reuse_rst() {              # three connections on one 4-tuple, each ended by the client's RST
    setup_veth
    cap_start $NS_C $IF_C "$OUT/reuse_rst.pcap"
    local sched="random:turns=5,min=10,max=2000,first=c,seed=$((SEED + 400))"
    tcpapp_pair 7604 "--schedule $sched --conns 3 --close c-rst" \
                     "--schedule $sched --conns 3 --conn-gap-ms 200 --sport 40001 --close c-rst"
    cap_stop
}

scn_halfclose_lossy() {        # half-close while the server keeps sending, under loss
    impaired_wire both 0.03 0.2 0.02
    cap_start $NS_C $IF_C "$OUT/halfclose_lossy.pcap"
    local sched="c:3000,s:8000,c:500,s:20000+20000+20000"
    tcpapp_pair 7605 "--schedule $sched --msg-gap-ms 10 --close c-halfclose" \
                     "--schedule $sched --msg-gap-ms 10 --close c-halfclose"
    cap_stop
}

scn_many_lossy() {             # 25 short connections one after another, with loss
    impaired_wire both 0.04 0.2 0.02
    cap_start $NS_C $IF_C "$OUT/many_lossy.pcap"
    local sched="random:turns=4,min=20,max=6000,first=c,seed=$((SEED + 500))"
    tcpapp_pair 7606 "--schedule $sched --conns 25 --close s-first" \
                     "--schedule $sched --conns 25 --conn-gap-ms 20 --close s-first"
    cap_stop
}

EXTRA_SCENARIOS="chatter_lossy_client chatter_lossy_server bulk_both_ways midstream_lossy reuse_rst halfclose_lossy many_lossy"

gen_init
for s in ${EXTRA:-$EXTRA_SCENARIOS}; do
    log "scenario $s"
    "scn_$s" || log "scenario $s failed"
    ns_teardown
done
run_oracles "$OUT"
ls -l "$OUT" >&2
