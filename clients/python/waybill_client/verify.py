"""Offline proof verifier (PROOFS.md) for every proof kind, trusting only the genesis file.
Every check uses the canonical bytes a proof carries; views are compared with what the bytes
decode to, as values, so a proof re-saved by any JSON tool verifies."""
import json
import tomllib
from decimal import Decimal

import blake3

from .ed25519 import verify as ed25519_verify
from .bcs import Reader, WaybillError, from_hex as unhex, tagged, uleb
from .tx import read_signed_transaction
from .value import read_value, same_number

MAX_OBJECT_BYTES = 65536


def H(b):
    return blake3.blake3(b).digest()


def checkpoint(r):
    return {"chain_id": r.str(), "height": r.int(8), "block_hash": r.fixed_hex(32),
            "state_root": r.fixed_hex(32), "accumulator_root": r.fixed_hex(32),
            "accumulator_size": r.int(8)}


def receipt(r):
    out = {"tx_hash": r.fixed_hex(32), "height": r.int(8), "index_in_block": r.int(4),
           "ledger_index": r.int(8)}
    out["status"] = {"failed": {"code": r.str(), "message": r.str()}} if r.tag(2) else "success"
    return out


def signed_transaction(r):
    return read_signed_transaction(r)


def properties(r):
    out = {}
    for _ in range(r.uleb()):
        k = r.str()
        out[k] = read_value(r)
    return out


def same(decoded, view):
    """Whether a view is the decoded object: numbers as values, default members may be absent."""
    if isinstance(decoded, bool) or decoded is None or isinstance(decoded, str):
        return type(view) is type(decoded) and view == decoded
    if isinstance(decoded, (int, Decimal)):
        return same_number(decoded, view)
    if isinstance(decoded, list):
        return isinstance(view, list) and len(view) == len(decoded) and all(
            same(d, v) for d, v in zip(decoded, view))
    if not isinstance(view, dict) or not set(view) <= set(decoded):
        return False
    return all(same(d, view[k]) if k in view else d in (None, [], {}) for k, d in decoded.items())


def attested(obj, decode, what):
    """(decoded object, its canonical bytes) of {"bytes", "view"}, refused unless the view is it."""
    if not isinstance(obj, dict) or set(obj) != {"bytes", "view"}:
        raise WaybillError(f"{what}: expected exactly the members bytes and view")
    b = unhex(obj["bytes"], f"{what}.bytes")
    if len(b) > MAX_OBJECT_BYTES:
        raise WaybillError(f"{what}: more than {MAX_OBJECT_BYTES} bytes")
    r = Reader(b)
    decoded = decode(r)
    r.done(what)
    if not same(decoded, obj["view"]):
        raise WaybillError(f"{what}: the view is not the object its bytes encode")
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
    item_id = r.str()
    r.str()  # item_type
    r.str()  # owner
    r.str()  # custodian
    r.tag(3)  # status
    properties(r)
    r.opt(r.str)  # location
    r.opt(lambda: r.int(8))  # last_observed_ms
    r.opt(r.str)  # parent
    r.vec(r.str)  # children
    r.int(4)  # contents_count
    r.vec(r.str)  # derived_from
    r.vec(r.str)  # transformed_into
    r.int(4)  # document_count
    r.opt(r.str)  # decommission_reason
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
    """Every check by name, in the order PROOFS.md gives; `ok` only if all passed."""

    def __init__(self):
        self.checks, self.kind = [], None

    @property
    def ok(self):
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    def check(self, what, cond, detail=""):
        self.checks.append((what, bool(cond), detail))

    def __str__(self):
        lines = [f"{'PASS' if p else 'FAIL'} {w} {d}".rstrip() for w, p, d in self.checks]
        return "\n".join(lines + [("VERIFIED" if self.ok else "NOT VERIFIED") + f" ({len(self.checks)} checks)"])


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



def _refuse_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise WaybillError(f"member {k!r} appears twice")
        out[k] = v
    return out


def parse_genesis(text):
    """The chain id and validators of a genesis TOML file."""
    return tomllib.loads(text)


def verify_proof(proof, genesis):
    """A Report of every check of `proof` (a file's text or its parsed dict) against `genesis`
    (the genesis file's text or its parsed dict)."""
    if isinstance(genesis, str):
        genesis = parse_genesis(genesis)
    rep = Report()
    try:
        if isinstance(proof, (str, bytes)):
            proof = json.loads(proof, object_pairs_hook=_refuse_duplicates, parse_float=Decimal)
        rep.kind = proof.get("kind")
        verify(proof, genesis, rep)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
        rep.check("well-formed", False, f"{type(err).__name__}: {err}")
    return rep
