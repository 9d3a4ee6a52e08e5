// Quorum certificates as blocks carry them (`justify`, `certificate`: PROOFS.md, "Blocks and
// quorum certificates"): which validators signed, by their index in the genesis list. Shown for
// liveness only; a verdict never rests on it.

import { fromHex, Reader, toHex } from "../../clients/typescript/src/bytes.js";

export interface QcInfo {
  /** The validator-set epoch whose members signed (their indexes are in that epoch's list). */
  epoch: number;
  block_id: string;
  round: number;
  /** Indexes of the signing validators in their epoch's list. */
  signers: number[];
}

/** Decodes a QC's canonical bytes; null for the empty `justify` of genesis or bytes that do not decode. */
export function readQc(hex: string): QcInfo | null {
  if (!hex) return null;
  try {
    const r = new Reader(fromHex(hex));
    r.take(32);
    const epoch = Number(r.u64());
    const block_id = toHex(r.take(32));
    const round = Number(r.u64());
    r.take(32);
    r.u64();
    const signers = r.vec(() => {
      const b = r.take(2);
      r.take(64);
      return b[0] | (b[1] << 8);
    });
    r.done("quorum certificate");
    return { epoch, block_id, round, signers };
  } catch {
    return null;
  }
}
