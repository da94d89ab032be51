//! Unit tests of the sorted set: both encodings against a sorted-vector model.

use super::index::member_hash;
use super::tree::{cmp_key, Tree};
use super::*;

fn lim() -> Limits {
    Limits::default()
}

fn small(entries: usize) -> Limits {
    Limits { zset_entries: entries, ..Limits::default() }
}

/// The model: pairs kept sorted by (score, member).
#[derive(Default)]
struct Model {
    v: Vec<(f64, Vec<u8>)>,
}

impl Model {
    fn pos(&self, m: &[u8]) -> Option<usize> {
        self.v.iter().position(|(_, x)| x == m)
    }

    fn set(&mut self, m: &[u8], s: f64) {
        if let Some(i) = self.pos(m) {
            self.v.remove(i);
        }
        let at = self.v.partition_point(|(x, k)| cmp_key(*x, k, s, m) == std::cmp::Ordering::Less);
        self.v.insert(at, (s, m.to_vec()));
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        self.pos(m).map(|i| self.v.remove(i)).is_some()
    }
}

fn pairs(z: &ZSet) -> Vec<(f64, Vec<u8>)> {
    z.iter().map(|(m, s)| (s, m.to_vec())).collect()
}

fn check_against(z: &ZSet, model: &Model) {
    assert_eq!(z.len(), model.v.len());
    assert_eq!(pairs(z), model.v);
    check_index(z);
}

/// The tree's invariants, and the index holding exactly each member's (hash, leaf).
fn check_index(z: &ZSet) {
    if let Repr::Tree(s) = &z.repr {
        s.tree.check();
        assert_eq!(s.index.len(), z.len());
        let mut want: Vec<(u32, u32)> = Vec::new();
        for (leaf, members) in s.tree.leaves() {
            want.extend(members.iter().map(|m| (member_hash(m), leaf)));
        }
        want.sort_unstable();
        assert_eq!(s.index.all_sorted(), want, "index out of step with the tree");
    }
}

