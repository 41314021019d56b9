//! Benches (placeholder until the bench issue work lands).
fn main() {}
