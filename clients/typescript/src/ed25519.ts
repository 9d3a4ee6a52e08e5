// Waybill's one Ed25519 verification rule (docs/SIGNING.md, "The signature rule"), so that this
// SDK accepts exactly the signatures validators accept: canonical encodings of A and R, neither
// of small order; s below L; the cofactored equation [8]([s]B - [k]A - R) = 0.
//
// noble's strict mode ({ zip215: false }) checks everything but a small-order R; that one is
// checked here.

import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

// noble signs and verifies synchronously only with a SHA-512 given to it; every module that
// signs or verifies imports this one.
ed.hashes.sha512 = sha512;

export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    if (ed.Point.fromBytes(signature.subarray(0, 32), false).isSmallOrder()) return false;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
