//! Erlang C: the M/M/c queue (Poisson arrivals, exponential handle times, `c` agents, FIFO,
//! nobody abandons), the classic staffing model of call centers.
//!
//! With arrival rate λ, mean handle time 1/μ and traffic a = λ/μ Erlangs (a < c):
//! - Erlang B by the stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1));
//! - probability of waiting C(c, a) = c·B / (c − a·(1 − B));
//! - mean wait of all calls (ASA) W = C / (cμ − λ);
//! - service level P(wait ≤ t) = 1 − C·e^(−(cμ − λ)·t).

/// Erlang B: the blocking probability with `c` servers and `a` Erlangs.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that a call waits, with `c` agents and `a` Erlangs; 1 when the
/// queue is unstable (a ≥ c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 || a >= f64::from(c) {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(c, a);
    let cf = f64::from(c);
    cf * b / (cf - a * (1.0 - b))
}

/// An M/M/c queue's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErlangC {
    /// Agents.
    pub agents: u32,
    /// Calls per second.
    pub arrival_rate: f64,
    /// Mean handle time, seconds.
    pub handle_time: f64,
}

impl ErlangC {
    /// Offered traffic, Erlangs.
    pub fn traffic(&self) -> f64 {
        self.arrival_rate * self.handle_time
    }

    /// Agent occupancy a / c.
    pub fn occupancy(&self) -> f64 {
        if self.agents == 0 {
            return 1.0;
        }
        (self.traffic() / f64::from(self.agents)).min(1.0)
    }

    /// Whether the queue is stable (a < c).
    pub fn is_stable(&self) -> bool {
        self.traffic() < f64::from(self.agents)
    }

    /// Probability that a call waits.
    pub fn wait_probability(&self) -> f64 {
        erlang_c(self.agents, self.traffic())
    }

    /// Mean wait over all calls (ASA), seconds; none if unstable.
    pub fn mean_wait(&self) -> Option<f64> {
        if !self.is_stable() || self.handle_time <= 0.0 {
            return None;
        }
        let rate = f64::from(self.agents) / self.handle_time - self.arrival_rate;
        Some(self.wait_probability() / rate)
    }

    /// P(wait ≤ `t` seconds); 0 if unstable.
    pub fn service_level(&self, t: f64) -> f64 {
        if !self.is_stable() || self.handle_time <= 0.0 {
            return 0.0;
        }
        let rate = f64::from(self.agents) / self.handle_time - self.arrival_rate;
        1.0 - self.wait_probability() * (-rate * t).exp()
    }

    /// The fewest agents that reach `target` service level within `t` seconds.
    pub fn agents_for(arrival_rate: f64, handle_time: f64, t: f64, target: f64) -> u32 {
        let a = arrival_rate * handle_time;
        let mut c = a.floor().max(0.0) as u32 + 1;
        while c < 100_000 {
            let q = ErlangC {
                agents: c,
                arrival_rate,
                handle_time,
            };
            if q.service_level(t) >= target {
                return c;
            }
            c += 1;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // 2 agents, 1 Erlang: C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // One agent: M/M/1, C = ρ.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // 100 calls/h, 3 min handle: 5 Erlangs; 7 agents give C ≈ 0.3241 (direct formula).
        let q = ErlangC {
            agents: 7,
            arrival_rate: 100.0 / 3600.0,
            handle_time: 180.0,
        };
        assert!((q.wait_probability() - 0.324_15).abs() < 1e-4);
        let w = q.mean_wait().unwrap();
        assert!((w - 0.324_15 * 90.0).abs() < 0.01, "{w}");
        assert!((q.service_level(20.0) - 0.7404).abs() < 1e-3);
        assert_eq!(ErlangC::agents_for(100.0 / 3600.0, 180.0, 20.0, 0.8), 8);
        assert_eq!(erlang_c(3, 3.5), 1.0);
    }
}
