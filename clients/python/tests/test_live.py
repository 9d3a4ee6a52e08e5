"""The SDK against a live local network: started by node/tests/sdk_clients.rs, which passes
WAYBILL_RPC_URL, WAYBILL_GENESIS, WAYBILL_KEY and WAYBILL_CHAIN. Skipped when they are absent."""
import json
import os
import time
import unittest
from decimal import Decimal

from waybill_client import Client, RpcError, TransactionFailed, read_key_file, verify_proof

URL = os.environ.get("WAYBILL_RPC_URL")


def certified(f):
    """Retries while the node answers -32004 (the height is not certified yet)."""
    for _ in range(150):
        try:
            return f()
        except RpcError as e:
            if e.code != -32004:
                raise
            time.sleep(0.2)
    return f()


@unittest.skipUnless(URL, "WAYBILL_RPC_URL is not set: no live network (node/tests/sdk_clients.rs sets it)")
class Live(unittest.TestCase):
    def test_submit_wait_query_and_verify_offline(self):
        client = Client(URL)
        chain = os.environ["WAYBILL_CHAIN"]
        with open(os.environ["WAYBILL_GENESIS"], encoding="utf-8") as f:
            genesis = f.read()
        key = read_key_file(os.environ["WAYBILL_KEY"])
        self.assertEqual(client.head()["chain_id"], chain)
        item = "sdk-py-pallet"
        blocks = client.subscribe_blocks()
        events = client.subscribe_item(item)
        commission = client.act(chain, key, {"commission": {
            "item_id": item, "item_type": "pallet",
            "properties": {"weight_kg": Decimal("412.50"), "grade": "B", "dims": {"h": 1.2, "w": [80, 120]}},
            "location": "dock-2"}})
        self.assertEqual(commission["status"], "success")
        observe = client.act(chain, key, {"observe": {
            "item_id": item, "time_ms": 1_700_000_000_000,
            "readings": [{"kind": "temperature", "value": 4.5, "unit": "Cel"}]}})
        with self.assertRaises(TransactionFailed) as failed:
            client.act(chain, key, {"observe": {"item_id": "no-such-item", "time_ms": 1}})
        self.assertEqual(failed.exception.receipt["status"]["failed"]["code"], "unknown_item")

        # Subscriptions: the item's two events, and blocks as they commit.
        with events, blocks:
            self.assertEqual([events.next(timeout=30)["entry"]["kind"] for _ in range(2)], ["commission", "observe"])
            heights = [blocks.next(timeout=30)["height"] for _ in range(2)]
            self.assertLess(heights[0], heights[1])

        self.assertEqual(client.get_item(item)["item"]["properties"]["weight_kg"], Decimal("412.5"))
        self.assertGreaterEqual(len(client.get_item_history(item)["entries"]), 2)
        self.assertGreaterEqual(client.next_sequence(key.public_key), 3)
        self.assertFalse(client.get_transaction(observe["tx_hash"])["pending"])
        self.assertTrue(client.validators())
        self.assertTrue(client.get_account(key.public_key))
        self.assertTrue(client.status())
        self.assertIsInstance(client.get_state_root(), str)
        self.assertIn("openrpc", client.discover())
        with self.assertRaises(RpcError) as unknown:
            client.call("waybill_noSuchMethod")
        self.assertEqual(unknown.exception.code, -32601)

        proofs = [
            certified(lambda: client.get_transaction_proof(commission["tx_hash"])),
            certified(lambda: client.get_item_proof(item)),
            certified(lambda: client.get_item_proof("sdk-py-absent")),
            certified(lambda: client.get_item_history_proof(item)),
            certified(lambda: client.get_consistency_proof(1)),
        ]
        for proof in proofs:
            for text in [json.dumps(proof, default=float), json.dumps(proof, default=float, indent=2)]:
                report = verify_proof(text, genesis)
                self.assertTrue(report.ok, str(report))
        proofs[0]["receipt"]["view"]["ledger_index"] += 1
        self.assertFalse(verify_proof(json.dumps(proofs[0], default=float), genesis).ok)
