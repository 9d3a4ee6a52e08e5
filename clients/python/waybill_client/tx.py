"""Transactions (SIGNING.md): the JSON form the node takes, canonical bytes, signing bytes,
hash and signature, for every payload kind. A transaction is a dict in the JSON form:
``{"chain_id", "signer", "sequence", "payload": {"<kind>": {...}}}``."""
import blake3
from nacl.signing import SigningKey

from .ed25519 import verify as ed25519_verify
from .bcs import Reader, WaybillError, Writer, from_hex, tagged
from .value import read_value, write_value

TX_DOMAIN = "waybill/tx/v2"
MAX_TX_BYTES = 65536
PAYLOAD_KINDS = [
    "memo", "add_account", "remove_account", "set_account_roles", "commission", "observe",
    "propose_transfer", "accept_transfer", "reject_transfer", "cancel_transfer", "aggregate",
    "disaggregate", "transform", "attach_document", "decommission",
]
TRANSFER_KINDS = ["custody", "ownership"]
HASH_ALGORITHMS = ["sha256", "blake3"]


def _key32(x, what):
    b = from_hex(x, what)
    if len(b) != 32:
        raise WaybillError(f"{what}: expected 32 bytes (64 hex digits)")
    return b


def _index(names, v, what):
    if v not in names:
        raise WaybillError(f"{what}: expected one of {', '.join(names)}")
    return names.index(v)


def _write_properties(w, props):
    props = props or {}
    entries = sorted((Writer().str(k).bytes(), k) for k in props)
    w.uleb(len(entries))
    for kb, k in entries:
        w.raw(kb)
        write_value(w, props[k])


def write_payload(w, p):
    if not isinstance(p, dict) or len(p) != 1:
        raise WaybillError("payload: expected exactly one member naming its kind")
    (kind, a), = p.items()
    w.uleb(_index(PAYLOAD_KINDS, kind, "payload kind"))
    s = w.str
    if kind == "memo":
        w.blob(from_hex(a["data"], "memo.data"))
    elif kind in ("add_account", "set_account_roles"):
        w.str(a["organization"]).raw(_key32(a["key"], "key")).vec(a.get("roles", []), s)
    elif kind == "remove_account":
        w.str(a["organization"]).raw(_key32(a["key"], "key"))
    elif kind == "commission":
        w.str(a["item_id"]).str(a["item_type"])
        _write_properties(w, a.get("properties"))
        w.opt(a.get("location"), s)
    elif kind == "observe":
        w.str(a["item_id"]).u64(a["time_ms"]).opt(a.get("location"), s)

        def reading(r):
            w.str(r["kind"])
            write_value(w, r["value"])
            w.opt(r.get("unit"), s)
        w.vec(a.get("readings", []), reading)
    elif kind == "propose_transfer":
        w.str(a["item_id"]).uleb(_index(TRANSFER_KINDS, a["kind"], "kind")).str(a["to_organization"])
    elif kind in ("accept_transfer", "reject_transfer", "cancel_transfer"):
        w.str(a["item_id"]).uleb(_index(TRANSFER_KINDS, a["kind"], "kind"))
    elif kind in ("aggregate", "disaggregate"):
        w.str(a["container_id"]).vec(a["children"], s)
    elif kind == "transform":
        w.vec(a["inputs"], s)

        def output(o):
            w.str(o["item_id"]).str(o["item_type"])
            _write_properties(w, o.get("properties"))
        w.vec(a["outputs"], output)
        w.opt(a.get("location"), s)
    elif kind == "attach_document":
        w.str(a["item_id"]).uleb(_index(HASH_ALGORITHMS, a["hash_algorithm"], "hash_algorithm"))
        w.raw(_key32(a["hash"], "hash")).str(a["uri"]).str(a["media_type"])
    else:
        w.str(a["item_id"]).opt(a.get("reason"), s)


def _read_properties(r):
    out, last = {}, None
    for _ in range(r.uleb()):
        k = r.str()
        kb = Writer().str(k).bytes()
        if last is not None and kb <= last:
            raise WaybillError("properties out of order")
        last = kb
        out[k] = read_value(r)
    return out


