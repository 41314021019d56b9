//! Fuzz target `threads`: see `forthcoming_fuzz::threads`.
#![no_main]

use forthcoming_fuzz::threads::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(&input));
