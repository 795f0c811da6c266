//! The caller score: who is served first.
//!
//! ```text
//! score(t) = base_score + priority × priority_weight + age_weight × (t − origin)   [points]
//! ```
//! with `t − origin` in seconds, `origin` the queue join time (time_base_score `queue`) or the
//! call's start in the switch (`system`), `priority_weight` (default 300) and `age_weight`
//! (default 1) per queue. The highest score is served first; equal scores in join order.
//!
//! This is FreeSWITCH's score (one point per second waited, plus cc_base_score) with a
//! priority term. Because every caller of a queue ages at the same rate, a priority is a
//! fixed head start: a VIP of priority 1 overtakes callers who have waited less than
//! priority_weight / age_weight seconds longer than it, and no longer. Low priority callers
//! are therefore never starved: after waiting that long beyond any later VIP they are ahead
//! of it. It also means the order within a queue never changes as time passes, so the engine
//! keeps each queue sorted by a constant key (no re-sorting, O(log n) per join).

/// A queue's score weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Points per priority step.
    pub priority_weight: u32,
    /// Points per second waited.
    pub age_weight: u32,
}

/// The time-independent sort key, in thousandths of a point:
/// `(base + priority × priority_weight) × 1000 − age_weight × origin_ms`.
/// `score_at(key, t) = key + age_weight × t_ms` gives the score at `t`.
pub fn order_key(w: Weights, base_score: i64, priority: u32, origin_ms: u64) -> i64 {
    let fixed = base_score
        .saturating_add(i64::from(priority).saturating_mul(i64::from(w.priority_weight)))
        .saturating_mul(1000);
    let age = i64::from(w.age_weight).saturating_mul(i64::try_from(origin_ms).unwrap_or(i64::MAX));
    fixed.saturating_sub(age)
}

/// The score at `now_ms`, in thousandths of a point.
pub fn score_at(w: Weights, key: i64, now_ms: u64) -> i64 {
    key.saturating_add(
        i64::from(w.age_weight).saturating_mul(i64::try_from(now_ms).unwrap_or(i64::MAX)),
    )
}

/// The score at `now_ms` in whole points, as `queue list members` prints it.
pub fn points_at(w: Weights, key: i64, now_ms: u64) -> i64 {
    score_at(w, key, now_ms).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Weights = Weights {
        priority_weight: 300,
        age_weight: 1,
    };

    #[test]
    fn vip_head_start_is_bounded() {
        // A normal caller who joined at t=0 and a VIP who joined at t=100 s.
        let normal = order_key(W, 0, 0, 0);
        let vip = order_key(W, 0, 1, 100_000);
        assert!(
            vip > normal,
            "the VIP is ahead: it waited less than 300 s less"
        );
        let vip_late = order_key(W, 0, 1, 400_000);
        assert!(normal > vip_late, "a VIP 400 s later is behind");
        assert_eq!(points_at(W, normal, 60_000), 60);
        assert_eq!(points_at(W, vip, 160_000), 360);
    }
}
