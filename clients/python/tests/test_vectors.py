"""The SDK against SIGNING.md's vectors: typed values, the transactions, the key file, nesting."""
import json
import unittest
from decimal import Decimal

from waybill_client import (Reader, WaybillError, decode_signed_transaction, depth, from_hex,
                            number_of, parse_key_file, read_value, sign_transaction, signed_bytes,
                            signing_bytes, tx_hash, value_bytes, verify_signature)

from .docs import code_blocks, doc, table

SIGNING = doc("SIGNING.md")
SECRET = bytes([1] * 32)


class Vectors(unittest.TestCase):
    def test_value_vectors(self):
        rows = table(SIGNING, "#### Value vectors")
        self.assertGreaterEqual(len(rows), 15)
        for text, hex_bytes in rows:
            exact = json.loads(text, parse_float=Decimal)
            self.assertEqual(value_bytes(exact).hex(), hex_bytes, text)
            self.assertEqual(value_bytes(json.loads(text)).hex(), hex_bytes, f"{text} as floats")
            r = Reader(from_hex(hex_bytes))
            back = read_value(r)
            r.done("value")
            self.assertEqual(value_bytes(back).hex(), hex_bytes, text)
        for bad in ["9007199254740992", "0.1234567890123456", "1e301", "1e-301"]:
            with self.assertRaisesRegex(WaybillError, "cannot be kept exactly"):
                number_of(bad)
        for bad in ["03c201000000000000feff", "0305000000000000000000", "020000000000002000",
                    "0602016200016100", "07", "0102"]:
            with self.assertRaises(WaybillError, msg=bad):
                read_value(Reader(from_hex(bad)))

    def test_transaction_vectors(self):
        import re
        sections = re.split(r"^### Vector \d+: .*$", SIGNING, flags=re.M)[1:]
        self.assertEqual(len(sections), 3)
        for section in sections:
            text, signing, h, signature, signed = [b.strip() for b in code_blocks(section)[:5]]
            stx = json.loads(text, parse_float=Decimal)
            self.assertEqual(signing_bytes(stx["tx"]).hex(), "".join(signing.split()))
            self.assertEqual(tx_hash(stx["tx"]), h)
            self.assertEqual(sign_transaction(stx["tx"], SECRET)["signature"], signature)
            self.assertEqual(signed_bytes(stx).hex(), "".join(signed.split()))
            self.assertTrue(verify_signature(stx))
            back = decode_signed_transaction(from_hex("".join(signed.split())))
            self.assertEqual(signed_bytes(back).hex(), "".join(signed.split()))
            resaved = json.loads(text.replace("412.5", "4.1250e2"))
            self.assertEqual(signing_bytes(resaved["tx"]).hex(), "".join(signing.split()))
            changed = dict(stx, tx=dict(stx["tx"], sequence=stx["tx"]["sequence"] + 1))
            self.assertFalse(verify_signature(changed))

    def test_signature_rule_vectors(self):
        rows = table(SIGNING, "#### Signature rule vectors")
        self.assertEqual(len(rows), 5)
        for case, text, verdict in rows:
            self.assertEqual(verify_signature(json.loads(text)), verdict == "valid", case)

    def test_key_file_example(self):
        example = code_blocks(SIGNING.split("## Key files", 1)[1])[0]
        key = parse_key_file(example)
        self.assertEqual(key.public_key, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
        self.assertEqual(key.secret, SECRET)
        with self.assertRaisesRegex(WaybillError, "does not match"):
            parse_key_file(example.replace(key.public_key, "00" * 32))
        with self.assertRaises(WaybillError):
            parse_key_file(example + 'extra = "1"\n')

    def test_nesting_rule(self):
        self.assertEqual(depth("a"), 0)
        self.assertEqual(depth([]), 1)
        self.assertEqual(depth({"a": [1]}), 2)
        self.assertEqual(depth(json.loads("[[[[[[[[1]]]]]]]]")), 8)
