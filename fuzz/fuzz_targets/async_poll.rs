//! Fuzz target `async_poll`: see `forthcoming_fuzz::async_poll`.
#![no_main]

use forthcoming_fuzz::async_poll::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(&input));
