"""The SDK's offline verifier against docs/proofs: every example verifies, also re-saved by
Python's json, and a changed view, changed bytes or a repeated member is refused."""
import json
import unittest

from waybill_client import verify_proof

from .docs import doc

FILES = ["transaction.json", "item-state.json", "item-absent.json", "history.json",
         "history-absent.json", "consistency.json", "item-state-epoch2.json"]
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

    def test_a_later_epochs_proof_needs_its_chain_of_changes(self):
        text = doc("proofs/item-state-epoch2.json")
        proof = json.loads(text)
        report = verify_proof(proof, GENESIS)
        self.assertTrue(report.ok, str(report))
        self.assertIn("epoch 2 (4 validators) certifies heights from 5 on", str(report))

        def failed(p):
            return [name for name, passed, _ in verify_proof(p, GENESIS).checks if not passed]

        # Without the chain, the genesis set does not know the signers.
        alone = {k: v for k, v in proof.items() if k != "epoch_changes"}
        self.assertEqual(failed(alone), ["certificate"])
        # A chain proves nothing after its last change (PROOFS.md): cut after the first, the
        # certificate is checked with epoch 1's set, where validators 2, 3 and 4 are a quorum too.
        first_only = dict(proof, epoch_changes=proof["epoch_changes"][:1])
        self.assertEqual(failed(first_only), [])
        # A change signed by a set that is not its epoch's: the second change under epoch 0's.
        self.assertIn("epoch_changes", failed(dict(proof, epoch_changes=proof["epoch_changes"][1:])))
        # Changes out of order, a set the state does not hold, a skipped epoch.
        swapped = dict(proof, epoch_changes=proof["epoch_changes"][::-1])
        self.assertIn("epoch_changes", failed(swapped))
        # Bytes and view changed alike (the view check alone would catch less): the last
        # validator's power (the last 8 bytes), then the epoch number (the first 8).
        def changed_set(edit_bytes, edit_view):
            p = json.loads(text)
            nxt = p["epoch_changes"][0]["next"]
            nxt["bytes"] = edit_bytes(nxt["bytes"])
            edit_view(nxt["view"])
            return verify_proof(p, GENESIS)

        report = changed_set(lambda b: b[:-16] + "0200000000000000",
                             lambda v: v["validators"][-1].update(power=2))
        self.assertIn("the state does not hold this set", str(report))
        report = changed_set(lambda b: "0200000000000000" + b[16:], lambda v: v.update(epoch=2))
        self.assertIn("names epoch 2, expected 1", str(report))

