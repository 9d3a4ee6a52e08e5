//! Shared helpers for the end-to-end tests; the tests are in `tests/`.
pub mod store_chain;
