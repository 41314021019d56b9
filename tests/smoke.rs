//! Quick smoke tests of the core paths.
use forthcoming::*;
use std::time::Duration;

#[test]
fn handoff_many() {
    for _ in 0..20000 {
        let (p, f) = promise::<u64, ()>();
        let t = std::thread::spawn(move || p.set_result(5));
        assert_eq!(f.get_result(), Ok(&5));
        t.join().unwrap();
    }
}

#[test]
fn group() {
    let (p1, f1) = promise::<u8, ()>();
    let (p2, f2) = promise::<u8, ()>();
    assert_eq!(wait([&f1, &f2], Some(Duration::from_millis(2)), ReturnWhen::FirstCompleted), (vec![], vec![0, 1]));
    let t = std::thread::spawn(move || { p2.set_result(1); p1.set_exception(()); });
    wait_all([&f1, &f2]);
    t.join().unwrap();
    assert_eq!(wait([&f1, &f2, &f1], None, ReturnWhen::AllCompleted), (vec![0, 1, 2], vec![]));
}
