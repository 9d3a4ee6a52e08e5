#!/usr/bin/env python3
"""An independent Waybill proof verifier, written from docs/PROOFS.md and docs/SIGNING.md alone,
to check that the specification is complete. It verifies every proof kind and every payload kind.

    pip install blake3
    python3 docs/proofs/verify.py docs/proofs/genesis.toml docs/proofs/*.json

Every check uses the canonical bytes a proof carries (PROOFS.md, "Bytes and views"); the JSON
views are only compared with what the bytes decode to, as values (412.5 == 412.50), so a proof
re-saved by any JSON tool verifies and one whose view says something else does not. Prints each
check; exits 0 only if every proof passes every check.
"""
import hashlib
import json
import sys
import tomllib
from decimal import Decimal

import blake3

MAX_SAFE_INTEGER = 2**53 - 1
MAX_OBJECT_BYTES = 65536
MAX_VALUE_DEPTH = 64


def H(b):
    return blake3.blake3(b).digest()


# Ed25519 by Waybill's rule (SIGNING.md, "The signature rule"): canonical, not-small-order A and R,
# s below L, and the cofactored equation [8]([s]B - [k]A - R) = 0. libsodium's cofactorless check
# would refuse some signatures validators accept, so this page's verifier does the arithmetic.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def _add(p, q):
    """Sum of two points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _neg(p):
    x, y, z, t = p
    return (-x % P, y, z, -t % P)


def _mul(n, p):
    q = IDENTITY
    while n:
        if n & 1:
            q = _add(q, p)
        p = _add(p, p)
        n >>= 1
    return q


def _is_identity(p):
    x, y, z, _ = p
    return x % P == 0 and (y - z) % P == 0


def _decode(b):
    """The point 32 bytes encode, or None: not canonical (y >= p) or not on the curve."""
    n = int.from_bytes(b, "little")
    sign, y = n >> 255, n & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _small_order(p):
    return _is_identity(_mul(8, p))


B = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` by `public_key` over `message` passes Waybill's rule."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decode(public_key), _decode(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % L
    return _is_identity(_mul(8, _add(_add(_mul(s, B), _neg(_mul(k, a))), _neg(r))))


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tagged(tag, body):
    t = tag.encode()
    return uleb(len(t)) + t + body


def unhex(x):
    """Lower-case hex without a prefix, as every hex string in a proof must be."""
    if not isinstance(x, str) or len(x) % 2 or any(c not in "0123456789abcdef" for c in x):
        raise ValueError(f"not lower-case hex: {str(x)[:20]!r}")
    return bytes.fromhex(x)


class Reader:
    """Strict BCS: minimal ULEB128, valid UTF-8, option and bool tags 0 or 1, nothing left over."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("canonical bytes are truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def uleb(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            if shift >= 32:
                raise ValueError("ULEB128 longer than 32 bits")
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b == 0 and shift > 7:
                    raise ValueError("ULEB128 is not minimal")
                return n

    def string(self):
        return self.take(self.uleb()).decode("utf-8")

    def blob(self):
        return self.take(self.uleb()).hex()

    def int(self, n, signed=False):
        return int.from_bytes(self.take(n), "little", signed=signed)

    def fixed_hex(self, n):
        return self.take(n).hex()

    def tag(self, limit):
        t = self.uleb()
        if t >= limit:
            raise ValueError(f"variant {t} out of range")
        return t

    def opt(self, f):
        return f() if self.tag(2) else None

    def boolean(self):
        return bool(self.tag(2))

    def vec(self, f):
        return [f() for _ in range(self.uleb())]

    def done(self, what):
        if self.i != len(self.b):
            raise ValueError(f"{len(self.b) - self.i} bytes left over after the {what}")


# ---- typed values (SIGNING.md, "Values inside signed objects") ------------------------------

def value(r, depth=0):
    """A typed value as Python: None, bool, int, Decimal, str, list, dict."""
    t = r.tag(7)
    if t == 0:
        return None
    if t == 1:
        return r.boolean()
    if t == 2:
        i = r.int(8, signed=True)
        if abs(i) > MAX_SAFE_INTEGER:
            raise ValueError("integer beyond 2^53 - 1")
        return i
    if t == 3:
        m, e = r.int(8, signed=True), r.int(2, signed=True)
        digits = len(str(abs(m)))
        if m == 0 or m % 10 == 0 or abs(m) >= 10**15 or e < -300 or digits + e > 300:
            raise ValueError("decimal not in canonical form")
        if e >= 0 and abs(m) * 10**e <= MAX_SAFE_INTEGER:
            raise ValueError("decimal that must be an integer")
        return Decimal(m).scaleb(e)
    if t == 4:
        return r.string()
    if depth >= MAX_VALUE_DEPTH:
        raise ValueError("value nested too deep")
    if t == 5:
        return r.vec(lambda: value(r, depth + 1))
    out, last = {}, None
    for _ in range(r.uleb()):
        k = r.string()
        if last is not None and k.encode() <= last:
            raise ValueError("object members out of order")
        last = k.encode()
        out[k] = value(r, depth + 1)
    return out


def properties(r):
    out, last = {}, None
    for _ in range(r.uleb()):
        k = r.string()
        kb = uleb(len(k.encode())) + k.encode()
        if last is not None and kb <= last:
            raise ValueError("properties out of order")
        last = kb
        out[k] = value(r)
    return out


# ---- objects in proofs ----------------------------------------------------------------------

def checkpoint(r):
    return {"chain_id": r.string(), "height": r.int(8), "block_hash": r.fixed_hex(32),
            "state_root": r.fixed_hex(32), "accumulator_root": r.fixed_hex(32),
            "accumulator_size": r.int(8)}


def receipt(r):
    out = {"tx_hash": r.fixed_hex(32), "height": r.int(8), "index_in_block": r.int(4),
           "ledger_index": r.int(8)}
    out["status"] = {"failed": {"code": r.string(), "message": r.string()}} if r.tag(2) else "success"
    return out


TRANSFER_KIND = ["custody", "ownership"]
HASH_ALGORITHM = ["sha256", "blake3"]


def payload(r):
    """(JSON name, fields) of a payload, in SIGNING.md's order."""
    strs = lambda: r.vec(r.string)  # noqa: E731
    kind = lambda names: names[r.tag(len(names))]  # noqa: E731
    t = r.tag(15)
    if t == 0:
        return "memo", {"data": r.blob()}
    if t in (1, 3):
        name = "add_account" if t == 1 else "set_account_roles"
        return name, {"organization": r.string(), "key": r.fixed_hex(32), "roles": strs()}
    if t == 2:
        return "remove_account", {"organization": r.string(), "key": r.fixed_hex(32)}
    if t == 4:
        return "commission", {"item_id": r.string(), "item_type": r.string(),
                              "properties": properties(r), "location": r.opt(r.string)}
    if t == 5:
        a = {"item_id": r.string(), "time_ms": r.int(8), "location": r.opt(r.string)}
        a["readings"] = r.vec(lambda: {"kind": r.string(), "value": value(r), "unit": r.opt(r.string)})
        return "observe", a
    if t == 6:
        return "propose_transfer", {"item_id": r.string(), "kind": kind(TRANSFER_KIND),
                                    "to_organization": r.string()}
    if t in (7, 8, 9):
        name = ["accept_transfer", "reject_transfer", "cancel_transfer"][t - 7]
        return name, {"item_id": r.string(), "kind": kind(TRANSFER_KIND)}
    if t in (10, 11):
        return ["aggregate", "disaggregate"][t - 10], {"container_id": r.string(), "children": strs()}
    if t == 12:
        inputs = strs()
        outputs = r.vec(lambda: {"item_id": r.string(), "item_type": r.string(),
                                 "properties": properties(r)})
        return "transform", {"inputs": inputs, "outputs": outputs, "location": r.opt(r.string)}
    if t == 13:
        return "attach_document", {"item_id": r.string(), "hash_algorithm": kind(HASH_ALGORITHM),
                                   "hash": r.fixed_hex(32), "uri": r.string(),
                                   "media_type": r.string()}
    return "decommission", {"item_id": r.string(), "reason": r.opt(r.string)}


def signed_transaction(r):
    tx = {"chain_id": r.string(), "signer": r.fixed_hex(32), "sequence": r.int(8)}
    name, fields = payload(r)
    tx["payload"] = {name: fields}
    return {"tx": tx, "signature": r.fixed_hex(64)}


def same(decoded, view):
    """Whether a view is the decoded object: numbers as values, default members may be absent."""
    if isinstance(decoded, bool) or decoded is None or isinstance(decoded, str):
        return type(view) is type(decoded) and view == decoded
    if isinstance(decoded, (int, Decimal)):
        if isinstance(view, bool) or not isinstance(view, (int, float)):
            return False
        return Decimal(view if isinstance(view, int) else repr(view)) == decoded
    if isinstance(decoded, list):
        return isinstance(view, list) and len(view) == len(decoded) and all(
            same(d, v) for d, v in zip(decoded, view))
    if not isinstance(view, dict) or not set(view) <= set(decoded):
        return False
    return all(same(d, view[k]) if k in view else d in (None, [], {}) for k, d in decoded.items())


def attested(obj, decode, what):
    """(decoded object, its canonical bytes) of {"bytes", "view"}, refused unless the view is it."""
    if not isinstance(obj, dict) or set(obj) != {"bytes", "view"}:
        raise ValueError(f"{what}: expected exactly the members bytes and view")
    b = unhex(obj["bytes"])
    if len(b) > MAX_OBJECT_BYTES:
        raise ValueError(f"{what}: more than {MAX_OBJECT_BYTES} bytes")
    r = Reader(b)
    decoded = decode(r)
    r.done(what)
    if not same(decoded, obj["view"]):
        raise ValueError(f"{what}: the view is not the object its bytes encode")
    return decoded, b


# ---- Merkle proofs (PROOFS.md) --------------------------------------------------------------

def leaf_hash(tx_hash, r_hash):
    return H(b"\x00" + tagged("waybill/tx-leaf/v1", tx_hash + r_hash))


def node(left, right):
    return H(b"\x01" + left + right)


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


def smt_node(left, right):
    return H(tagged("waybill/smt-node/v1", left + right))


def bit(h, i):
    return (h[i // 8] >> (7 - i % 8)) & 1


def verify_smt(proof, root, key, val):
    sib = [unhex(x) for x in proof["siblings"]]
    if len(sib) > 256:
        return False
    kh, leaf = smt_key_hash(key), proof["leaf"]
    if val is not None:
        if leaf is None or unhex(leaf["key_hash"]) != kh or unhex(leaf["value_hash"]) != smt_value_hash(val):
            return False
        h = smt_leaf(kh, smt_value_hash(val))
    elif leaf is None:
        h = bytes(32)
    else:
        lk = unhex(leaf["key_hash"])
        if lk == kh or any(bit(lk, i) != bit(kh, i) for i in range(len(sib))):
            return False
        h = smt_leaf(lk, unhex(leaf["value_hash"]))
    for i in range(len(sib) - 1, -1, -1):
        h = smt_node(sib[i], h) if bit(kh, i) else smt_node(h, sib[i])
    return h == root


def item_state(raw):
    """(id, history_len, history_digest) of an item state value (PROOFS.md, Item state)."""
    r = Reader(raw)
    item_id = r.string()
    r.string()  # item_type
    r.string()  # owner
    r.string()  # custodian
    r.tag(3)  # status
    properties(r)
    r.opt(r.string)  # location
    r.opt(lambda: r.int(8))  # last_observed_ms
    r.opt(r.string)  # parent
    r.vec(r.string)  # children
    r.int(4)  # contents_count
    r.vec(r.string)  # derived_from
    r.vec(r.string)  # transformed_into
    r.int(4)  # document_count
    r.opt(r.string)  # decommission_reason
    history_len, history_digest = r.int(8), r.take(32)
    r.done("item state")
    return item_id, history_len, history_digest


def item_head(raw, item_id):
    """The (history_len, history_digest) of a state value whose id is item_id, else None."""
    if raw is None:
        return 0, bytes(32)
    try:
        got, n, d = item_state(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return (n, d) if got == item_id else None


def history_digest(tx_hashes):
    d = bytes(32)
    for th in tx_hashes:
        d = H(tagged("waybill/item-history/v1", d + th))
    return d


def named_items(p):
    (kind, a), = p.items()
    if kind in ("aggregate", "disaggregate"):
        return [a["container_id"]] + a["children"]
    if kind == "transform":
        return a["inputs"] + [o["item_id"] for o in a["outputs"]]
    return [a["item_id"]] if "item_id" in a else []


# ---- checks ---------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.ok, self.count = True, 0

    def check(self, what, cond, detail=""):
        self.count += 1
        self.ok &= bool(cond)
        print(f"  {'PASS' if cond else 'FAIL'} {what} {detail}".rstrip())


def check_cert(rep, name, cert, genesis):
    if not isinstance(cert, dict) or set(cert) != {"checkpoint", "signatures"}:
        raise ValueError(f"{name}: expected exactly the members checkpoint and signatures")
    c, raw = attested(cert["checkpoint"], checkpoint, f"{name}.checkpoint")
    msg = tagged("waybill/ledger-checkpoint/v1", raw)
    power = {v["consensus_key"]: v.get("power", 1) for v in genesis["validators"]}
    total = sum(power.values())
    seen, got = set(), 0
    ok = c["chain_id"] == genesis["chain_id"] and len(cert["signatures"]) <= 256
    for v in cert["signatures"]:
        if set(v) != {"validator", "signature"}:
            raise ValueError(f"{name}: a vote has members other than validator and signature")
        k = v["validator"]
        if k not in power or k in seen:
            ok = False
            continue
        seen.add(k)
        if not ed25519_verify(unhex(k), msg, unhex(v["signature"])):
            ok = False
        got += power[k]
    rep.check(name, ok and got >= total * 2 // 3 + 1, f"(power {got} of {total})")
    return c


def check_tx_entry(rep, prefix, e, cp):
    """Checks an entry's bindings and path; returns (signed transaction, its bytes)."""
    stx, raw = attested(e["transaction"], signed_transaction, prefix + "transaction")
    r, r_raw = attested(e["receipt"], receipt, prefix + "receipt")
    th = H(tagged("waybill/tx/v2", raw[:-64]))
    idx, ip = e["ledger_index"], e["inclusion_proof"]
    rep.check(prefix + "receipt.tx_hash", unhex(r["tx_hash"]) == th)
    rep.check(prefix + "receipt.ledger_index", r["ledger_index"] == idx)
    rep.check(prefix + "inclusion_proof.leaf_index", ip["leaf_index"] == idx)
    rep.check(prefix + "inclusion_proof.tree_size", ip["tree_size"] == cp["accumulator_size"])
    leaf = leaf_hash(th, H(tagged("waybill/receipt/v1", r_raw)))
    path = [unhex(p) for p in ip["path"]]
    rep.check(prefix + "inclusion_proof.path",
              verify_inclusion(leaf, idx, cp["accumulator_size"], path, unhex(cp["accumulator_root"])))
    return stx, r, raw


def check_sig(rep, prefix, stx, raw, genesis):
    ok = ed25519_verify(unhex(stx["tx"]["signer"]), tagged("waybill/tx/v2", raw[:-64]), raw[-64:])
    rep.check(prefix + "signature", ok and stx["tx"]["chain_id"] == genesis["chain_id"])


def state_value(v):
    return None if v is None else unhex(v)


def verify(proof, genesis, rep):
    kind = proof["kind"]
    if kind == "transaction":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        stx, _, raw = check_tx_entry(rep, "", proof, cp)
        check_sig(rep, "transaction.", stx, raw, genesis)
    elif kind == "item_state":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        val = state_value(proof["value"])
        rep.check("value", item_head(val, proof["item_id"]) is not None)
        key = b"item/" + proof["item_id"].encode()
        rep.check("smt_proof", verify_smt(proof["smt_proof"], unhex(cp["state_root"]), key, val))
    elif kind == "history":
        cp = check_cert(rep, "certificate", proof["certificate"], genesis)
        entries = proof["entries"]
        rep.check("entries", len(entries) <= 10000)
        idx = [e["ledger_index"] for e in entries]
        rep.check("entries.order", all(a < b for a, b in zip(idx, idx[1:])))
        val = state_value(proof["item_state"]["value"])
        head = item_head(val, proof["item_id"])
        rep.check("item_state.value", head is not None)
        key = b"item/" + proof["item_id"].encode()
        rep.check("item_state.smt_proof",
                  verify_smt(proof["item_state"]["smt_proof"], unhex(cp["state_root"]), key, val))
        checked = []
        for i, e in enumerate(entries):
            stx, r, raw = check_tx_entry(rep, f"entry[{i}].", e, cp)
            checked.append((stx, raw))
            rep.check(f"entry[{i}].receipt.status", r["status"] == "success")
            p = stx["tx"]["payload"]
            rep.check(f"entry[{i}].item", proof["item_id"] in named_items(p) or "accept_transfer" in p)
        rep.check("history_len", head is not None and len(entries) == head[0])
        hashes = [H(tagged("waybill/tx/v2", raw[:-64])) for _, raw in checked]
        rep.check("history_digest", head is not None and history_digest(hashes) == head[1])
        for i, (stx, raw) in enumerate(checked):
            check_sig(rep, f"entry[{i}].", stx, raw, genesis)
    elif kind == "consistency":
        old = check_cert(rep, "older.certificate", proof["older"], genesis)
        new = check_cert(rep, "newer.certificate", proof["newer"], genesis)
        rep.check("heights", old["height"] < new["height"] or (old["height"] == new["height"] and old == new))
        cpf = proof["consistency_proof"]
        rep.check("consistency_proof.old_size", cpf["old_size"] == old["accumulator_size"])
        rep.check("consistency_proof.new_size", cpf["new_size"] == new["accumulator_size"])
        m, n = old["accumulator_size"], new["accumulator_size"]
        path = [unhex(p) for p in cpf["path"]]
        ok = (m == 0 and not path) or verify_consistency(
            m, n, unhex(old["accumulator_root"]), unhex(new["accumulator_root"]), path)
        rep.check("consistency_proof.path", ok)
    else:
        rep.check("kind", False, kind)


def refuse_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"member {k!r} appears twice")
        out[k] = v
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: verify.py GENESIS.toml PROOF.json...")
    with open(sys.argv[1], "rb") as f:
        genesis = tomllib.load(f)
    all_ok = True
    for path in sys.argv[2:]:
        rep = Report()
        try:
            with open(path) as f:
                proof = json.load(f, object_pairs_hook=refuse_duplicates)
            print(f"{path} ({proof.get('kind')}):")
            verify(proof, genesis, rep)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
            print(f"{path}:")
            rep.check("well-formed", False, f"{type(err).__name__}: {err}")
        print(f"  => {'VERIFIED' if rep.ok and rep.count else 'NOT VERIFIED'} ({rep.count} checks)")
        all_ok &= rep.ok and rep.count > 0
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
