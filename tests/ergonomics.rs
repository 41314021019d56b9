//! The crate as a library author first uses it: an RPC client that fans
//! calls out to threads and reads them with `?` into `anyhow` and
//! `Box<dyn Error>`, the same calls awaited in tokio and in
//! `futures::executor`, one value read by many threads, waits over
//! references and trait objects, and done futures without a promise.

use forthcoming as fc;
use std::collections::HashMap;

/// A cache answers from memory with a future already done, so callers read
/// a hit and a miss the same way.
#[test]
fn a_cache_hands_out_done_futures() {
    let mut cache: HashMap<&str, u64> = HashMap::new();
    cache.insert("answer", 42);
    let lookup = |key: &str| match cache.get(key) {
        Some(&hit) => fc::Future::ready(hit),
        None => fc::Future::failed(format!("{key}: not cached")),
    };
    let hit: fc::Future<u64, String> = lookup("answer");
    assert!(hit.done());
    assert_eq!(hit.get_result(), Ok(&42));
    let miss = lookup("question");
    assert!(miss.done());
    assert_eq!(
        miss.get_result(),
        Err(&fc::Failure::Exception("question: not cached".to_string()))
    );
    assert!(miss.get_traceback().is_some(), "a failure has a backtrace");
    // No promise holds on to it: a sole handle takes the value out.
    assert_eq!(lookup("answer").into_result().ok(), Some(Ok(42)));
}
