//! Appending leaves and reading the tree back: roots of any size and RFC 9162 proofs, all from
//! frozen nodes. Every hash a proof needs is the root of some range `[lo, hi)` that the RFC's
//! recursion visits; such a range always starts at a multiple of the largest power of two in its
//! length, so it splits into perfect subtrees (frozen nodes) by the binary digits of its length.

use crate::hash::Hash;
use crate::merkle::TreeHasher;

use super::proof::{ConsistencyProof, InclusionProof};
use super::{AccumulatorError, NodePos, NodeReader, MAX_TREE_SIZE};

/// Every frozen node created by appending `leaf_hashes` (already `hash_leaf`ed) to a tree of
/// `size` leaves, in creation order: each leaf, then the parents it completes. The caller writes
/// them atomically with the block. Nodes created by this call are taken from the call's own
/// output, so they need not be in `reader` yet; older left siblings are read from it.
pub fn append<H: TreeHasher, R: NodeReader + ?Sized>(
    hasher: &H,
    reader: &R,
    size: u64,
    leaf_hashes: &[Hash],
) -> Result<Vec<(NodePos, Hash)>, AccumulatorError> {
    check_size(size)?;
    let adding = leaf_hashes.len() as u64;
    let too_many = || AccumulatorError::TreeFull {
        size,
        adding,
        max: MAX_TREE_SIZE,
    };
    let new_size = size.checked_add(adding).ok_or_else(too_many)?;
    if new_size > MAX_TREE_SIZE {
        return Err(too_many());
    }

    // A binary counter over perfect subtrees. `pending` holds the nodes made by this call whose
    // parent does not exist yet, by strictly decreasing level: when a node completes as a right
    // child, its left sibling is either the top of `pending` (made by this call) or, if nothing
    // made by this call lies to its left, an old frozen node in `reader`.
    // A tree of n leaves has 2n - popcount(n) frozen nodes, so this reserve is about exact.
    let mut out = Vec::with_capacity(leaf_hashes.len().saturating_mul(2).saturating_add(64));
    let mut pending: Vec<(NodePos, Hash)> = Vec::new();
    for (index, leaf) in (size..new_size).zip(leaf_hashes) {
        let mut pos = NodePos::leaf(index);
        let mut hash = *leaf;
        out.push((pos, hash));
        while pos.index & 1 == 1 {
            let sibling = NodePos::new(pos.level, pos.index - 1);
            let left = match pending.last() {
                Some(&(p, h)) if p == sibling => {
                    pending.pop();
                    h
                }
                _ => reader.frozen_node(sibling)?,
            };
            hash = hasher.hash_children(&left, &hash);
            // index < 2^63 >> level and index is odd here, so level < 63 and level + 1 <= 63.
            debug_assert!(pos.level < 63);
            pos = NodePos::new(pos.level + 1, pos.index >> 1);
            out.push((pos, hash));
        }
        pending.push((pos, hash));
    }
    Ok(out)
}

/// The root of the first `size` leaves (RFC 9162 MTH), for any size the store holds: the perfect
/// subtrees of size's binary decomposition, folded right to left. The empty tree's root is H().
pub fn root_at<H: TreeHasher, R: NodeReader + ?Sized>(
    hasher: &H,
    reader: &R,
    size: u64,
) -> Result<Hash, AccumulatorError> {
    check_size(size)?;
    if size == 0 {
        return Ok(hasher.empty_root());
    }
    range_root(hasher, reader, 0, size)
}

/// The RFC 9162 section 2.1.3.1 inclusion proof PATH(m, D[n]) for leaf `leaf_index` in the tree
/// of the first `size` leaves: sibling hashes from the leaf up to the root.
pub fn inclusion_proof<H: TreeHasher, R: NodeReader + ?Sized>(
    hasher: &H,
    reader: &R,
    leaf_index: u64,
    size: u64,
) -> Result<InclusionProof, AccumulatorError> {
    check_size(size)?;
    if leaf_index >= size {
        return Err(AccumulatorError::IndexOutOfRange {
            leaf_index,
            tree_size: size,
        });
    }
    // PATH(m, D[lo:hi]) = PATH(m, D[lo:mid]) : MTH(D[mid:hi])  if m < mid
    //                   = PATH(m, D[mid:hi]) : MTH(D[lo:mid])  otherwise,
    // walked from the root down, so the siblings come out top first and are reversed at the end.
    let (mut lo, mut hi) = (0u64, size);
    let mut path = Vec::new();
    while hi - lo > 1 {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if leaf_index < mid {
            path.push(range_root(hasher, reader, mid, hi)?);
            hi = mid;
        } else {
            path.push(range_root(hasher, reader, lo, mid)?);
            lo = mid;
        }
    }
    path.reverse();
    Ok(InclusionProof {
        leaf_index,
        tree_size: size,
        path,
    })
}

