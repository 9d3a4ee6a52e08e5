//! Shared helpers for the benchmarks live here; the benches are in `benches/`.
