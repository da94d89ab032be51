//! Unit tests of the set type: encodings, conversions, random picks, pops and SSCAN.

use super::*;

fn lim() -> Limits {
    Limits::default()
}

fn members(s: &Set) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = s.iter().map(Member::to_vec).collect();
    v.sort();
    v
}

fn build(items: &[&str], limits: &Limits) -> Set {
    let mut s = Set::for_members(items[0].as_bytes(), 1, limits);
    for i in items {
        s.insert(i.as_bytes(), limits);
    }
    s
}
#[test]
fn intset_keeps_canonical_integers_sorted() {
    let l = lim();
    let mut s = Set::for_members(b"5", 3, &l);
    assert_eq!(s.encoding(), "intset");
    for m in ["5", "-3", "9223372036854775807", "-9223372036854775808", "5"] {
        s.insert(m.as_bytes(), &l);
    }
    assert_eq!(s.len(), 4);
    assert_eq!(s.iter().next(), Some(Member::Int(i64::MIN)));
    assert!(s.contains(b"-3") && !s.contains(b"-03") && !s.contains(b"+5") && !s.contains(b"x"));
    assert!(s.remove(b"-3") && !s.remove(b"-3") && !s.remove(b"nope"));
    assert_eq!(s.encoding(), "intset");
    // Not canonical: a listpack member of its own.
    for m in ["007", "-0", "+1", "1.0"] {
        let mut t = build(&["1", "2"], &l);
        assert!(t.insert(m.as_bytes(), &l), "{m}");
        assert_eq!(t.encoding(), "listpack", "{m}");
        assert!(t.contains(m.as_bytes()) && t.contains(b"1") && t.len() == 3);
    }
}

#[test]
fn intset_converts_like_redis() {
    let l = Limits { set_intset_entries: 4, set_entries: 3, set_value: 5, ..lim() };
    // Past the intset limit: straight to a hashtable.
    let mut s = build(&["1", "2", "3", "4"], &l);
    assert_eq!(s.encoding(), "intset");
    s.insert(b"5", &l);
    assert_eq!((s.encoding(), s.len()), ("hashtable", 5));
    // A string into a small intset of short integers: listpack.
    let mut s = build(&["1", "2"], &l);
    s.insert(b"abc", &l);
    assert_eq!(s.encoding(), "listpack");
    assert_eq!(members(&s), vec![b"1".to_vec(), b"2".to_vec(), b"abc".to_vec()]);
    // Too many members for a listpack, a long string, or a wide integer: hashtable.
    for (items, add) in [(&["1", "2", "3"][..], "a"), (&["1"][..], "abcdef"), (&["-12345"][..], "a")] {
        let mut s = build(items, &l);
        assert_eq!(s.encoding(), "intset");
        s.insert(add.as_bytes(), &l);
        assert_eq!(s.encoding(), "hashtable", "{items:?} + {add}");
        assert!(s.contains(add.as_bytes()) && s.contains(items[0].as_bytes()));
    }
    // Never back, even when emptied.
    let mut s = build(&["1", "2"], &l);
    s.insert(b"x", &l);
    s.remove(b"x");
    assert_eq!(s.encoding(), "listpack");
}

#[test]
fn listpack_converts_past_its_limits() {
    let l = Limits { set_entries: 3, set_value: 4, ..lim() };
    let mut s = build(&["a", "b", "c"], &l);
    assert_eq!(s.encoding(), "listpack");
    assert!(!s.insert(b"a", &l));
    assert_eq!(s.encoding(), "listpack");
    s.insert(b"d", &l);
    assert_eq!((s.encoding(), s.len()), ("hashtable", 4));
    let mut s = build(&["a"], &l);
    s.insert(b"toolong", &l);
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(members(&s), vec![b"a".to_vec(), b"toolong".to_vec()]);
}

#[test]
fn creation_and_size_hints_follow_set_type_create() {
    let l = Limits { set_intset_entries: 4, set_entries: 6, ..lim() };
    assert_eq!(Set::for_members(b"1", 4, &l).encoding(), "intset");
    assert_eq!(Set::for_members(b"1", 5, &l).encoding(), "listpack");
    assert_eq!(Set::for_members(b"a", 6, &l).encoding(), "listpack");
    assert_eq!(Set::for_members(b"a", 7, &l).encoding(), "hashtable");
    let mut s = build(&["1"], &l);
    s.prepare_for(4, &l);
    assert_eq!(s.encoding(), "intset");
    s.prepare_for(5, &l);
    assert_eq!(s.encoding(), "hashtable");
    let mut s = build(&["a"], &l);
    s.prepare_for(7, &l);
    assert_eq!(s.encoding(), "hashtable");
    assert!(s.contains(b"a"));
}

#[test]
fn hashtable_insert_remove_many() {
    let l = lim();
    let mut s = Set::for_members(b"m", 1000, &l);
    for i in 0..5000 {
        assert!(s.insert(format!("m{i}").as_bytes(), &l));
    }
    assert!(!s.insert(b"m42", &l));
    assert_eq!((s.len(), s.encoding()), (5000, "hashtable"));
    assert!(s.contains_member(Member::Bytes(b"m4999")) && !s.contains(b"m5000"));
    s.insert(b"17", &l);
    assert!(s.contains_member(Member::Int(17)) && s.remove_member(Member::Int(17)));
    for i in 0..4990 {
        assert!(s.remove(format!("m{i}").as_bytes()));
    }
    assert_eq!(s.len(), 10);
    assert_eq!(s.iter().count(), 10);
    assert!(s.heap_size() > 0);
}

