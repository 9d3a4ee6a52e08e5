#!/usr/bin/env bash
# The cluster benchmark over distance: four validators, each in a network namespace of its own
# ("a host"), whose every byte to another validator crosses a relay that delays it; the load
# generator runs on the host and reaches every validator without delay, as clients near their
# own member's node would.
#
#   sudo benches/wan.sh --waybill W --loadgen L --delayproxy P [--delay-ms 25] [--loss-percent 0] [--work DIR] \
#       -- LOADGEN_ARGS...      # e.g. -- --rate 1000 --duration 30 --json wan-1k.json
#
# --delay-ms is one way: 25 makes a 50 ms round trip between any two validators; 0 relays
# without delay (the same topology, to compare with). --loss-percent stands in for packet loss:
# a chunk with a lost segment, and the stream behind it, arrives an RTO (200 ms) late, which is
# what TCP's retransmission makes of a loss (see delayproxy). Why a relay and not `tc netem`: this
# machine's kernel has no netem (nor fq). Each namespace is joined to the host by a veth pair
# of its own and the host does not forward between them (ip_forward stays 0), so a validator
# reaches another only through `delayproxy` (P, a binary of the benches crate) on the host: one
# relay port per ordered pair, named in the validator's `[network] peers`. The genesis's own
# addresses (127.0.0.1) lead nowhere inside a namespace. Everything made (namespaces, links,
# processes, the work directory) is removed on exit. Exits 77 where it cannot run.
set -euo pipefail

WAYBILL=""
LOADGEN=""
PROXY=""
DELAY_MS=25
LOSS=0
WORK=""
while [ $# -gt 0 ]; do
    case "$1" in
        --waybill) WAYBILL=$2; shift 2 ;;
        --loadgen) LOADGEN=$2; shift 2 ;;
        --delayproxy) PROXY=$2; shift 2 ;;
        --delay-ms) DELAY_MS=$2; shift 2 ;;
        --loss-percent) LOSS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

skip() { echo "SKIP: wan.sh: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to make network namespaces"
command -v ip >/dev/null || skip "no 'ip' command (install iproute2)"
[ -x "$WAYBILL" ] || skip "no waybill binary (give --waybill PATH)"
[ -x "$LOADGEN" ] || skip "no loadgen binary (give --loadgen PATH)"
[ -x "$PROXY" ] || skip "no delayproxy binary (give --delayproxy PATH)"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] ||
    skip "the host forwards IPv4 (net.ipv4.ip_forward=1): validators could bypass the relays"

N=4
TAG=$(printf '%04x' $(( ($$ ^ RANDOM) & 0xffff )))
NET="10.$(( 100 + RANDOM % 100 ))"
ns() { echo "wb${TAG}n$1"; }
host_side() { echo "$NET.$1.1"; } # the host's end of validator $1's link
addr() { echo "$NET.$1.2"; }      # validator $1
p2p_port() { echo $(( 26600 + 3 * $1 )); }
rpc_port() { echo $(( 26601 + 3 * $1 )); }
relay_port() { echo $(( 27000 + 10 * $1 + $2 )); } # from validator $1 to validator $2
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/waybill-wan.XXXXXX"); fi
mkdir -p "$WORK"

# shellcheck source=benches/stop.sh
source "$(dirname "$0")/stop.sh"
PIDS=()
cleanup() {
    set +e
    stop_all "${PIDS[@]}"
    for i in $(seq 0 $((N - 1))); do ip netns del "$(ns "$i")" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== $N namespaces on $NET.0.0/16, one link each to the host; ${DELAY_MS} ms one way between validators, ${LOSS} % of segments lost"
for i in $(seq 0 $((N - 1))); do
    n=$(ns "$i")
    ip netns add "$n"
    ip link add "wb${TAG}h$i" type veth peer name eth0 netns "$n"
    ip addr add "$(host_side "$i")/24" dev "wb${TAG}h$i"
    ip link set "wb${TAG}h$i" up
    ip -n "$n" addr add "$(addr "$i")/24" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$n" link set lo up
done

routes=()
for i in $(seq 0 $((N - 1))); do
    for j in $(seq 0 $((N - 1))); do
        [ "$i" = "$j" ] && continue
        routes+=("$(host_side "$i"):$(relay_port "$i" "$j")=$(addr "$j"):$(p2p_port "$j")")
    done
done
"$PROXY" --delay-ms "$DELAY_MS" --loss-percent "$LOSS" "${routes[@]}" 2> "$WORK/delayproxy.log" &
PIDS+=($!)

echo "== generating a $N-validator network in $WORK"
"$WAYBILL" testnet --validators "$N" --out "$WORK/net" --base-port 26600 > /dev/null
peer_ids=($(grep -A4 '^\[\[validators\]\]' "$WORK/net/genesis.toml" | sed -n 's/^peer_id = "\(.*\)"/\1/p'))
[ "${#peer_ids[@]}" = "$N" ] || { echo "FAIL: found ${#peer_ids[@]} peer ids in the genesis" >&2; exit 1; }

urls=()
for i in $(seq 0 $((N - 1))); do
    peers=()
    for j in $(seq 0 $((N - 1))); do
        [ "$j" = "$i" ] && continue
        peers+=("\"/ip4/$(host_side "$i")/tcp/$(relay_port "$i" "$j")/p2p/${peer_ids[$j]}\"")
    done
    list=$(IFS=,; echo "${peers[*]}")
    dir="$WORK/net/validator-$i"
    (cd "$dir" && exec ip netns exec "$(ns "$i")" env \
        WAYBILL_NETWORK_LISTEN="/ip4/0.0.0.0/tcp/$(p2p_port "$i")" \
        WAYBILL_NETWORK_PEERS="[$list]" \
        WAYBILL_RPC_LISTEN="$(addr "$i"):$(rpc_port "$i")" \
        WAYBILL_RPC_REQUESTS_PER_SECOND_PER_CLIENT=0 \
        "$WAYBILL" run --config config.toml > node.log 2>&1) &
    PIDS+=($!)
    urls+=("http://$(addr "$i"):$(rpc_port "$i")")
done

echo "== waiting for every validator to see its $((N - 1)) peers"
for u in "${urls[@]}"; do
    peers=0
    for _ in $(seq 600); do
        peers=$(curl -s -m 1 -H 'content-type: application/json' \
            -d '{"jsonrpc":"2.0","id":1,"method":"waybill_status","params":[]}' "$u" |
            python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["peers"]))' 2>/dev/null || echo 0)
        [ "$peers" -ge $((N - 1)) ] && break
        sleep 0.1
    done
    [ "$peers" -ge $((N - 1)) ] || { echo "FAIL: $u has $peers peers" >&2; tail -n 20 "$WORK"/net/validator-*/node.log >&2; exit 1; }
done

echo "== loadgen $*"
# `ip netns exec` execs the node, so the subshells' pids are the validators'.
"$LOADGEN" --rpc "$(IFS=,; echo "${urls[*]}")" --pids "$(IFS=,; echo "${PIDS[*]:1}")" "$@"
