//! The bodies of the fuzz targets, shared with the stable replay test
//! (`tests/fuzz_replay.rs` includes this file as a module).

pub mod async_poll;
pub mod common;
pub mod ops;
pub mod threads;
