"""JSON-RPC client (RPC.md): every query method, and submit-then-wait-for-commit where a failed
receipt is an exception the caller sees."""
import json
import time
import urllib.request
from decimal import Decimal

from .bcs import WaybillError
from .tx import sign_transaction, signed_bytes, tx_hash


class RpcError(Exception):
    """A JSON-RPC error object from the node."""

    def __init__(self, code, message, data=None):
        super().__init__(f"{message} (JSON-RPC error {code})")
        self.code, self.message, self.data = code, message, data


class TransactionFailed(Exception):
    """A transaction that committed with a failed receipt: it used its sequence number and
    changed nothing."""

    def __init__(self, receipt):
        f = receipt["status"]["failed"]
        super().__init__(f"transaction {receipt['tx_hash']} failed: {f['code']}: {f['message']}")
        self.receipt = receipt


def _json_default(v):
    if isinstance(v, Decimal):
        return float(v)  # at most 15 significant digits: exact through a float
    raise TypeError(f"{type(v).__name__} is not JSON")


def epcis_events(document):
    """A document's ``@context`` (None if none) and its events, from either kind of EPCIS
    document."""
    body = document.get("epcisBody") if isinstance(document, dict) else None
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "EPCISQueryDocument":
        events = ((body or {}).get("queryResults") or {}).get("resultsBody", {}).get("eventList")
    elif kind == "EPCISDocument":
        events = (body or {}).get("eventList")
    else:
        events = None
    if not isinstance(events, list):
        raise WaybillError("not an EPCIS 2.0 document with an event list")
    if not events:
        raise WaybillError("the document has no events")
    return document.get("@context"), events


