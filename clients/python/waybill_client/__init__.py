"""Waybill client: key files, typed canonical values, building and signing every transaction
kind, a JSON-RPC client with submit-and-wait, and an offline proof verifier that trusts only the
genesis file. The specification is docs/SIGNING.md, docs/PROOFS.md and docs/RPC.md."""
from .bcs import Reader, WaybillError, Writer, from_hex, tagged
from .keyfile import Key, generate_key_file, parse_key_file, read_key_file
from .rpc import Client, RpcError, TransactionFailed
from .tx import (decode_signed_transaction, public_key_of, sign_transaction, signed_bytes,
                 signing_bytes, tx_bytes, tx_hash, verify_signature)
from .value import depth, number_of, read_value, value_bytes
from .verify import Report, parse_genesis, verify_proof

__all__ = [
    "Client", "Key", "Reader", "Report", "RpcError", "TransactionFailed", "WaybillError", "Writer",
    "decode_signed_transaction", "depth", "from_hex", "generate_key_file", "number_of",
    "parse_genesis", "parse_key_file", "public_key_of", "read_key_file", "read_value",
    "sign_transaction", "signed_bytes", "signing_bytes", "tagged", "tx_bytes", "tx_hash",
    "value_bytes", "verify_proof", "verify_signature",
]