/// The RFC 9162 section 2.1.4.1 consistency proof PROOF(old_size, D[new_size]) =
/// SUBPROOF(old_size, D[new_size], true). Equal sizes give the empty proof (the verifier then
/// compares the roots); an empty old tree has no proof (the RFC requires 0 < m).
pub fn consistency_proof<H: TreeHasher, R: NodeReader + ?Sized>(
    hasher: &H,
    reader: &R,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, AccumulatorError> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(AccumulatorError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 {
        return Err(AccumulatorError::EmptyOldTree { new_size });
    }
    // SUBPROOF(m, D[lo:hi], b):
    //   m == hi:  {} if b, else {MTH(D[lo:hi])}
    //   m <= mid: SUBPROOF(m, D[lo:mid], b) : MTH(D[mid:hi])
    //   m > mid:  SUBPROOF(m, D[mid:hi], false) : MTH(D[lo:mid])
    // (m, lo, hi are absolute leaf positions.) Walked from the root down: the appended hashes
    // come out outermost first and are reversed; the innermost MTH, if any, goes first.
    let (mut lo, mut hi) = (0u64, new_size);
    let mut whole_old_tree_known = true; // the RFC's `b`
    let mut suffix = Vec::new();
    // Invariant: lo < old_size <= hi, so when hi - lo == 1 the loop has already stopped.
    while old_size != hi {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if old_size <= mid {
            suffix.push(range_root(hasher, reader, mid, hi)?);
            hi = mid;
        } else {
            suffix.push(range_root(hasher, reader, lo, mid)?);
            lo = mid;
            whole_old_tree_known = false;
        }
    }
    let mut path = Vec::with_capacity(suffix.len() + 1);
    if !whole_old_tree_known {
        path.push(range_root(hasher, reader, lo, hi)?);
    }
    path.extend(suffix.into_iter().rev());
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path,
    })
}

/// MTH(D[lo:hi]) for a range the RFC recursion visits (lo < hi, and lo a multiple of the largest
/// power of two in hi - lo): combine the perfect subtrees of the length's binary digits, highest
/// first from lo, folding right to left. At most 64 frozen-node reads.
fn range_root<H: TreeHasher, R: NodeReader + ?Sized>(
    hasher: &H,
    reader: &R,
    lo: u64,
    hi: u64,
) -> Result<Hash, AccumulatorError> {
    debug_assert!(lo < hi && hi <= MAX_TREE_SIZE);
    let len = hi - lo;
    let mut peaks: Vec<Hash> = Vec::with_capacity(len.count_ones() as usize);
    let mut cursor = lo;
    for level in (0..64u8).rev() {
        let width = 1u64 << level;
        if len & width != 0 {
            // Alignment holds by the caller's contract; cursor + width <= hi <= 2^63.
            debug_assert_eq!(cursor & (width - 1), 0);
            peaks.push(reader.frozen_node(NodePos::new(level, cursor >> level))?);
            cursor += width;
        }
    }
    let mut peaks = peaks.into_iter().rev();
    // len >= 1, so there is at least one peak; the fallback is unreachable but never panics.
    let mut acc = peaks.next().unwrap_or_else(|| hasher.empty_root());
    for left in peaks {
        acc = hasher.hash_children(&left, &acc);
    }
    Ok(acc)
}

/// The largest power of two strictly below `n`, for n >= 2 (the RFC's split point k).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

fn check_size(size: u64) -> Result<(), AccumulatorError> {
    if size > MAX_TREE_SIZE {
        return Err(AccumulatorError::SizeTooLarge {
            size,
            max: MAX_TREE_SIZE,
        });
    }
    Ok(())
}
