//! Fuzz target `ops`: see `forthcoming_fuzz::ops`.
#![no_main]

use forthcoming_fuzz::ops::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(&input));
