#!/usr/bin/env python3
"""An independent Waybill proof verifier, written from docs/PROOFS.md (and SIGNING.md for the
transaction bytes) alone, to check that the specification is complete.

    pip install blake3 pynacl
    python3 docs/proofs/verify.py docs/proofs/genesis.toml docs/proofs/*.json

Prints each check; exits 0 only if every proof passes every check. Transactions are encoded for
the payload kinds the examples use (memo, commission, observe, aggregate, disaggregate) and the
transfer actions (whose accepts are the contents events of a history); any other kind fails its
check as unsupported rather than pass unchecked.
"""
import json
import sys
import tomllib

import blake3
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey


def H(b):
    return blake3.blake3(b).digest()


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(x):
    b = x.encode()
    return uleb(len(b)) + b


def u32(n):
    return n.to_bytes(4, "little")


def u64(n):
    return n.to_bytes(8, "little")


def opt(v, enc):
    return b"\x00" if v is None else b"\x01" + enc(v)


def vec(xs, enc):
    return uleb(len(xs)) + b"".join(enc(x) for x in xs)


def tagged(tag, body):
    return s(tag) + body


def canon_json(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def props(p):
    items = sorted(((s(k), s(canon_json(v))) for k, v in p.items()), key=lambda kv: kv[0])
    return uleb(len(items)) + b"".join(k + v for k, v in items)


def payload(p):
    (kind, a), = p.items()
    if kind == "memo":
        return uleb(0) + uleb(len(bytes.fromhex(a["data"]))) + bytes.fromhex(a["data"])
    if kind == "commission":
        return uleb(4) + s(a["item_id"]) + s(a["item_type"]) + props(a.get("properties", {})) + opt(a.get("location"), s)
    if kind == "observe":
        def reading(r):
            return s(r["kind"]) + s(canon_json(r["value"])) + opt(r.get("unit"), s)
        return uleb(5) + s(a["item_id"]) + u64(a["time_ms"]) + opt(a.get("location"), s) + vec(a.get("readings", []), reading)
    if kind in ("aggregate", "disaggregate"):
        return uleb(10 if kind == "aggregate" else 11) + s(a["container_id"]) + vec(a["children"], s)
    transfers = {"propose_transfer": 6, "accept_transfer": 7, "reject_transfer": 8, "cancel_transfer": 9}
    if kind in transfers:
        body = uleb(transfers[kind]) + s(a["item_id"]) + uleb({"custody": 0, "ownership": 1}[a["kind"]])
        return body + (s(a["to_organization"]) if kind == "propose_transfer" else b"")
    raise ValueError(f"payload kind {kind} not supported by this verifier")


def tx_signing_bytes(tx):
    body = s(tx["chain_id"]) + bytes.fromhex(tx["signer"]) + u64(tx["sequence"]) + payload(tx["payload"])
    return tagged("waybill/tx/v1", body)


def named_items(p):
    (kind, a), = p.items()
    if kind in ("aggregate", "disaggregate"):
        return [a["container_id"]] + a["children"]
    if kind == "transform":
        return a["inputs"] + [o["item_id"] for o in a["outputs"]]
    return [a["item_id"]] if "item_id" in a else []


def receipt_hash(r):
    st = r["status"]
    status = b"\x00" if st == "success" else b"\x01" + s(st["failed"]["code"]) + s(st["failed"]["message"])
    body = bytes.fromhex(r["tx_hash"]) + u64(r["height"]) + u32(r["index_in_block"]) + u64(r["ledger_index"]) + status
    return H(tagged("waybill/receipt/v1", body))


def leaf_hash(tx_hash, r_hash):
    return H(b"\x00" + tagged("waybill/tx-leaf/v1", tx_hash + r_hash))


def node(l, r):
    return H(b"\x01" + l + r)


def verify_inclusion(leaf, index, size, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, old_root, new_root, path):
    if not 0 < m <= n:
        return False
    if m == n:
        return not path and old_root == new_root
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [old_root] + path
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def smt_key_hash(k):
    return H(tagged("waybill/smt-key/v1", uleb(len(k)) + k))


def smt_value_hash(v):
    return H(tagged("waybill/smt-value/v1", uleb(len(v)) + v))


def smt_leaf(kh, vh):
    return H(tagged("waybill/smt-leaf/v1", kh + vh))


def smt_node(l, r):
    return H(tagged("waybill/smt-node/v1", l + r))


def bit(h, i):
    return (h[i // 8] >> (7 - i % 8)) & 1


def verify_smt(proof, root, key, value):
    sib = [bytes.fromhex(x) for x in proof["siblings"]]
    if len(sib) > 256:
        return False
    kh, leaf = smt_key_hash(key), proof["leaf"]
    if value is not None:
        if leaf is None or bytes.fromhex(leaf["key_hash"]) != kh or bytes.fromhex(leaf["value_hash"]) != smt_value_hash(value):
            return False
        h = smt_leaf(kh, smt_value_hash(value))
    elif leaf is None:
        h = bytes(32)
    else:
        lk = bytes.fromhex(leaf["key_hash"])
        if lk == kh or any(bit(lk, i) != bit(kh, i) for i in range(len(sib))):
            return False
        h = smt_leaf(lk, bytes.fromhex(leaf["value_hash"]))
    for i in range(len(sib) - 1, -1, -1):
        h = smt_node(sib[i], h) if bit(kh, i) else smt_node(h, sib[i])
    return h == root


class Reader:
    """Strict BCS reading of an item state value: every field, nothing left over."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("item state value is truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def uleb(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    def string(self):
        return self.take(self.uleb()).decode()

    def u32(self):
        return int.from_bytes(self.take(4), "little")

    def u64(self):
        return int.from_bytes(self.take(8), "little")

    def opt(self, f):
        tag = self.take(1)[0]
        if tag > 1:
            raise ValueError("bad option tag")
        return f() if tag else None

    def vec(self, f):
        return [f() for _ in range(self.uleb())]


def item_state(value):
    """(id, history_len, history_digest) of an item state value (PROOFS.md, Item state)."""
    r = Reader(value)
    item_id = r.string()
    r.string()  # item_type
    r.string()  # owner
    r.string()  # custodian
    if r.uleb() > 2:
        raise ValueError("bad item status")
    r.vec(lambda: (r.string(), r.string()))  # properties
    r.opt(r.string)  # location
    r.opt(r.u64)  # last_observed_ms
    r.opt(r.string)  # parent
    r.vec(r.string)  # children
    r.u32()  # contents_count
    r.vec(r.string)  # derived_from
    r.vec(r.string)  # transformed_into
    r.u32()  # document_count
    r.opt(r.string)  # decommission_reason
    history_len, history_digest = r.u64(), r.take(32)
    if r.i != len(value):
        raise ValueError("bytes left over after the item state")
    return item_id, history_len, history_digest


def item_state_id(value):
    try:
        return item_state(value)[0]
    except (ValueError, UnicodeDecodeError):
        return None


def history_digest(tx_hashes):
    d = bytes(32)
    for th in tx_hashes:
        d = H(tagged("waybill/item-history/v1", d + th))
    return d


class Report:
    def __init__(self, name):
        self.name, self.ok, self.count = name, True, 0

    def check(self, what, cond, detail=""):
        self.count += 1
        self.ok &= bool(cond)
        print(f"  {'PASS' if cond else 'FAIL'} {what} {detail}")


def check_cert(rep, name, cert, genesis):
    c = cert["checkpoint"]
    body = s(c["chain_id"]) + u64(c["height"]) + bytes.fromhex(c["block_hash"]) + bytes.fromhex(c["state_root"]) + bytes.fromhex(c["accumulator_root"]) + u64(c["accumulator_size"])
    msg = tagged("waybill/ledger-checkpoint/v1", body)
    power = {v["consensus_key"]: v.get("power", 1) for v in genesis["validators"]}
    total = sum(power.values())
    seen, got, ok = set(), 0, c["chain_id"] == genesis["chain_id"] and len(cert["signatures"]) <= 256
    for v in cert["signatures"]:
        k = v["validator"]
        if k not in power or k in seen:
            ok = False
            continue
        seen.add(k)
        try:
            VerifyKey(bytes.fromhex(k)).verify(msg, bytes.fromhex(v["signature"]))
        except BadSignatureError:
            ok = False
        got += power[k]
    rep.check(name, ok and got >= total * 2 // 3 + 1, f"(power {got} of {total})")
    return c


def check_tx_entry(rep, prefix, e, cp):
    tx = e["transaction"]
    try:
        sb = tx_signing_bytes(tx["tx"])
    except ValueError as err:
        rep.check(prefix + "encoding", False, str(err))
        return None
    th = H(sb)
    r = e["receipt"]
    idx = e["ledger_index"]
    ip = e["inclusion_proof"]
    rep.check(prefix + "receipt.tx_hash", bytes.fromhex(r["tx_hash"]) == th)
    rep.check(prefix + "receipt.ledger_index", r["ledger_index"] == idx)
    rep.check(prefix + "inclusion_proof.leaf_index", ip["leaf_index"] == idx)
    rep.check(prefix + "inclusion_proof.tree_size", ip["tree_size"] == cp["accumulator_size"])
    leaf = leaf_hash(th, receipt_hash(r))
    rep.check(prefix + "inclusion_proof.path", verify_inclusion(leaf, idx, cp["accumulator_size"], [bytes.fromhex(p) for p in ip["path"]], bytes.fromhex(cp["accumulator_root"])))
    return sb


def check_sig(rep, prefix, tx, sb, genesis):
    try:
        VerifyKey(bytes.fromhex(tx["tx"]["signer"])).verify(sb, bytes.fromhex(tx["signature"]))
        ok = True
    except BadSignatureError:
        ok = False
    rep.check(prefix + "signature", ok and tx["tx"]["chain_id"] == genesis["chain_id"])


def verify(proof, genesis, rep):
    kind = proof["kind"]
    if kind == "transaction":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        sb = check_tx_entry(rep, "", proof, cp)
        if sb is not None:
            check_sig(rep, "transaction.", proof["transaction"], sb, genesis)
    elif kind == "item_state":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        value = None if proof["value"] is None else bytes.fromhex(proof["value"])
        rep.check("value", value is None or item_state_id(value) == proof["item_id"])
        key = b"item/" + proof["item_id"].encode()
        rep.check("smt_proof", verify_smt(proof["smt_proof"], bytes.fromhex(cp["state_root"]), key, value))
    elif kind == "history":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        entries = proof["entries"]
        rep.check("entries", len(entries) <= 10000)
        idx = [e["ledger_index"] for e in entries]
        rep.check("entries.order", all(a < b for a, b in zip(idx, idx[1:])))
        st = proof["item_state"]
        value = None if st["value"] is None else bytes.fromhex(st["value"])
        head = (0, bytes(32)) if value is None else None
        if value is not None:
            try:
                item_id, n, d = item_state(value)
                if item_id == proof["item_id"]:
                    head = (n, d)
            except (ValueError, UnicodeDecodeError):
                pass
        rep.check("item_state.value", head is not None)
        key = b"item/" + proof["item_id"].encode()
        rep.check("item_state.smt_proof", verify_smt(st["smt_proof"], bytes.fromhex(cp["state_root"]), key, value))
        sbs = []
        for i, e in enumerate(entries):
            sbs.append(check_tx_entry(rep, f"entry[{i}].", e, cp))
            rep.check(f"entry[{i}].receipt.status", e["receipt"]["status"] == "success")
            p = e["transaction"]["tx"]["payload"]
            rep.check(f"entry[{i}].item", proof["item_id"] in named_items(p) or "accept_transfer" in p)
        rep.check("history_len", head is not None and len(entries) == head[0])
        hashes = [None if sb is None else H(sb) for sb in sbs]
        rep.check("history_digest", head is not None and None not in hashes and history_digest(hashes) == head[1])
        for i, (e, sb) in enumerate(zip(entries, sbs)):
            if sb is not None:
                check_sig(rep, f"entry[{i}].", e["transaction"], sb, genesis)
    elif kind == "consistency":
        old = check_cert(rep, "older.certificate", proof["older"], genesis)
        new = check_cert(rep, "newer.certificate", proof["newer"], genesis)
        rep.check("heights", old["height"] < new["height"] or (old["height"] == new["height"] and old == new))
        cpf = proof["consistency_proof"]
        rep.check("consistency_proof.old_size", cpf["old_size"] == old["accumulator_size"])
        rep.check("consistency_proof.new_size", cpf["new_size"] == new["accumulator_size"])
        m, n = old["accumulator_size"], new["accumulator_size"]
        path = [bytes.fromhex(p) for p in cpf["path"]]
        ok = (m == 0 and not path and n >= 0) or verify_consistency(m, n, bytes.fromhex(old["accumulator_root"]), bytes.fromhex(new["accumulator_root"]), path)
        rep.check("consistency_proof.path", ok)
    else:
        rep.check("kind", False, kind)


def main():
    with open(sys.argv[1], "rb") as f:
        genesis = tomllib.load(f)
    all_ok = True
    for path in sys.argv[2:]:
        with open(path) as f:
            proof = json.load(f)
        rep = Report(path)
        print(f"{path} ({proof.get('kind')}):")
        try:
            verify(proof, genesis, rep)
        except (KeyError, ValueError, TypeError, IndexError) as err:
            rep.check("well-formed", False, repr(err))
        print(f"  => {'VERIFIED' if rep.ok and rep.count else 'NOT VERIFIED'} ({rep.count} checks)")
        all_ok &= rep.ok and rep.count > 0
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
