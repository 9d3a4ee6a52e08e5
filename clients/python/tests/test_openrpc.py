"""The RPC types are generated from clients/openrpc.json (kept equal to the node's rpc.discover
by rpc/tests/openrpc_snapshot.rs): openrpc_types.py must be what the generator makes of it, and
the Client must have a method for every RPC method of the document, with its parameters."""
import inspect
import json
import re
import unittest

from waybill_client import Client, gen, openrpc_types


class OpenRpc(unittest.TestCase):
    def test_types_are_generated_from_the_document(self):
        doc = json.loads(gen.OPENRPC.read_text(encoding="utf-8"))
        self.assertEqual(gen.OUTPUT.read_text(encoding="utf-8"), gen.generate(doc),
                         "run python3 -m waybill_client.gen in clients/python")

    def test_client_has_every_method(self):
        for name, sig in openrpc_types.METHODS.items():
            if name.startswith("waybill_unsubscribe"):
                continue  # Subscription.close() unsubscribes
            attr = "discover" if name == "rpc.discover" else re.sub(
                r"(?<!^)(?=[A-Z])", "_", name.removeprefix("waybill_")).lower()
            method = getattr(Client, attr, None)
            self.assertIsNotNone(method, f"Client has no {attr} for {name}")
            params = [p for p in inspect.signature(method).parameters if p != "self"]
            self.assertEqual(len(params), len(sig["params"]), f"{attr} parameters for {name}")