/// A no-op event sink for direct tree tests.
fn quiet(_: tree::Event<'_>) {}

fn member(i: u64) -> Vec<u8> {
    format!("m{i}").into_bytes()
}

#[test]
fn tree_insert_remove_sequential_and_reverse() {
    let mut t = Tree::new();
    for i in 0..5000u64 {
        t.insert(i as f64, &member(i), 0, &mut quiet);
    }
    t.check();
    assert_eq!(t.len(), 5000);
    for i in (0..5000u64).rev() {
        assert_eq!(t.rank_of(i as f64, &member(i)), i as usize);
    }
    for i in (0..5000u64).step_by(3) {
        assert!(t.remove(i as f64, &member(i), &mut quiet).is_some());
        assert!(t.remove(i as f64, &member(i), &mut quiet).is_none());
    }
    t.check();
    let mut d = Tree::new();
    for i in (0..3000u64).rev() {
        d.insert(i as f64, &member(i), 0, &mut quiet);
    }
    d.check();
    for r in 0..3000 {
        let c = d.locate(r).expect("rank");
        assert_eq!(d.at(c).1, r as f64);
    }
    while d.len() > 0 {
        let (s, _, _) = d.remove_at(d.len() / 2, &mut quiet).expect("middle");
        assert!(s >= 0.0);
    }
    d.check();
    assert!(d.locate(0).is_none());
}

#[test]
fn tree_long_members_split_by_bytes() {
    let mut t = Tree::new();
    for i in 0..300u64 {
        let m = vec![b'a' + (i % 26) as u8; 1000 + (i as usize * 37) % 3000];
        let mut m = m;
        m.extend_from_slice(&i.to_be_bytes());
        t.insert((i % 7) as f64, &m, 0, &mut quiet);
    }
    t.check();
    assert_eq!(t.len(), 300);
    while t.len() > 0 {
        t.remove_at(fastrand::usize(..t.len()), &mut quiet);
        if t.len() % 50 == 0 {
            t.check();
        }
    }
}

#[test]
fn randomized_against_model_both_encodings() {
    for (seed, limits) in [(1u64, lim()), (2, small(8)), (3, small(100_000)), (4, small(0))] {
        fastrand::seed(seed);
        let mut z = ZSet::with_hint(1, 1, &limits);
        let mut model = Model::default();
        for step in 0..6000 {
            let m = member(fastrand::u64(..800));
            match fastrand::u8(..10) {
                0..=4 => {
                    // Few distinct scores, so ties are frequent.
                    let s = match fastrand::u8(..8) {
                        0 => f64::INFINITY,
                        1 => f64::NEG_INFINITY,
                        2 => -0.0,
                        _ => (fastrand::i32(-50..50) as f64) / 4.0,
                    };
                    let new = model.pos(&m).is_none();
                    let was = model.pos(&m).map(|i| model.v[i].0);
                    let r = z.add(&m, s, AddFlags::default(), &limits);
                    match was {
                        Some(old) if old == s => assert_eq!(r, AddResult::Unchanged(s)),
                        Some(_) => {
                            assert_eq!(r, AddResult::Updated(s));
                            model.set(&m, s);
                        }
                        None => {
                            assert!(new);
                            assert_eq!(r, AddResult::Added(s));
                            model.set(&m, s);
                        }
                    }
                }
                5 | 6 => assert_eq!(z.remove(&m), model.remove(&m)),
                7 => {
                    let len = model.v.len();
                    if len > 0 {
                        let a = fastrand::usize(..len);
                        let b = (a + fastrand::usize(..4)).min(len);
                        assert_eq!(z.remove_ranks(a..b), b - a);
                        model.v.drain(a..b);
                    }
                }
                8 => {
                    let max = fastrand::bool();
                    let got = z.pop(max);
                    let want = if max { model.v.pop() } else { (!model.v.is_empty()).then(|| model.v.remove(0)) };
                    assert_eq!(got.map(|(m, s)| (s, m)), want);
                }
                _ => {
                    if let Some(i) = model.pos(&m) {
                        assert_eq!(z.rank(&m), Some((i, model.v[i].0)));
                        assert_eq!(z.score(&m), Some(model.v[i].0));
                    } else {
                        assert_eq!(z.rank(&m), None);
                    }
                }
            }
            if step % 500 == 0 {
                check_against(&z, &model);
            }
        }
        check_against(&z, &model);
        // Ranks, selection and ranges against the model.
        for (i, (s, m)) in model.v.iter().enumerate() {
            assert_eq!(z.get(i), Some((&m[..], *s)));
            assert_eq!(z.rank(m), Some((i, *s)));
        }
        for _ in 0..300 {
            let a = (fastrand::i32(-60..60) as f64) / 4.0;
            let b = (fastrand::i32(-60..60) as f64) / 4.0;
            let r = ScoreRange { min: a, max: b, min_ex: fastrand::bool(), max_ex: fastrand::bool() };
            let want: Vec<_> = model.v.iter().filter(|(s, _)| r.above_min(*s) && r.below_max(*s)).cloned().collect();
            let ranks = z.score_ranks(&r);
            let got: Vec<_> = z.range(ranks.clone(), false).map(|(m, s)| (s, m.to_vec())).collect();
            assert_eq!(got, want, "{r:?}");
            let mut rev: Vec<_> = z.range(ranks, true).map(|(m, s)| (s, m.to_vec())).collect();
            rev.reverse();
            assert_eq!(rev, want);
        }
    }
}

#[test]
fn lex_ranges_on_equal_scores() {
    for limits in [lim(), small(4)] {
        let mut z = ZSet::new();
        for m in ["a", "b", "c", "d", "e", "foo", "zap", "zip", "ALPHA", "alpha"] {
            z.insert(m.as_bytes(), 0.0, &limits);
        }
        let names = |r: Range<usize>| -> Vec<String> {
            z.range(r, false).map(|(m, _)| String::from_utf8_lossy(m).into_owned()).collect()
        };
        let r = LexRange { min: LexBound::Min, max: LexBound::Incl(b"c") };
        assert_eq!(names(z.lex_ranks(&r)), ["ALPHA", "a", "alpha", "b", "c"]);
        let r = LexRange { min: LexBound::Excl(b"b"), max: LexBound::Excl(b"zap") };
        assert_eq!(names(z.lex_ranks(&r)), ["c", "d", "e", "foo"]);
        let r = LexRange { min: LexBound::Incl(b"zap"), max: LexBound::Max };
        assert_eq!(names(z.lex_ranks(&r)), ["zap", "zip"]);
        let r = LexRange { min: LexBound::Max, max: LexBound::Max };
        assert!(r.is_empty());
        assert_eq!(z.lex_ranks(&r), 0..0);
        let r = LexRange { min: LexBound::Excl(b"c"), max: LexBound::Incl(b"c") };
        assert!(r.is_empty());
        let r = LexRange { min: LexBound::Incl(b"c"), max: LexBound::Incl(b"c") };
        assert_eq!(names(z.lex_ranks(&r)), ["c"]);
        let r = LexRange { min: LexBound::Incl(b"d"), max: LexBound::Incl(b"b") };
        assert_eq!(z.lex_ranks(&r).len(), 0);
    }
}

#[test]
fn add_flags_follow_redis() {
    let l = lim();
    let mut z = ZSet::new();
    assert_eq!(z.add(b"a", 1.0, AddFlags { xx: true, ..Default::default() }, &l), AddResult::Skipped);
    assert_eq!(z.add(b"a", 1.0, AddFlags { nx: true, ..Default::default() }, &l), AddResult::Added(1.0));
    assert_eq!(z.add(b"a", 5.0, AddFlags { nx: true, ..Default::default() }, &l), AddResult::Skipped);
    assert_eq!(z.add(b"a", 0.5, AddFlags { gt: true, ..Default::default() }, &l), AddResult::Skipped);
    assert_eq!(z.add(b"a", 2.0, AddFlags { gt: true, ..Default::default() }, &l), AddResult::Updated(2.0));
    assert_eq!(z.add(b"a", 3.0, AddFlags { lt: true, ..Default::default() }, &l), AddResult::Skipped);
    assert_eq!(z.add(b"a", 3.0, AddFlags { incr: true, ..Default::default() }, &l), AddResult::Updated(5.0));
    assert_eq!(z.add(b"a", 0.0, AddFlags { incr: true, ..Default::default() }, &l), AddResult::Unchanged(5.0));
    assert_eq!(z.add(b"b", 1.0, AddFlags { gt: true, ..Default::default() }, &l), AddResult::Added(1.0));
    z.add(b"inf", f64::INFINITY, AddFlags::default(), &l);
    assert_eq!(z.add(b"inf", f64::NEG_INFINITY, AddFlags { incr: true, ..Default::default() }, &l), AddResult::NaN);
    assert_eq!(z.add(b"c", f64::NAN, AddFlags::default(), &l), AddResult::NaN);
    assert_eq!(z.score(b"inf"), Some(f64::INFINITY));
    assert_eq!(z.add(b"a", -0.0 + 5.0, AddFlags::default(), &l), AddResult::Unchanged(5.0));
}

#[test]
fn conversions_happen_where_redis_converts() {
    let l = small(4);
    let mut z = ZSet::with_hint(1, 1, &l);
    for i in 0..4 {
        z.insert(&member(i), i as f64, &l);
    }
    assert_eq!(z.encoding(), "listpack");
    z.insert(&member(0), 10.0, &l);
    assert_eq!(z.encoding(), "listpack", "updates never convert");
    z.insert(&member(4), 4.0, &l);
    assert_eq!(z.encoding(), "skiplist");
    for i in 0..5 {
        z.remove(&member(i));
    }
    assert!(z.is_empty());
    assert_eq!(z.encoding(), "skiplist", "never converts back");

    let mut z = ZSet::new();
    z.insert(b"short", 1.0, &lim());
    z.insert(&[b'x'; 65], 1.0, &lim());
    assert_eq!(z.encoding(), "skiplist", "long member");

    assert_eq!(ZSet::with_hint(129, 1, &lim()).encoding(), "skiplist");
    assert_eq!(ZSet::with_hint(128, 64, &lim()).encoding(), "listpack");
    assert_eq!(ZSet::with_hint(1, 65, &lim()).encoding(), "skiplist");
    let mut z = ZSet::new();
    z.prepare_for(129, &lim());
    assert_eq!(z.encoding(), "skiplist");

    let many: Vec<(Vec<u8>, f64)> = (0..5).map(|i| (member(i), -(i as f64))).collect();
    let z = ZSet::from_pairs(many.clone(), &l);
    assert_eq!(z.encoding(), "skiplist");
    assert_eq!(z.get(0), Some((&b"m4"[..], -4.0)));
    let z2 = ZSet::from_pairs(many[..4].to_vec(), &l);
    assert_eq!(z2.encoding(), "listpack");
    assert_eq!(z2.get(0), Some((&b"m3"[..], -3.0)));
    assert_eq!(z.clone(), z);
    assert_ne!(z, z2);
}

#[test]
fn negative_zero_is_zero_in_listpack_and_kept_in_tree() {
    let mut z = ZSet::new();
    z.insert(b"a", -0.0, &lim());
    assert!(z.score(b"a").is_some_and(|s| s == 0.0 && s.is_sign_positive()));
    let mut t = ZSet::with_hint(1000, 1, &lim());
    t.insert(b"a", -0.0, &lim());
    assert!(t.score(b"a").is_some_and(|s| s == 0.0 && s.is_sign_negative()));
}

#[test]
fn scan_visits_every_member_and_random_picks_are_members() {
    for limits in [lim(), small(2)] {
        let mut z = ZSet::new();
        for i in 0..1000 {
            z.insert(&member(i), i as f64, &limits);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, s| {
                assert_eq!(z.score(m), Some(s));
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        let d = z.random_distinct(10);
        assert_eq!(d.iter().map(|(m, _)| m.to_vec()).collect::<std::collections::HashSet<_>>().len(), 10);
        let d = z.random_distinct(900);
        assert_eq!(d.iter().map(|(m, _)| m.to_vec()).collect::<std::collections::HashSet<_>>().len(), 900);
        assert_eq!(z.random_distinct(5000).len(), 1000);
        let mut n = 0;
        z.random_with_repeats(50, |m, s| {
            assert_eq!(z.score(m), Some(s));
            n += 1;
            true
        });
        assert_eq!(n, 50);
        z.random_with_repeats(50, |_, _| {
            n += 1;
            n < 60
        });
        assert_eq!(n, 60, "stops when asked");
        assert!(z.random().is_some());
    }
    assert!(ZSet::new().random().is_none());
}

#[test]
fn big_set_ranks_at_both_ends_and_middle() {
    let l = lim();
    let mut z = ZSet::new();
    let n = 200_000u64;
    for i in 0..n {
        // Scattered insertion order.
        let k = (i * 7919) % n;
        z.insert(&member(k), k as f64, &l);
    }
    check_index(&z);
    for k in [0, 1, n / 2, n - 2, n - 1] {
        assert_eq!(z.rank(&member(k)), Some((k as usize, k as f64)));
        assert_eq!(z.get(k as usize), Some((&member(k)[..], k as f64)));
    }
    let r = ScoreRange { min: 1000.0, max: 1999.0, min_ex: false, max_ex: true };
    assert_eq!(z.score_ranks(&r), 1000..1999);
    let top: Vec<f64> = z.range(0..z.len(), true).take(3).map(|(_, s)| s).collect();
    assert_eq!(top, vec![(n - 1) as f64, (n - 2) as f64, (n - 3) as f64]);
    assert_eq!(z.remove_ranks(0..100_000), 100_000);
    assert_eq!(z.get(0).map(|p| p.1), Some(100_000.0));
    check_index(&z);
}

/// A longer randomized run with small leaves' worth of churn (run with `--ignored`).
#[test]
#[ignore]
fn stress_against_model() {
    for seed in 100..140u64 {
        fastrand::seed(seed);
        let l = small(fastrand::usize(0..40));
        let mut z = ZSet::with_hint(1, 1, &l);
        let mut model = Model::default();
        let span = fastrand::u64(50..5000);
        for step in 0..20_000 {
            let m = member(fastrand::u64(..span));
            if fastrand::u8(..3) > 0 {
                let s = (fastrand::i32(-20..20) as f64) / 2.0;
                if z.insert(&m, s, &l) || model.pos(&m).is_some() {
                    model.set(&m, s);
                }
            } else if fastrand::bool() {
                assert_eq!(z.remove(&m), model.remove(&m));
            } else if !model.v.is_empty() {
                let a = fastrand::usize(..model.v.len());
                let b = (a + fastrand::usize(..50)).min(model.v.len());
                z.remove_ranks(a..b);
                model.v.drain(a..b);
            }
            if step % 1000 == 0 {
                check_against(&z, &model);
            }
        }
        check_against(&z, &model);
    }
}