class Client:
    def __init__(self, url, timeout=70):
        self.url, self.timeout, self._id = url, timeout, 0

    def call(self, method, *params):
        while params and params[-1] is None:
            params = params[:-1]
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)},
                          default=_json_default).encode()
        req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read()
        except urllib.error.HTTPError as e:
            text = e.read()
        answer = json.loads(text, parse_float=Decimal)
        if "error" in answer:
            e = answer["error"]
            raise RpcError(e["code"], e["message"], e.get("data"))
        if "result" not in answer:
            raise WaybillError(f"{method}: response has neither result nor error")
        return answer["result"]

    # ---- submitting ----

    def submit_transaction(self, stx, wait_ms=None):
        return self.call("waybill_submitTransaction", stx, wait_ms)

    def submit_raw_transaction(self, hex_bytes, wait_ms=None):
        return self.call("waybill_submitRawTransaction", hex_bytes, wait_ms)

    def submit_raw_transactions(self, hexes):
        return self.call("waybill_submitRawTransactions", hexes)

    def submit_and_wait(self, stx, timeout_ms=30_000):
        """Submits and waits for the commit; returns the receipt of a successful transaction and
        raises TransactionFailed for a failed one."""
        deadline = time.monotonic() + timeout_ms / 1000
        try:
            outcome = self.submit_transaction(stx, min(timeout_ms, 60_000))
        except RpcError as e:
            if e.code != -32003:  # admitted, not committed within wait_ms: follow it below
                raise
            outcome = {"tx_hash": tx_hash(stx["tx"]), "status": "pending"}
        receipt = outcome.get("receipt")
        while receipt is None:
            if time.monotonic() > deadline:
                raise WaybillError(f"transaction {outcome['tx_hash']} did not commit within {timeout_ms} ms")
            time.sleep(0.2)
            info = self.get_transaction(outcome["tx_hash"])
            receipt = info["receipt"] if info and not info["pending"] else None
        if receipt["status"] != "success":
            raise TransactionFailed(receipt)
        return receipt

    def act(self, chain_id, key, payload, sequence=None):
        """Builds, signs (the node's next sequence unless given) and submits one payload."""
        seq = self.next_sequence(key.public_key) if sequence is None else sequence
        tx = {"chain_id": chain_id, "signer": key.public_key, "sequence": seq, "payload": payload}
        return self.submit_and_wait(sign_transaction(tx, key.secret))

    def capture_epcis(self, hexes, wait_ms=None):
        """waybill_captureEpcis: the signed capture_epcis transactions of one document's events
        (canonical bytes as hex, in document order). See capture_epcis_document."""
        return self.call("waybill_captureEpcis", hexes, wait_ms)

    def capture_epcis_document(self, chain_id, key, document, parties=None, wait_ms=None, sequence=None):
        """Captures a GS1 EPCIS 2.0 document (an EPCISDocument or EPCISQueryDocument dict; read
        it with ``json.loads(text, parse_float=Decimal)`` so numbers keep their digits): one
        capture_epcis transaction per event, signed with consecutive sequence numbers (the
        node's next one unless given), all sent in one waybill_captureEpcis call. Returns a
        verdict per event (docs/EPCIS.md); ``complete`` is true only when every event was
        captured. ``parties`` maps GS1 party ids to Waybill organizations."""
        context, events = epcis_events(document)
        first = self.next_sequence(key.public_key) if sequence is None else sequence
        hexes = []
        for i, event in enumerate(events):
            payload = {"capture_epcis": {"context": context, "event": event, "parties": parties or {}}}
            tx = {"chain_id": chain_id, "signer": key.public_key, "sequence": first + i, "payload": payload}
            hexes.append(signed_bytes(sign_transaction(tx, key.secret)).hex())
        return self.capture_epcis(hexes, wait_ms)

    def get_epcis_event(self, hash_id):
        """A captured EPCIS event by its CBV 2.0 hash ID, or None."""
        return self.call("waybill_getEpcisEvent", hash_id)

    def query_epcis(self, filter_, from_=None, limit=None):
        """Captured EPCIS events matching ``filter_``, as an EPCIS 2.0 query document (paged)."""
        return self.call("waybill_queryEpcis", filter_, from_, limit)

    # ---- queries ----

    def head(self):
        return self.call("waybill_head")

    def get_block_by_height(self, height):
        return self.call("waybill_getBlockByHeight", height)

    def get_block_by_hash(self, h):
        return self.call("waybill_getBlockByHash", h)

    def get_block_tx_hashes(self, height):
        return self.call("waybill_getBlockTxHashes", height)

    def get_transaction(self, h):
        return self.call("waybill_getTransaction", h)

    def status(self):
        return self.call("waybill_status")

    def validators(self):
        return self.call("waybill_validators")

    def next_sequence(self, account):
        return self.call("waybill_nextSequence", account)

    def get_state_root(self, height=None):
        return self.call("waybill_getStateRoot", height)

    def get_item(self, item_id):
        return self.call("waybill_getItem", item_id)

    def get_item_history(self, item_id, from_=None, limit=None):
        return self.call("waybill_getItemHistory", item_id, from_, limit)

    def get_provenance(self, item_id, max_nodes=None):
        return self.call("waybill_getProvenance", item_id, max_nodes)

    def get_organization(self, org_id):
        return self.call("waybill_getOrganization", org_id)

    def organizations(self):
        """Every organization, by id."""
        return self.call("waybill_organizations")

    def get_organization_events(self, org_id, from_=None, limit=None):
        return self.call("waybill_getOrganizationEvents", org_id, from_, limit)

    def get_account(self, key):
        return self.call("waybill_getAccount", key)

    def get_transaction_proof(self, h):
        return self.call("waybill_getTransactionProof", h)

    def get_item_proof(self, item_id, height=None):
        return self.call("waybill_getItemProof", item_id, height)

    def get_item_history_proof(self, item_id):
        return self.call("waybill_getItemHistoryProof", item_id)

    def get_consistency_proof(self, from_height, to_height=None):
        return self.call("waybill_getConsistencyProof", from_height, to_height)

    def get_epoch_changes(self, from_epoch=None):
        """The chain of epoch changes since `from_epoch` (default 0): what a proof from a later
        epoch needs to be followed from the genesis file (docs/PROOFS.md, "Epochs")."""
        return self.call("waybill_getEpochChanges", from_epoch)

    def get_snapshot_base(self, height=None):
        """State sync: the certificate, block and accumulator frontier of a certified height (the
        latest certified by default), or None."""
        return self.call("waybill_getSnapshotBase", height)

    def get_state_chunk(self, node):
        """State sync: the keys and values under one node of the state tree, or its children."""
        return self.call("waybill_getStateChunk", node)

    def subscribe_blocks(self):
        """A Subscription yielding one BlockSummary per committed block (over WebSocket)."""
        from .subscribe import Subscription
        return Subscription(self.url, "waybill_subscribeBlocks", [], "waybill_unsubscribeBlocks")

    def subscribe_item(self, item_id):
        """A Subscription yielding one {item_id, entry} per new event of the item (over WebSocket)."""
        from .subscribe import Subscription
        return Subscription(self.url, "waybill_subscribeItem", [item_id], "waybill_unsubscribeItem")

    def discover(self):
        return self.call("rpc.discover")
