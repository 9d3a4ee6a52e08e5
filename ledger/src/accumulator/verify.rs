//! The RFC 9162 verifiers (sections 2.1.3.2 and 2.1.4.2), with no storage and no I/O: what a
//! client or an auditor runs on proofs from untrusted parties. Every check the RFC names is made,
//! in its order, and the proof length is checked up front against the one length the RFC's
//! construction gives, so junk costs no hashing and a wrong length gets its own error.
//!
//! A proof authenticates a *root*, not a size: the RFC's arithmetic depends only on where the
//! paths to `index`/`size - 1` diverge, so two sizes of the same shape accept the same proof for
//! the same root. Sizes must come authenticated with their root (Waybill's ledger certificate
//! signs both).

use crate::hash::Hash;
use crate::merkle::TreeHasher;

/// Why a proof was rejected, with the values that failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {leaf_index} is not in a tree of {tree_size} leaves")]
    IndexOutOfRange { leaf_index: u64, tree_size: u64 },
    #[error("old size {old_size} is larger than new size {new_size}")]
    OldSizeExceedsNewSize { old_size: u64, new_size: u64 },
    /// Consistency with the empty tree proves nothing; RFC 9162 defines proofs only for 0 < old.
    #[error("consistency from the empty tree (to size {new_size}) is meaningless")]
    EmptyOldTree { new_size: u64 },
    #[error("sizes are equal ({size}) but the proof has {len} hashes instead of none")]
    NonEmptyProofForEqualSizes { size: u64, len: usize },
    #[error("sizes are equal ({size}) but the roots differ: {old_root} != {new_root}")]
    RootsDiffer {
        size: u64,
        old_root: Hash,
        new_root: Hash,
    },
    #[error("inclusion proof of leaf {leaf_index} in {tree_size} has {got} hashes, needs exactly {expected}")]
    WrongInclusionLength {
        leaf_index: u64,
        tree_size: u64,
        expected: usize,
        got: usize,
    },
    #[error(
        "consistency proof {old_size} -> {new_size} has {got} hashes, needs exactly {expected}"
    )]
    WrongConsistencyLength {
        old_size: u64,
        new_size: u64,
        expected: usize,
        got: usize,
    },
    #[error("inclusion proof computes root {computed}, expected {expected}")]
    RootMismatch { expected: Hash, computed: Hash },
    #[error("consistency proof computes old root {computed}, expected {expected}")]
    OldRootMismatch { expected: Hash, computed: Hash },
    #[error("consistency proof computes new root {computed}, expected {expected}")]
    NewRootMismatch { expected: Hash, computed: Hash },
}

/// Number of hashes in the inclusion proof of `leaf_index` in a tree of `tree_size` leaves
/// (requires leaf_index < tree_size): one per level of the RFC's PATH recursion.
pub fn inclusion_proof_len(leaf_index: u64, tree_size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0u64, tree_size, 0usize);
    while hi.saturating_sub(lo) > 1 {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if leaf_index < mid {
            hi = mid;
        } else {
            lo = mid;
        }
        len += 1;
    }
    len
}

/// Number of hashes in the consistency proof from `old_size` to `new_size`
/// (requires 0 < old_size <= new_size): one per level of the RFC's SUBPROOF recursion, plus the
/// innermost subtree root when the old tree is not itself a subtree of the new one.
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0u64, new_size, 0usize);
    let mut whole_old_tree_known = true;
    while old_size < hi && lo < old_size {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if old_size <= mid {
            hi = mid;
        } else {
            lo = mid;
            whole_old_tree_known = false;
        }
        len += 1;
    }
    len + usize::from(!whole_old_tree_known)
}

/// RFC 9162 section 2.1.3.2: checks that `leaf_hash` is leaf `leaf_index` of the tree of
/// `tree_size` leaves whose root is `root`.
pub fn verify_inclusion<H: TreeHasher>(
    hasher: &H,
    leaf_hash: &Hash,
    leaf_index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // 1. leaf_index must be inside the tree.
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    let expected = inclusion_proof_len(leaf_index, tree_size);
    let wrong_len = || ProofError::WrongInclusionLength {
        leaf_index,
        tree_size,
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_len());
    }
    // 2-3. fn = leaf_index, sn = tree_size - 1 (no underflow: tree_size > leaf_index >= 0).
    let (mut f, mut s) = (leaf_index, tree_size - 1);
    let mut r = *leaf_hash;
    // 4. Walk the path.
    for p in proof {
        if s == 0 {
            return Err(wrong_len());
        }
        if f & 1 == 1 || f == s {
            r = hasher.hash_children(p, &r);
            // Skip the levels where this node has no right sibling (the right border).
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = hasher.hash_children(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // 5. The whole path was used, and it leads to the root.
    if s != 0 {
        return Err(wrong_len());
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// RFC 9162 section 2.1.4.2: checks that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`. Equal sizes need an empty proof
/// and equal roots; an empty old tree is rejected, as the transparency-dev reference does.
pub fn verify_consistency<H: TreeHasher>(
    hasher: &H,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree { new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes {
                size: old_size,
                len: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(ProofError::RootsDiffer {
                size: old_size,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }
    // 1. (An empty path fails here too: 0 < old < new always needs at least one hash.)
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_len = || ProofError::WrongConsistencyLength {
        old_size,
        new_size,
        expected,
        got: proof.len(),
    };
    if proof.len() != expected || proof.is_empty() {
        return Err(wrong_len());
    }
    // 2. If old_size is a power of two the old root is itself a node of the new tree and is not
    //    sent: start from it.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    // 3-4. fn = old - 1, sn = new - 1, then drop the levels where the old tree's last node is a
    //      right child (those nodes are inside the seed).
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // 5-6. fr rebuilds the old root, sr the new root, from the same hashes.
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if s == 0 {
            return Err(wrong_len());
        }
        if f & 1 == 1 || f == s {
            fr = hasher.hash_children(c, &fr);
            sr = hasher.hash_children(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = hasher.hash_children(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // 7. All of the path was used and both roots match.
    if s != 0 {
        return Err(wrong_len());
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch {
            expected: *old_root,
            computed: fr,
        });
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch {
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

/// The RFC's split point k for n >= 2 (callers guarantee it; for smaller n this returns 1 rather
/// than panic).
fn largest_power_of_two_below(n: u64) -> u64 {
    if n < 2 {
        return 1;
    }
    1u64 << (63 - (n - 1).leading_zeros())
}