#[test]
fn random_picks_are_members_and_distinct_when_asked() {
    let l = lim();
    for items in [
        (0..50).map(|i| i.to_string()).collect::<Vec<_>>(),
        (0..50).map(|i| format!("s{i}")).collect(),
        (0..300).map(|i| format!("s{i}")).collect(),
    ] {
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let s = build(&refs, &l);
        for count in [1, 5, 20, 49, 50, 80] {
            let got: Vec<Vec<u8>> = s.random_distinct(count).into_iter().map(Member::to_vec).collect();
            assert_eq!(got.len(), count.min(s.len()));
            let uniq: std::collections::HashSet<_> = got.iter().collect();
            assert_eq!(uniq.len(), got.len(), "{} count {count}", s.encoding());
            assert!(got.iter().all(|m| s.contains(m)));
        }
        let mut n = 0;
        s.random_with_repeats(500, |m| {
            assert!(s.contains_member(m));
            n += 1;
        });
        assert_eq!(n, 500);
        // Every member shows up eventually (no member is unreachable).
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            s.random_with_repeats(50, |m| {
                seen.insert(m.to_vec());
            });
        }
        assert_eq!(seen.len(), s.len(), "{}", s.encoding());
    }
    assert!(Set::new().random().is_none());
}

#[test]
fn pops_remove_what_they_return() {
    let l = Limits { set_entries: 16, ..lim() };
    for (n, ints, count, enc_after) in [
        (40, true, 3, "intset"),
        (40, true, 38, "intset"),
        (12, false, 2, "listpack"),
        (12, false, 11, "listpack"),
        (100, false, 5, "hashtable"),
        (100, false, 95, "listpack"),
        (100, false, 70, "hashtable"),
    ] {
        let items: Vec<String> = (0..n).map(|i| if ints { i.to_string() } else { format!("e{i}") }).collect();
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let mut s = build(&refs, &l);
        let popped = s.pop_many(count, &l);
        assert_eq!(popped.len(), count);
        assert_eq!(s.len(), n - count);
        assert_eq!(s.encoding(), enc_after, "n {n} count {count}");
        let mut all: Vec<Vec<u8>> = popped.iter().chain(members(&s).iter()).cloned().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        let one = s.pop_random().expect("non-empty");
        assert!(!s.contains(&one));
    }
    let mut s = build(&["a", "b"], &l);
    assert_eq!(s.pop_many(5, &l).len(), 2);
    assert!(s.is_empty() && s.pop_random().is_none());
}

#[test]
fn scan_visits_every_member() {
    let l = lim();
    let mut s = Set::for_members(b"x", 1000, &l);
    for i in 0..3000 {
        s.insert(format!("x{i}").as_bytes(), &l);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        cursor = s.scan(cursor, 10, |m| {
            seen.insert(m.to_vec());
        });
        calls += 1;
        if cursor == 0 {
            break;
        }
        assert!(cursor < 1 << 53);
    }
    assert_eq!(seen.len(), 3000);
    assert!(calls > 100);
    let small = build(&["1", "2", "3"], &l);
    let mut n = 0;
    assert_eq!(small.scan(12345, 1, |_| n += 1), 0);
    assert_eq!(n, 3);
}

#[test]
fn store_results_take_the_best_encoding() {
    let l = Limits { set_entries: 4, ..lim() };
    let big = build(&["a", "b", "c", "d", "e", "1"], &l);
    assert_eq!(big.encoding(), "hashtable");
    let mut r = Set::for_intersection(&big);
    assert_eq!(r.encoding(), "listpack");
    for m in ["3", "1", "2", "10", "11"] {
        r.insert(m.as_bytes(), &l);
    }
    assert_eq!(r.encoding(), "hashtable");
    r.compact_integers(&l);
    assert_eq!(r.encoding(), "intset");
    assert_eq!(r.iter().collect::<Vec<_>>(), [1, 2, 3, 10, 11].map(Member::Int));
    let mut r = Set::for_intersection(&big);
    r.insert(b"1", &l);
    r.insert(b"z", &l);
    r.compact_integers(&l);
    assert_eq!(r.encoding(), "listpack");
    assert_eq!(Set::for_intersection(&build(&["1"], &l)).encoding(), "intset");
    // Union and difference start from an empty intset.
    let mut u = Set::new();
    u.insert(b"1", &l);
    assert_eq!(u.encoding(), "intset");
    u.insert(b"x", &l);
    assert_eq!(u.encoding(), "listpack");
}

#[test]
fn clone_and_equality_ignore_encoding() {
    let l = lim();
    let a = build(&["1", "2", "3"], &l);
    let mut b = Set::for_members(b"x", 1000, &l);
    for m in ["3", "2", "1"] {
        b.insert(m.as_bytes(), &l);
    }
    assert_eq!(b.encoding(), "hashtable");
    assert_eq!(a, b);
    let c = b.clone();
    assert_eq!(c.encoding(), "hashtable");
    assert_eq!(c, a);
    b.insert(b"4", &l);
    assert_ne!(a, b);
    assert_eq!(format!("{a:?}"), r#"{"1", "2", "3"}"#);
}
