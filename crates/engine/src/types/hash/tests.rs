//! Unit tests of the hash type: both encodings, conversions, field TTLs, scans and sampling.

use super::*;
use std::collections::{HashMap, HashSet};

fn limits(entries: usize, value: usize) -> Limits {
    Limits { hash_entries: entries, hash_value: value, ..Limits::default() }
}

fn sorted_pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    v.sort();
    v
}

#[test]
fn set_get_del_in_both_encodings() {
    for l in [Limits::default(), limits(0, 64)] {
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &l));
        assert!(h.set(b"b", b"2", &l));
        assert!(!h.set(b"a", b"10", &l));
        assert!(!h.set_nx(b"a", b"x", &l));
        assert!(h.set_nx(b"c", b"3", &l));
        assert_eq!(h.len(), 3);
        assert_eq!(h.get(b"a"), Some(&b"10"[..]));
        assert_eq!(h.get(b"zz"), None);
        assert!(h.contains(b"c"));
        assert!(h.del(b"b"));
        assert!(!h.del(b"b"));
        assert_eq!(sorted_pairs(&h), vec![(b"a".to_vec(), b"10".to_vec()), (b"c".to_vec(), b"3".to_vec())]);
        assert!(h.del(b"a") && h.del(b"c"));
        assert!(h.is_empty());
    }
}

#[test]
fn converts_past_entry_count_and_never_back() {
    let l = limits(4, 64);
    let mut h = Hash::new();
    for i in 0..4 {
        h.set(format!("f{i}").as_bytes(), b"v", &l);
    }
    assert_eq!(h.encoding(), "listpack");
    h.set(b"f4", b"v", &l);
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.len(), 5);
    for i in 0..5 {
        assert_eq!(h.get(format!("f{i}").as_bytes()), Some(&b"v"[..]));
    }
    for i in 0..5 {
        h.del(format!("f{i}").as_bytes());
    }
    h.set(b"x", b"y", &l);
    assert_eq!(h.encoding(), "hashtable");
}

#[test]
fn converts_on_long_field_or_value() {
    let l = limits(128, 8);
    let mut h = Hash::new();
    h.set(b"short", b"12345678", &l);
    assert_eq!(h.encoding(), "listpack");
    h.set(b"short", b"123456789", &l);
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.get(b"short"), Some(&b"123456789"[..]));
    let mut h = Hash::new();
    h.set(b"a-very-long-field", b"v", &l);
    assert_eq!(h.encoding(), "hashtable");
}

#[test]
fn field_ttls_set_persist_and_expire() {
    let l = Limits::default();
    let mut h = Hash::new();
    h.set(b"a", b"1", &l);
    h.set(b"b", b"2", &l);
    h.set(b"c", b"3", &l);
    assert_eq!(h.expire_time(b"a"), Some(None));
    assert_eq!(h.expire_time(b"nope"), None);
    assert!(!h.set_expire_time(b"nope", 100));
    assert_eq!(h.encoding(), "listpack");
    assert!(h.set_expire_time(b"a", 100));
    assert_eq!(h.encoding(), "hashtable");
    assert!(h.set_expire_time(b"b", 200));
    assert!(h.set_expire_time(b"b", 300));
    assert_eq!(h.expire_time(b"b"), Some(Some(300)));
    assert_eq!(h.volatile_len(), 2);
    assert_eq!(h.next_expiry(), Some(100));
    assert_eq!(h.expire_fields(99), 0);
    assert_eq!(h.expire_fields(100), 1);
    assert_eq!(h.get(b"a"), None);
    assert_eq!(h.next_expiry(), Some(300));
    assert!(h.persist(b"b"));
    assert!(!h.persist(b"b"));
    assert!(!h.persist(b"c"));
    assert_eq!(h.next_expiry(), None);
    assert_eq!(h.expire_fields(u64::MAX), 0);
    assert_eq!(h.len(), 2);
}

#[test]
fn set_clears_ttl_and_set_keep_ttl_keeps_it() {
    let l = Limits::default();
    let mut h = Hash::new();
    h.set(b"a", b"1", &l);
    h.set(b"b", b"1", &l);
    h.set_expire_time(b"a", 50);
    h.set_expire_time(b"b", 60);
    h.set_keep_ttl(b"a", b"2", &l);
    h.set_keep_ttl(b"a", b"longer value", &l);
    assert_eq!(h.expire_time(b"a"), Some(Some(50)));
    h.set(b"b", b"3", &l);
    assert_eq!(h.expire_time(b"b"), Some(None));
    assert_eq!(h.volatile_len(), 1);
    assert!(h.del(b"a"));
    assert_eq!(h.volatile_len(), 0);
    assert_eq!(h.expire_fields(1000), 0);
    assert_eq!(h.get(b"b"), Some(&b"3"[..]));
}

#[test]
fn bounded_expiry_reports_fields() {
    let l = limits(0, 64);
    let mut h = Hash::new();
    for i in 0..10u64 {
        let f = format!("f{i}");
        h.set(f.as_bytes(), b"v", &l);
        h.set_expire_time(f.as_bytes(), 10 + i);
    }
    let mut gone = Vec::new();
    assert_eq!(h.expire_fields_max(100, 3, |f| gone.push(f.to_vec())), 3);
    assert_eq!(gone, vec![b"f0".to_vec(), b"f1".to_vec(), b"f2".to_vec()]);
    assert_eq!(h.expire_fields(14), 2);
    assert_eq!(h.len(), 5);
    assert_eq!(h.next_expiry(), Some(15));
}

