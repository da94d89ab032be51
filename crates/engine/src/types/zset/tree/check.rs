//! Structural invariants of the tree, checked by the tests.

use std::cmp::Ordering;

use super::{cmp_key, Node, NodeId, Tree, INNER_MAX, LEAF_MAX, NIL};

impl Tree {
    /// Checks every structural invariant (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        if self.root == NIL {
            assert_eq!(self.len, 0);
            return;
        }
        let mut leaves = Vec::new();
        let n = self.check_node(self.root, None, None, &mut leaves, true);
        assert_eq!(n, self.len, "total count");
        assert_eq!(leaves.first().copied(), Some(self.first));
        assert_eq!(leaves.last().copied(), Some(self.last));
        for w in leaves.windows(2) {
            assert_eq!(self.leaf(w[0]).next, w[1]);
            assert_eq!(self.leaf(w[1]).prev, w[0]);
        }
        let mut prev: Option<(f64, Vec<u8>)> = None;
        for &id in &leaves {
            let l = self.leaf(id);
            for i in 0..l.len() {
                if let Some((s, m)) = &prev {
                    assert_eq!(cmp_key(*s, m, l.score(i), l.member(i)), Ordering::Less, "order");
                }
                prev = Some((l.score(i), l.member(i).to_vec()));
            }
        }
    }

    #[cfg(test)]
    fn check_node(
        &self,
        id: NodeId,
        lo: Option<&(f64, Box<[u8]>)>,
        hi: Option<&(f64, Box<[u8]>)>,
        leaves: &mut Vec<NodeId>,
        root: bool,
    ) -> usize {
        match &self.nodes[id as usize] {
            Node::Leaf(l) => {
                assert!(root || l.len() > 0, "empty non-root leaf");
                assert!(l.len() <= LEAF_MAX);
                for i in 0..l.len() {
                    if let Some((s, k)) = lo {
                        assert_ne!(cmp_key(l.score(i), l.member(i), *s, k), Ordering::Less, "below separator");
                    }
                    if let Some((s, k)) = hi {
                        assert_eq!(cmp_key(l.score(i), l.member(i), *s, k), Ordering::Less, "not below separator");
                    }
                }
                leaves.push(id);
                l.len()
            }
            Node::Inner(n) => {
                assert_eq!(n.keys.len() + 1, n.children.len());
                assert_eq!(n.counts.len(), n.children.len());
                assert!(n.children.len() >= 2 && n.children.len() <= INNER_MAX);
                let mut total = 0;
                for (i, &c) in n.children.iter().enumerate() {
                    let clo = if i == 0 { lo } else { Some(&n.keys[i - 1]) };
                    let chi = if i == n.keys.len() { hi } else { Some(&n.keys[i]) };
                    let got = self.check_node(c, clo, chi, leaves, false);
                    assert_eq!(got, n.counts[i], "subtree count");
                    total += got;
                }
                total
            }
            Node::Free => panic!("free node reachable"),
        }
    }
}
