#!/usr/bin/env bash
# Bytes a 4-validator network writes while idle. Usage: idle_writes.sh WAYBILL BASE_PORT OUT SECONDS
# Starts the network, commits a few memos, lets it settle 30 s, then reads each validator's
# /proc/PID/io write_bytes (bytes this process caused to be sent to the storage layer), the
# committed height and the round timeouts before and after SECONDS of idleness.
set -euo pipefail
W=$1; BASE=$2; OUT=$3; SECS=$4
rm -rf "$OUT"; "$W" testnet --validators 4 --out "$OUT" --base-port "$BASE" >/dev/null
pids=()
for i in 0 1 2 3; do
  "$W" run --config "$OUT/validator-$i/config.toml" > "$OUT/v$i.log" 2>&1 &
  pids+=($!)
done
trap 'kill ${pids[*]} 2>/dev/null || true' EXIT
rpc="http://127.0.0.1:$((BASE+1))"; met="http://127.0.0.1:$((BASE+2))/metrics"
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$((BASE+2))/ready" >/dev/null && break; sleep 1; done
key=$(ls "$OUT"/clients/*.key | head -1)
for k in 1 2 3 4 5; do "$W" tx memo --rpc "$rpc" --key "$key" --text "burst $k" >/dev/null; done
sleep 30
snap() {
  for i in 0 1 2 3; do
    m="http://127.0.0.1:$((BASE+2+3*i))/metrics"
    wb=$(awk '/^write_bytes/{print $2}' /proc/${pids[$i]}/io)
    h=$(curl -s "$m" | awk '/^waybill_committed_height /{print $2}')
    t=$(curl -s "$m" | awk '/^waybill_round_timeouts_total /{print $2}')
    echo "$i $wb $h $t"
  done
}
snap > "$OUT/before"; sleep "$SECS"; snap > "$OUT/after"
paste "$OUT/before" "$OUT/after" | awk -v s="$SECS" '{dw=$6-$2; printf "validator-%d: %d bytes written in %d s (%.0f per hour), height %s -> %s, timeouts %s -> %s\n", $1, dw, s, dw*3600/s, $3, $7, $4, $8}'
