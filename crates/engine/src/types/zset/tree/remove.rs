//! Removal from the tree, and the merging and refilling of nodes it leaves small.

use super::{Event, Node, NodeId, Path, Tree, INNER_MAX, INNER_MIN, LEAF_BYTES, LEAF_MAX, LEAF_MIN, NIL};

impl Tree {
    /// Removes (score, member), returning the leaf it was in (None when absent); members
    /// moved by rebalancing are reported to `ev`.
    pub(crate) fn remove(&mut self, score: f64, member: &[u8], ev: &mut impl FnMut(Event<'_>)) -> Option<NodeId> {
        if self.root == NIL {
            return None;
        }
        let mut path = Path::new();
        let mut id = self.root;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    path.push((id, i));
                    id = n.children[i];
                }
                Node::Leaf(l) => match l.search(score, member) {
                    Ok(i) => {
                        self.leaf_mut(id).remove(i, None);
                        self.after_remove(id, &path, ev);
                        return Some(id);
                    }
                    Err(_) => return None,
                },
                Node::Free => return None,
            }
        }
    }

    /// Removes the pair at `rank`, returning its score, member and former leaf; members moved
    /// by rebalancing are reported to `ev`.
    pub(crate) fn remove_at(
        &mut self,
        mut rank: usize,
        ev: &mut impl FnMut(Event<'_>),
    ) -> Option<(f64, Vec<u8>, NodeId)> {
        if rank >= self.len {
            return None;
        }
        let mut path = Path::new();
        let mut id = self.root;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && rank >= n.counts[i] {
                        rank -= n.counts[i];
                        i += 1;
                    }
                    path.push((id, i));
                    id = n.children[i];
                }
                Node::Leaf(l) => {
                    if rank >= l.len() {
                        return None;
                    }
                    let mut member = Vec::with_capacity(l.slots[rank].end() - l.start(rank));
                    let score = self.leaf_mut(id).remove(rank, Some(&mut member));
                    self.after_remove(id, &path, ev);
                    return Some((score, member, id));
                }
                Node::Free => return None,
            }
        }
    }

    /// Bookkeeping after a pair was removed from leaf `id` reached through `path`: counts,
    /// then merging or refilling nodes that became small.
    fn after_remove(&mut self, id: NodeId, path: &[(NodeId, usize)], ev: &mut impl FnMut(Event<'_>)) {
        self.len -= 1;
        for &(pid, ci) in path {
            self.inner_mut(pid).counts[ci] -= 1;
        }
        if self.len == 0 {
            *self = Tree::new();
            return;
        }
        let Some(&(pid, ci)) = path.last() else { return };
        let l = self.leaf(id);
        if l.len() >= LEAF_MIN && !l.slots.is_empty() {
            return;
        }
        let p = match &self.nodes[pid as usize] {
            Node::Inner(p) => p,
            _ => return,
        };
        let (li, ri) = if ci > 0 { (ci - 1, ci) } else { (ci, ci + 1) };
        let (lid, rid) = (p.children[li], p.children[ri]);
        let (ln, rn) = (self.leaf(lid), self.leaf(rid));
        let fits = ln.len() + rn.len() <= LEAF_MAX && ln.bytes.len() + rn.bytes.len() <= LEAF_BYTES;
        if ln.len() == 0 || rn.len() == 0 || fits {
            self.merge_leaves(pid, li, lid, rid, ev);
            self.rebalance_inner(&path[..path.len() - 1], pid);
        } else if ln.len() + rn.len() >= 2 * LEAF_MIN {
            self.redistribute_leaves(pid, li, lid, rid, ev);
        }
    }

    /// Moves leaf `rid` (child `li + 1` of `pid`) into leaf `lid` (child `li`).
    fn merge_leaves(&mut self, pid: NodeId, li: usize, lid: NodeId, rid: NodeId, ev: &mut impl FnMut(Event<'_>)) {
        let Node::Leaf(right) = std::mem::replace(&mut self.nodes[rid as usize], Node::Free) else {
            unreachable!("zset tree: merging a non-leaf")
        };
        let left = self.leaf_mut(lid);
        let base = left.len();
        left.append(&right);
        left.next = right.next;
        if right.next == NIL {
            self.last = lid;
        } else {
            self.leaf_mut(right.next).prev = lid;
        }
        self.free.push(rid);
        let p = self.inner_mut(pid);
        p.counts[li] += p.counts[li + 1];
        p.keys.remove(li);
        p.children.remove(li + 1);
        p.counts.remove(li + 1);
        self.report(lid, base..base + right.len(), rid, ev);
    }

    /// Evens out the pairs of adjacent leaves `lid` and `rid` (children `li`, `li + 1`).
    fn redistribute_leaves(
        &mut self,
        pid: NodeId,
        li: usize,
        lid: NodeId,
        rid: NodeId,
        ev: &mut impl FnMut(Event<'_>),
    ) {
        let (Node::Leaf(left), Node::Leaf(right)) = self.pair_mut(lid, rid) else {
            unreachable!("zset tree: redistributing non-leaves")
        };
        let (total, left_before) = (left.len() + right.len(), left.len());
        let (links_prev, links_next) = (right.prev, right.next);
        left.append(right);
        let mut rest = left.split_off(total / 2);
        rest.prev = links_prev;
        rest.next = links_next;
        *right = rest;
        let (ln, rn) = (left.len(), right.len());
        let sep = (right.score(0), Box::<[u8]>::from(right.member(0)));
        let p = self.inner_mut(pid);
        p.keys[li] = sep;
        p.counts[li] = ln;
        p.counts[li + 1] = rn;
        if ln > left_before {
            self.report(lid, left_before..ln, rid, ev);
        } else {
            self.report(rid, 0..left_before - ln, lid, ev);
        }
    }

    /// Merges or refills inner node `id` (reached through `path`) if it became small, and so
    /// on up; collapses a root left with a single child.
    fn rebalance_inner(&mut self, path: &[(NodeId, usize)], id: NodeId) {
        let mut path = path;
        let mut id = id;
        loop {
            let n_children = match &self.nodes[id as usize] {
                Node::Inner(n) => n.children.len(),
                _ => return,
            };
            let Some((&(pid, ci), up)) = path.split_last() else {
                if n_children == 1 {
                    let child = self.inner_mut(id).children[0];
                    self.release(id);
                    self.root = child;
                }
                return;
            };
            if n_children >= INNER_MIN {
                return;
            }
            let p = self.inner_mut(pid);
            let li = if ci > 0 { ci - 1 } else { ci };
            let (lid, rid) = (p.children[li], p.children[li + 1]);
            let sep = p.keys[li].clone();
            let (Node::Inner(left), Node::Inner(right)) = self.pair_mut(lid, rid) else {
                unreachable!("zset tree: inner siblings of different kinds")
            };
            if left.children.len() + right.children.len() <= INNER_MAX {
                left.keys.push(sep);
                left.keys.append(&mut right.keys);
                left.children.append(&mut right.children);
                left.counts.append(&mut right.counts);
                self.release(rid);
                let p = self.inner_mut(pid);
                p.counts[li] += p.counts[li + 1];
                p.keys.remove(li);
                p.children.remove(li + 1);
                p.counts.remove(li + 1);
                path = up;
                id = pid;
                continue;
            }
            // Refill: lay both nodes end to end (separator between) and cut in the middle.
            let total = left.children.len() + right.children.len();
            left.keys.push(sep);
            left.keys.append(&mut right.keys);
            left.children.append(&mut right.children);
            left.counts.append(&mut right.counts);
            let t = total / 2;
            right.children = left.children.split_off(t);
            right.counts = left.counts.split_off(t);
            right.keys = left.keys.split_off(t);
            let Some(new_sep) = left.keys.pop() else { unreachable!("zset tree: refill without keys") };
            let (ln, rn) = (left.counts.iter().sum(), right.counts.iter().sum());
            let p = self.inner_mut(pid);
            p.keys[li] = new_sep;
            p.counts[li] = ln;
            p.counts[li + 1] = rn;
            return;
        }
    }
}
