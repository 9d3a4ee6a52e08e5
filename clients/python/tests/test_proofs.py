"""The SDK's offline verifier against docs/proofs: every example verifies, also re-saved by
Python's json, and a changed view, changed bytes or a repeated member is refused."""
import json
import unittest

from waybill_client import verify_proof

from .docs import doc

FILES = ["transaction.json", "item-state.json", "item-absent.json", "history.json",
         "history-absent.json", "consistency.json"]
GENESIS = doc("proofs/genesis.toml")


class Proofs(unittest.TestCase):
    def test_examples_verify_also_resaved(self):
        for f in FILES:
            text = doc(f"proofs/{f}")
            for t in [text, json.dumps(json.loads(text), indent=1), text.replace("412.5", "4.1250e2")]:
                report = verify_proof(t, GENESIS)
                self.assertTrue(report.ok, f"{f}:\n{report}")

    def test_changed_proofs_are_refused(self):
        history = doc("proofs/history.json")
        for what, changed in [
            ("view", history.replace('"weight_kg": 412.5', '"weight_kg": 412.51')),
            ("bytes", history.replace("031d10000000000000ffff", "031e10000000000000ffff")),
            ("repeated member", history.replace('"kind": "history",', '"kind": "history", "kind": "history",')),
            ("upper-case hex", history.replace("031d10000000000000ffff", "031D10000000000000FFFF")),
            ("another item", history.replace('"item_id": "pallet-1"', '"item_id": "crate-9"')),
        ]:
            self.assertNotEqual(changed, history, what)
            self.assertFalse(verify_proof(changed, GENESIS).ok, what)
