//! Unit tests of the list type: encoding conversions as Redis 7.2 makes them, and randomized
//! runs against a `VecDeque` model in several node limits.

use std::collections::VecDeque;

use super::*;

fn limits(list_size: i64) -> Limits {
    Limits { list_size, ..Limits::default() }
}

fn list_of(vals: &[&str], l: &Limits) -> List {
    let mut list = List::new();
    list.extend(End::Right, vals.iter().map(|v| v.as_bytes()), l);
    list
}

fn strings(list: &List) -> Vec<String> {
    list.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}

/// The structural invariants: no empty node, counts add up, both directions agree.
fn check(list: &List) {
    if let Repr::Quick(q) = &list.repr {
        assert!(q.nodes.iter().all(|n| n.len() > 0), "empty node");
        assert_eq!(q.nodes.iter().map(Node::len).sum::<usize>(), q.len);
    }
    let fwd: Vec<&[u8]> = list.iter().collect();
    assert_eq!(fwd.len(), list.len());
    let mut rev: Vec<&[u8]> = list.iter_at(list.len().wrapping_sub(1), true).collect();
    rev.reverse();
    assert_eq!(fwd, rev);
}

#[test]
fn small_lists_are_listpacks_and_grow_into_quicklists() {
    let l = limits(3);
    let mut list = list_of(&["a", "b", "c"], &l);
    assert_eq!(list.encoding(), "listpack");
    list.push(End::Right, b"d", &l);
    assert_eq!(list.encoding(), "quicklist");
    assert_eq!(strings(&list), ["a", "b", "c", "d"]);
    check(&list);

    // Default: 8 KiB per node.
    let d = Limits::default();
    let mut list = list_of(&["a", "b", "c"], &d);
    assert_eq!(list.encoding(), "listpack");
    list.push(End::Left, &[b'x'; 8192], &d);
    assert_eq!(list.encoding(), "quicklist");
    assert_eq!(list.first().map(|v| v.len()), Some(8192));
}

#[test]
fn shrinking_converts_back_at_half_the_limit() {
    let l = limits(3);
    // RPOP 3 of a b c | d leaves [a]: 1 <= 3/2.
    let mut list = list_of(&["a", "b", "c", "d"], &l);
    assert_eq!(list.encoding(), "quicklist");
    list.pop_each(End::Right, 3, &l, |_| {});
    assert_eq!(list.encoding(), "listpack");
    assert_eq!(strings(&list), ["a"]);

    // LREM of the a's leaves [d].
    let mut list = list_of(&["a", "a", "a", "d"], &l);
    assert_eq!(list.remove(b"a", 3, &l), 3);
    assert_eq!(list.encoding(), "listpack");

    // LTRIM 1 1.
    let mut list = list_of(&["a", "b", "c", "d"], &l);
    assert_eq!(list.trim(1, 1, &l), 3);
    assert_eq!(list.encoding(), "listpack");
    assert_eq!(strings(&list), ["b"]);

    // Two elements in one node are not under half of 3: stays a quicklist.
    let mut list = list_of(&["a", "b", "c", "d"], &l);
    list.pop_each(End::Right, 2, &l, |_| {});
    assert_eq!(list.encoding(), "quicklist");

    let big = "x".repeat(8192);
    let l = limits(-1);
    let mut list = list_of(&["a", "b", "c", &big], &l);
    assert_eq!(list.encoding(), "quicklist");
    assert_eq!(list.pop(End::Right, &l).map(|v| v.len()), Some(8192));
    assert_eq!(list.encoding(), "listpack");

    let mut list = list_of(&["a", &big], &l);
    assert_eq!(list.remove(big.as_bytes(), 1, &l), 1);
    assert_eq!(list.encoding(), "listpack");

    let mut list = list_of(&["a", "b", &big], &l);
    list.trim(0, 1, &l);
    assert_eq!(list.encoding(), "listpack");

    // LSET of a big element with a small one.
    let mut list = list_of(&[&big, "a", "b"], &l);
    list.pop_each(End::Right, 2, &l, |_| {});
    assert_eq!(list.encoding(), "quicklist");
    assert!(list.set(-1, b"c", &l));
    assert_eq!(list.encoding(), "listpack");
    assert_eq!(strings(&list), ["c"]);
}

