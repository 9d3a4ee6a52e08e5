#!/usr/bin/env python3
"""Prints the last `cargo bench -p waybill-benches` run as the Markdown tables of BENCHMARKS.md.

Reads criterion's estimates under $CARGO_TARGET_DIR/criterion (default
$HOME/.cache/waybill-target/criterion). Every figure is criterion's median with its 95 % confidence
interval; the derived ratios are computed from the same run.

    python3 benches/summarize.py
"""

import json
import os
import sys
from pathlib import Path

target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/waybill-target"))
root = target / "criterion"

# Benchmark ids in table order: (group, function, parameter or None).
ORDER = [
    ("crypto", "sign", None),
    ("crypto", "verify", None),
    ("crypto", "verify_tx", None),
    ("crypto_batch", "verify_batch", "64"),
    ("crypto_batch", "verify_transactions", "64"),
    ("crypto_batch", "verify_batch", "512"),
    ("crypto_batch", "verify_transactions", "512"),
    ("accumulator", "append", "1"),
    ("accumulator", "append", "500"),
    ("accumulator", "root", None),
    ("accumulator", "inclusion_build", None),
    ("accumulator", "inclusion_verify", None),
    ("accumulator", "consistency_build", None),
    ("accumulator", "consistency_verify", None),
    ("storage", "commit_block", "1"),
    ("storage", "commit_block", "500"),
    ("consensus", "replica_vote", "0"),
    ("consensus", "replica_vote", "500"),
    ("consensus", "leader_round", "0"),
    ("consensus", "leader_round", "500"),
]


def load(group, function, param):
    d = root / group / function
    if param is not None:
        d = d / param
    try:
        est = json.loads((d / "new" / "estimates.json").read_text())
        meta = json.loads((d / "new" / "benchmark.json").read_text())
    except FileNotFoundError:
        return None
    med = est["median"]
    elements = (meta.get("throughput") or {}).get("Elements") or 1
    return {
        "ns": med["point_estimate"],
        "lo": med["confidence_interval"]["lower_bound"],
        "hi": med["confidence_interval"]["upper_bound"],
        "elements": elements,
    }


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(per_s):
    if per_s >= 1e6:
        return f"{per_s / 1e6:.3g} M/s"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.3g} k/s"
    return f"{per_s:.3g} /s"


results = {}
print("| benchmark | median | 95 % CI | per element | elements/s |")
print("|---|---|---|---|---|")
for key in ORDER:
    r = load(*key)
    if r is None:
        print(f"missing: {key}", file=sys.stderr)
        continue
    results[key] = r
    name = "/".join(k for k in key if k is not None)
    per = r["ns"] / r["elements"]
    print(
        f"| `{name}` | {fmt_ns(r['ns'])} | {fmt_ns(r['lo'])} – {fmt_ns(r['hi'])} "
        f"| {fmt_ns(per)} | {fmt_rate(1e9 / per)} |"
    )


def per_element(key):
    r = results[key]
    return r["ns"] / r["elements"]


cores = os.cpu_count() or 1
print()
print("| derived (same run) | value |")
print("|---|---|")
try:
    single = per_element(("crypto", "verify", None))
    single_tx = per_element(("crypto", "verify_tx", None))
    for n in ("64", "512"):
        b = per_element(("crypto_batch", "verify_batch", n))
        t = per_element(("crypto_batch", "verify_transactions", n))
        print(f"| batch speedup per signature, `verify` / `verify_batch/{n}` | {single / b:.2f}x |")
        print(f"| batch speedup per transaction, `verify_tx` / `verify_transactions/{n}` | {single_tx / t:.2f}x |")
    rate = 1e9 / per_element(("crypto_batch", "verify_transactions", "512"))
    print(f"| batch-verify rate, one core (`verify_transactions/512`) | {rate:,.0f} tx/s |")
    print(
        f"| signature-verification bound, 4 validators on this box = {cores} cores x rate / 4 "
        f"| {cores * rate / 4:,.0f} tx/s |"
    )
    sign = 1e9 / per_element(("crypto", "sign", None))
    print(f"| signing rate, one core (what a load generator can produce) | {sign:,.0f} tx/s |")
    c1 = results[("storage", "commit_block", "1")]["ns"]
    c500 = results[("storage", "commit_block", "500")]["ns"]
    print(f"| commit of a 500-tx block / a 1-tx block | {c500 / c1:.2f}x |")
    print(f"| store commit rate in 500-tx blocks (one writer) | {500e9 / c500:,.0f} tx/s |")
    print(f"| store commits per second, 1-tx blocks (fsync-bound) | {1e9 / c1:,.0f} blocks/s |")
    v500 = per_element(("crypto_batch", "verify_transactions", "512")) * 500
    print(
        f"| batch-verifying 500 tx / committing a 500-tx block "
        f"| {v500 / c500:.2f}x |"
    )
    l0 = results[("consensus", "leader_round", "0")]["ns"]
    l500 = results[("consensus", "leader_round", "500")]["ns"]
    print(f"| consensus leader round, 500-tx / empty block | {l500 / l0:.2f}x |")
except KeyError as e:
    print(f"(missing benchmark for derived figures: {e})", file=sys.stderr)
