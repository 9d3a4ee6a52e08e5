#!/usr/bin/env bash
# How fast a validator that was down catches up: three validators of four (a quorum) commit a
# load while the fourth is stopped, then the fourth starts and the time until its committed
# height reaches the others' head is taken, as blocks and transactions per second. The network
# rests once the load ends (nothing more to order), so the head it chases stands still.
#
#   benches/catchup.sh --waybill W --loadgen L [--work DIR] -- LOADGEN_ARGS...
#       e.g. -- --rate 5000 --duration 120
#
# The catch-up is the node's certified catch-up (64 blocks an answer, every certificate checked,
# every block executed and stored); state sync would be the answer for far longer gaps. Prints
# one line "catch-up: ..." with the figures. Everything it made is removed on exit.
set -euo pipefail

WAYBILL=""
LOADGEN=""
WORK=""
while [ $# -gt 0 ]; do
    case "$1" in
        --waybill) WAYBILL=$2; shift 2 ;;
        --loadgen) LOADGEN=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$WAYBILL" ] || { echo "give --waybill PATH" >&2; exit 2; }
[ -x "$LOADGEN" ] || { echo "give --loadgen PATH" >&2; exit 2; }
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/waybill-catchup.XXXXXX"); fi

# shellcheck source=benches/stop.sh
source "$(dirname "$0")/stop.sh"
PIDS=()
cleanup() {
    set +e
    stop_all "${PIDS[@]}"
    rm -rf "$WORK"
}
trap cleanup EXIT

rpc() { # url method -> the result as JSON
    curl -s -m 5 -H 'content-type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[]}" "$1"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['result']['$1'])"; }
now() { date +%s.%N; }

"$WAYBILL" testnet --validators 4 --out "$WORK/net" > /dev/null
start() { # i
    (cd "$WORK/net/validator-$1" &&
        WAYBILL_RPC_REQUESTS_PER_SECOND_PER_CLIENT=0 exec "$WAYBILL" run --config config.toml > node.log 2>&1) &
    PIDS+=($!)
}
url() { # the generator picks free ports: read them from the config
    echo "http://$(python3 -c 'import sys,tomllib; print(tomllib.load(open(sys.argv[1],"rb"))["rpc"]["listen"])' \
        "$WORK/net/validator-$1/config.toml")"
}
for i in 0 1 2; do start "$i"; done
for i in 0 1 2; do
    for _ in $(seq 300); do
        [ "$(rpc "$(url "$i")" waybill_status | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["peers"]))' 2>/dev/null || echo 0)" -ge 2 ] && break
        sleep 0.2
    done
done

echo "== load on validators 0-2 while validator-3 is down: loadgen $*"
"$LOADGEN" --rpc "$(url 0),$(url 1),$(url 2)" --pids "${PIDS[0]},${PIDS[1]},${PIDS[2]}" "$@"

head_json=$(rpc "$(url 0)" waybill_head)
height=$(echo "$head_json" | field height)
txs=$(echo "$head_json" | field accumulator_size)
echo "== validator-3 starts; the others rest at height $height with $txs transactions"
t0=$(now)
start 3
listening=""
h=0
while true; do
    h=$(curl -s -m 1 "$(url 3)/ready" | python3 -c 'import json,sys; print(json.load(sys.stdin)["committed_height"])' 2>/dev/null || echo "")
    if [ -n "$h" ] && [ -z "$listening" ]; then listening=$(now); fi
    [ -n "$h" ] && [ "$h" -ge "$height" ] && break
    kill -0 "${PIDS[3]}" 2>/dev/null || { echo "FAIL: validator-3 exited" >&2; tail -20 "$WORK/net/validator-3/node.log" >&2; exit 1; }
    sleep 0.05
done
t1=$(now)
python3 - "$t0" "$listening" "$t1" "$height" "$txs" <<'EOF'
import sys
t0, listening, t1, height, txs = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
total, chase = t1 - t0, t1 - listening
print(f"catch-up: {height} blocks, {txs} transactions in {total:.1f} s from process start "
      f"({listening - t0:.1f} s to answer RPC, {chase:.1f} s catching up): "
      f"{height / chase:,.0f} blocks/s, {txs / chase:,.0f} tx/s")
EOF