#[test]
fn lset_and_linsert_convert_before_looking_as_redis_does() {
    let l = limits(3);
    let mut list = list_of(&["a", "b", "c"], &l);
    assert!(list.set(0, b"x", &l));
    assert_eq!(list.encoding(), "quicklist");
    assert_eq!(strings(&list), ["x", "b", "c"]);

    let mut list = list_of(&["a", "b", "c"], &l);
    assert_eq!(list.insert(b"zz", b"y", true, &l), None);
    assert_eq!(list.encoding(), "quicklist");

    let mut list = list_of(&["a", "b"], &l);
    assert!(!list.set(5, b"x", &l));
    assert_eq!(list.insert(b"b", b"y", true, &l), Some(3));
    assert_eq!(list.encoding(), "listpack");
    assert_eq!(strings(&list), ["a", "b", "y"]);
}

#[test]
fn one_push_decides_its_conversion_from_the_raw_sizes() {
    // 100 elements of 80 bytes: 8000 bytes of data fit 8 KiB by Redis's measure (raw sizes,
    // checked once per command), although the encoded listpack ends up slightly larger.
    let l = Limits::default();
    let v = [b'v'; 80];
    let mut list = List::new();
    list.extend(End::Right, std::iter::repeat_n(&v[..], 100), &l);
    assert_eq!(list.encoding(), "listpack");
    // One element at a time, the same elements convert.
    let mut list = List::new();
    for _ in 0..100 {
        list.push(End::Right, &v, &l);
    }
    assert_eq!(list.encoding(), "quicklist");
}

#[test]
fn limit_edge_cases() {
    // 0 means one entry per node.
    let l = limits(0);
    let mut list = list_of(&["a"], &l);
    assert_eq!(list.encoding(), "listpack");
    list.push(End::Right, b"b", &l);
    assert_eq!(list.encoding(), "quicklist");

    // Below -5 means -5 (64 KiB).
    let l = limits(-6);
    let mut list = list_of(&[&"x".repeat(60000)], &l);
    assert_eq!(list.encoding(), "listpack");
    list.push(End::Right, "x".repeat(5536).as_bytes(), &l);
    assert_eq!(list.encoding(), "quicklist");

    // A count limit still caps a node at 8 KiB.
    let l = limits(1000);
    let mut list = list_of(&["a"], &l);
    list.push(End::Right, &[b'y'; 9000], &l);
    assert_eq!(list.encoding(), "quicklist");

    let l = limits(i64::MIN);
    let list = list_of(&["a"], &l);
    assert_eq!(list.encoding(), "listpack");
}

#[test]
fn index_range_and_iteration() {
    let l = limits(4);
    let vals: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
    let list = list_of(&refs, &l);
    check(&list);
    assert_eq!(list.get(0), Some(&b"0"[..]));
    assert_eq!(list.get(-1), Some(&b"49"[..]));
    assert_eq!(list.get(-50), Some(&b"0"[..]));
    assert_eq!(list.get(50), None);
    assert_eq!(list.get(-51), None);
    assert_eq!(list.get(i64::MIN), None);
    assert_eq!(list.range(0, -1), Some((0, 50)));
    assert_eq!(list.range(-100, 2), Some((0, 3)));
    assert_eq!(list.range(48, 100), Some((48, 2)));
    assert_eq!(list.range(5, 4), None);
    assert_eq!(list.range(50, 60), None);
    assert_eq!(list.range(i64::MIN, i64::MAX), Some((0, 50)));
    let mid: Vec<&[u8]> = list.iter_at(20, false).take(3).collect();
    assert_eq!(mid, [&b"20"[..], b"21", b"22"]);
    let back: Vec<&[u8]> = list.iter_at(20, true).take(3).collect();
    assert_eq!(back, [&b"20"[..], b"19", b"18"]);
    assert_eq!(list.iter_at(50, false).count(), 0);
}

