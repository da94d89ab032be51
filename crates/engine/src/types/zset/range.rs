//! Score and lexicographic intervals, as ZRANGEBYSCORE and ZRANGEBYLEX take them.

/// A score interval, as ZRANGEBYSCORE and ZCOUNT take it (`(` makes an end exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// The lower end is excluded.
    pub min_ex: bool,
    /// The upper end is excluded.
    pub max_ex: bool,
}

impl ScoreRange {
    /// True when `s` is at or above the lower end.
    #[inline]
    pub fn above_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    /// True when `s` is at or below the upper end.
    #[inline]
    pub fn below_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// True when no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }
}

/// One end of a lexicographic interval (ZRANGEBYLEX syntax in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: before every member.
    Min,
    /// `+`: after every member.
    Max,
    /// `[member`: inclusive.
    Incl(&'a [u8]),
    /// `(member`: exclusive.
    Excl(&'a [u8]),
}

/// A lexicographic interval; meaningful when every member has the same score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    /// Lower end.
    pub min: LexBound<'a>,
    /// Upper end.
    pub max: LexBound<'a>,
}

impl LexRange<'_> {
    /// True when `m` is at or after the lower end.
    #[inline]
    pub fn above_min(&self, m: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => m >= b,
            LexBound::Excl(b) => m > b,
        }
    }

    /// True when `m` is at or before the upper end.
    #[inline]
    pub fn below_max(&self, m: &[u8]) -> bool {
        match self.max {
            LexBound::Max => true,
            LexBound::Min => false,
            LexBound::Incl(b) => m <= b,
            LexBound::Excl(b) => m < b,
        }
    }

    /// True when no member can be in the range (Redis's `zslIsInLexRange` pre-check).
    pub fn is_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let (cmp, ex) = match (self.min, self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => (Equal, true),
            (LexBound::Min, _) | (_, LexBound::Max) => (Less, false),
            (LexBound::Max, _) | (_, LexBound::Min) => (Greater, false),
            (a, b) => {
                let (x, xe) = match a {
                    LexBound::Incl(x) => (x, false),
                    LexBound::Excl(x) => (x, true),
                    _ => (&[][..], false),
                };
                let (y, ye) = match b {
                    LexBound::Incl(y) => (y, false),
                    LexBound::Excl(y) => (y, true),
                    _ => (&[][..], false),
                };
                (x.cmp(y), xe || ye)
            }
        };
        cmp == Greater || (cmp == Equal && ex)
    }
}