#[test]
fn scan_covers_every_field_in_both_encodings() {
    for l in [Limits::default(), limits(0, 64)] {
        let mut h = Hash::new();
        for i in 0..300 {
            h.set(format!("k{i}").as_bytes(), format!("v{i}").as_bytes(), &l);
        }
        let mut seen = HashMap::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = h.scan(cursor, 10, |f, v| {
                seen.insert(f.to_vec(), v.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
            assert!(cursor < 1 << 53);
        }
        assert_eq!(seen.len(), 300, "{}", h.encoding());
        assert_eq!(seen.get(b"k7".as_slice()), Some(&b"v7".to_vec()));
        if h.encoding() == "hashtable" {
            assert!(calls > 5);
        } else {
            assert_eq!(calls, 1);
        }
    }
}

#[test]
fn random_pairs_shapes() {
    for l in [Limits::default(), limits(0, 64)] {
        let mut h = Hash::new();
        for i in 0..10 {
            h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &l);
        }
        let collect = |count, unique| {
            let mut out = Vec::new();
            h.random_pairs(count, unique, |f, v| {
                assert_eq!(&f[1..], &v[1..]);
                out.push(f.to_vec());
                true
            });
            out
        };
        assert_eq!(collect(25, false).len(), 25);
        for n in [1, 2, 8, 10, 20] {
            let got = collect(n, true);
            assert_eq!(got.len(), n.min(10));
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "unique {n}");
        }
        // Every field turns up, and early stop works.
        let seen: HashSet<_> = collect(1000, false).into_iter().collect();
        assert_eq!(seen.len(), 10);
        let mut n = 0;
        h.random_pairs(100, false, |_, _| {
            n += 1;
            n < 5
        });
        assert_eq!(n, 5);
        assert!(h.random().is_some());
    }
    assert!(Hash::new().random().is_none());
}

#[test]
fn random_is_roughly_uniform_in_a_table() {
    let l = limits(0, 64);
    let mut h = Hash::new();
    for i in 0..10 {
        h.set(format!("f{i}").as_bytes(), b"v", &l);
    }
    let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for _ in 0..10_000 {
        if let Some((f, _)) = h.random() {
            *counts.entry(f.to_vec()).or_default() += 1;
        }
    }
    // Chi-square with 9 degrees of freedom; 40 has a probability of about 1e-5.
    let chi: f64 = counts.values().map(|&c| (c as f64 - 1000.0).powi(2) / 1000.0).sum();
    assert!(chi < 40.0, "chi-square {chi}");
}

#[test]
fn a_small_hash_is_small() {
    // The packed buffer inline, the table behind a pointer.
    assert!(std::mem::size_of::<Hash>() <= 24, "{}", std::mem::size_of::<Hash>());
}

#[test]
fn clone_and_eq_compare_contents() {
    let l = limits(2, 64);
    let mut a = Hash::new();
    let mut b = Hash::new();
    for (f, v) in [("x", "1"), ("y", "2"), ("z", "3")] {
        a.set(f.as_bytes(), v.as_bytes(), &l);
        b.set(f.as_bytes(), v.as_bytes(), &Limits::default());
    }
    assert_eq!(a.encoding(), "hashtable");
    assert_eq!(b.encoding(), "listpack");
    assert_eq!(a, b);
    a.set_expire_time(b"x", 5);
    assert_ne!(a, b);
    let c = a.clone();
    assert_eq!(c, a);
    assert_eq!(c.expire_time(b"x"), Some(Some(5)));
    assert_eq!(c.next_expiry(), Some(5));
    assert!(format!("{c:?}").contains("\"y\": \"2\""));
    assert!(a.heap_size() > 0 && b.heap_size() > 0);
}

/// Long values of a table hash live in string buffers of their own (when that saves memory):
/// every read path returns them whole.
#[test]
fn long_values_of_a_table_hash_read_back_whole() {
    let l = limits(2, 64);
    let mut h = Hash::new();
    let values: Vec<Vec<u8>> = (0..40).map(|i| vec![b'a' + (i % 26) as u8; 20 + i * 37]).collect();
    for (i, v) in values.iter().enumerate() {
        h.set(format!("field:{i:04}").as_bytes(), v, &l);
    }
    assert_eq!(h.encoding(), "hashtable");
    for (i, v) in values.iter().enumerate() {
        assert_eq!(h.get(format!("field:{i:04}").as_bytes()), Some(&v[..]), "field {i}");
    }
    let pairs = sorted_pairs(&h);
    assert_eq!(pairs.len(), values.len());
    for (i, (f, v)) in pairs.iter().enumerate() {
        assert_eq!(f, format!("field:{i:04}").as_bytes());
        assert_eq!(v, &values[i]);
    }
    // Converted back from the table (a copy keeps the values).
    let copy = h.clone();
    assert_eq!(sorted_pairs(&copy), pairs);
}