#[test]
fn equality_ignores_encoding() {
    let a = list_of(&["a", "b", "c", "d"], &limits(2));
    let b = list_of(&["a", "b", "c", "d"], &limits(-2));
    assert_ne!(a.encoding(), b.encoding());
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), r#"["a", "b", "c", "d"]"#);
}

#[test]
fn big_list_operations() {
    let l = Limits::default();
    let mut list = List::new();
    let mut model = VecDeque::new();
    for i in 0..100_000u32 {
        let v = format!("element:{i}");
        list.push(End::Right, v.as_bytes(), &l);
        model.push_back(v.into_bytes());
    }
    assert_eq!(list.encoding(), "quicklist");
    assert_eq!(list.get(50_000), Some(model[50_000].as_slice()));
    assert_eq!(list.get(-30_000), Some(model[70_000].as_slice()));
    assert_eq!(list.insert(b"element:40000", b"new", false, &l), Some(100_001));
    model.insert(40_000, b"new".to_vec());
    assert_eq!(list.remove(b"element:60000", 0, &l), 1);
    model.retain(|v| v != b"element:60000");
    list.trim(1000, -1000, &l);
    model.drain(..1000);
    model.truncate(model.len() - 999);
    assert!(list.iter().eq(model.iter().map(|v| v.as_slice())));
    check(&list);
    // Memory: no more than about 1.5x the encoded data.
    let data: usize = model.iter().map(|v| v.len() + 2).sum();
    assert!(list.heap_size() < data * 3 / 2, "{} for {data}", list.heap_size());
}