def read_payload(r):
    kind = PAYLOAD_KINDS[r.tag(len(PAYLOAD_KINDS))]
    strs = lambda: r.vec(r.str)  # noqa: E731
    transfer = lambda: TRANSFER_KINDS[r.tag(2)]  # noqa: E731
    if kind == "memo":
        a = {"data": r.blob_hex()}
    elif kind in ("add_account", "set_account_roles"):
        a = {"organization": r.str(), "key": r.fixed_hex(32), "roles": strs()}
    elif kind == "remove_account":
        a = {"organization": r.str(), "key": r.fixed_hex(32)}
    elif kind == "commission":
        a = {"item_id": r.str(), "item_type": r.str(), "properties": _read_properties(r), "location": r.opt(r.str)}
    elif kind == "observe":
        a = {"item_id": r.str(), "time_ms": r.int(8), "location": r.opt(r.str)}
        a["readings"] = r.vec(lambda: {"kind": r.str(), "value": read_value(r), "unit": r.opt(r.str)})
    elif kind == "propose_transfer":
        a = {"item_id": r.str(), "kind": transfer(), "to_organization": r.str()}
    elif kind in ("accept_transfer", "reject_transfer", "cancel_transfer"):
        a = {"item_id": r.str(), "kind": transfer()}
    elif kind in ("aggregate", "disaggregate"):
        a = {"container_id": r.str(), "children": strs()}
    elif kind == "transform":
        inputs = strs()
        outputs = r.vec(lambda: {"item_id": r.str(), "item_type": r.str(), "properties": _read_properties(r)})
        a = {"inputs": inputs, "outputs": outputs, "location": r.opt(r.str)}
    elif kind == "attach_document":
        a = {"item_id": r.str(), "hash_algorithm": HASH_ALGORITHMS[r.tag(2)], "hash": r.fixed_hex(32),
             "uri": r.str(), "media_type": r.str()}
    else:
        a = {"item_id": r.str(), "reason": r.opt(r.str)}
    return {kind: a}


def tx_bytes(tx):
    """BCS(tx)."""
    w = Writer().str(tx["chain_id"]).raw(_key32(tx["signer"], "signer")).u64(tx["sequence"])
    write_payload(w, tx["payload"])
    return w.bytes()


def signing_bytes(tx):
    """What is signed and hashed: BCS(("waybill/tx/v2", tx))."""
    return tagged(TX_DOMAIN, tx_bytes(tx))


def tx_hash(tx):
    return blake3.blake3(signing_bytes(tx)).hexdigest()


def public_key_of(secret):
    return SigningKey(bytes(secret)).verify_key.encode().hex()


def sign_transaction(tx, secret):
    """The signed transaction {"tx", "signature"} of `tx`, signed with a 32-byte seed."""
    key = SigningKey(bytes(secret))
    signer = key.verify_key.encode().hex()
    if signer != tx["signer"]:
        raise WaybillError(f"signer {tx['signer']} is not the key's public key {signer}")
    signed = {"tx": tx, "signature": key.sign(signing_bytes(tx)).signature.hex()}
    if len(signed_bytes(signed)) > MAX_TX_BYTES:
        raise WaybillError(f"transaction is larger than {MAX_TX_BYTES} bytes")
    return signed


def signed_bytes(stx):
    """BCS(signed) = BCS(tx) || signature: what waybill_submitRawTransaction takes (as hex)."""
    sig = from_hex(stx["signature"], "signature")
    if len(sig) != 64:
        raise WaybillError("signature: expected 64 bytes")
    return tx_bytes(stx["tx"]) + sig


def read_signed_transaction(r):
    tx = {"chain_id": r.str(), "signer": r.fixed_hex(32), "sequence": r.int(8), "payload": read_payload(r)}
    return {"tx": tx, "signature": r.fixed_hex(64)}


def decode_signed_transaction(b):
    r = Reader(b)
    stx = read_signed_transaction(r)
    r.done("signed transaction")
    return stx


def verify_signature(stx):
    """Whether the signature passes Waybill's rule (docs/SIGNING.md, "The signature rule")."""
    try:
        return ed25519_verify(from_hex(stx["tx"]["signer"]), signing_bytes(stx["tx"]), from_hex(stx["signature"]))
    except ValueError:
        return False