/// One randomized run: `steps` operations at node limit `list_size`, checked against a model.
fn fuzz(seed: u64, list_size: i64, steps: usize) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let l = limits(list_size);
    let mut list = List::new();
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let value = |rng: &mut fastrand::Rng| -> Vec<u8> {
        match rng.u8(..20) {
            0 => vec![b'L'; rng.usize(100..6000)],
            1..=3 => rng.u32(..5).to_string().into_bytes(),
            _ => {
                let n = rng.usize(0..40);
                (0..n).map(|_| rng.alphanumeric() as u8).collect()
            }
        }
    };
    let end = |rng: &mut fastrand::Rng| if rng.bool() { End::Left } else { End::Right };
    for step in 0..steps {
        let len = model.len() as i64;
        match rng.u8(..14) {
            0..=3 => {
                let n = if rng.u8(..4) == 0 { rng.usize(1..12) } else { 1 };
                let vals: Vec<Vec<u8>> = (0..n).map(|_| value(&mut rng)).collect();
                let e = end(&mut rng);
                list.extend(e, vals.iter().map(Vec::as_slice), &l);
                for v in vals {
                    match e {
                        End::Left => model.push_front(v),
                        End::Right => model.push_back(v),
                    }
                }
            }
            4 | 5 => {
                let e = end(&mut rng);
                let n = rng.usize(0..8);
                let mut got = Vec::new();
                list.pop_each(e, n, &l, |v| got.push(v.to_vec()));
                let want: Vec<Vec<u8>> = (0..n)
                    .map_while(|_| match e {
                        End::Left => model.pop_front(),
                        End::Right => model.pop_back(),
                    })
                    .collect();
                assert_eq!(got, want, "step {step}");
            }
            6 => {
                let i = rng.i64(-len - 2..len + 2);
                let want = if i < 0 { model.len().checked_sub(i.unsigned_abs() as usize) } else { Some(i as usize) };
                assert_eq!(list.get(i), want.and_then(|i| model.get(i)).map(Vec::as_slice), "step {step}");
            }
            7 => {
                let i = rng.i64(-len - 2..len + 2);
                let v = value(&mut rng);
                let idx = if i < 0 { model.len().checked_sub(i.unsigned_abs() as usize) } else { Some(i as usize) };
                let ok = list.set(i, &v, &l);
                match idx.and_then(|i| model.get_mut(i)) {
                    Some(slot) => {
                        assert!(ok);
                        *slot = v;
                    }
                    None => assert!(!ok),
                }
            }
            8 | 9 => {
                let pivot = if !model.is_empty() && rng.bool() {
                    model[rng.usize(..model.len())].clone()
                } else {
                    value(&mut rng)
                };
                let v = value(&mut rng);
                let after = rng.bool();
                let got = list.insert(&pivot, &v, after, &l);
                match model.iter().position(|e| *e == pivot) {
                    Some(p) => {
                        model.insert(if after { p + 1 } else { p }, v);
                        assert_eq!(got, Some(model.len()));
                    }
                    None => assert_eq!(got, None),
                }
            }
            10 => {
                let v = if !model.is_empty() && rng.bool() {
                    model[rng.usize(..model.len())].clone()
                } else {
                    value(&mut rng)
                };
                let count = rng.i64(-3..4);
                let got = list.remove(&v, count, &l);
                let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                let mut idx: Vec<usize> = model.iter().enumerate().filter(|(_, e)| **e == v).map(|(i, _)| i).collect();
                if count < 0 {
                    idx.reverse();
                }
                idx.truncate(limit);
                idx.sort_unstable();
                for &i in idx.iter().rev() {
                    model.remove(i);
                }
                assert_eq!(got, idx.len(), "step {step}");
            }
            11 => {
                let (a, b) = (rng.i64(-len - 3..len + 3), rng.i64(-len - 3..len + 3));
                let removed = list.trim(a, b, &l);
                let before = model.len();
                match list_range(before, a, b) {
                    None => model.clear(),
                    Some((s, c)) => {
                        model.truncate(s + c);
                        model.drain(..s);
                    }
                }
                assert_eq!(removed, before - model.len());
                // Keep lists long enough to be interesting.
                if model.is_empty() {
                    for _ in 0..rng.usize(0..200) {
                        let v = value(&mut rng);
                        list.push(End::Right, &v, &l);
                        model.push_back(v);
                    }
                }
            }
            12 => {
                let s = rng.usize(0..model.len() + 2);
                let c = rng.usize(0..model.len() + 2);
                list.remove_range(s, c, &l);
                let s2 = s.min(model.len());
                let c2 = c.min(model.len() - s2);
                model.drain(s2..s2 + c2);
            }
            _ => {
                if !model.is_empty() {
                    let i = rng.usize(..model.len());
                    let rev = rng.bool();
                    let got: Vec<&[u8]> = list.iter_at(i, rev).take(20).collect();
                    let want: Vec<&[u8]> = if rev {
                        model.range(..=i).rev().take(20).map(Vec::as_slice).collect()
                    } else {
                        model.range(i..).take(20).map(Vec::as_slice).collect()
                    };
                    assert_eq!(got, want, "step {step}");
                }
            }
        }
        assert_eq!(list.len(), model.len(), "step {step}");
        if step % 16 == 0 {
            check(&list);
            assert!(list.iter().eq(model.iter().map(Vec::as_slice)), "step {step}");
        }
        // A listpack never holds more than a quicklist node could.
        if let Repr::Packed(n) = &list.repr {
            assert!(list_size <= 0 || n.len() <= list_size as usize, "oversized listpack at step {step}");
        }
    }
    assert!(list.iter().eq(model.iter().map(Vec::as_slice)));
}

fn list_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (start + len).max(0) } else { start };
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, (stop - start + 1) as usize))
}

#[test]
fn randomized_against_a_model() {
    for (i, size) in [1i64, 2, 3, 5, 16, 128, -1, -2, -5].into_iter().enumerate() {
        for seed in 0..4 {
            fuzz(seed * 31 + i as u64, size, 3000);
        }
    }
}
