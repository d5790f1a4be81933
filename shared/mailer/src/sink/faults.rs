//! Fault injection: how slow the sink is and how often, and how, it fails.

use rand::Rng;
use std::str::FromStr;
use std::time::Duration;

/// Delay added before the sink answers the end of DATA: fixed (`50`) or uniform in a
/// range (`20..80`), in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    pub min_ms: u64,
    pub max_ms: u64,
}

impl Latency {
    pub fn fixed(ms: u64) -> Latency {
        Latency {
            min_ms: ms,
            max_ms: ms,
        }
    }

    pub fn sample(&self) -> Duration {
        let ms = if self.max_ms > self.min_ms {
            rand::rng().random_range(self.min_ms..=self.max_ms)
        } else {
            self.min_ms
        };
        Duration::from_millis(ms)
    }
}

impl FromStr for Latency {
    type Err = String;

    fn from_str(s: &str) -> Result<Latency, String> {
        let parse = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("latency {s:?}: expected MS or MIN..MAX in milliseconds"))
        };
        match s.split_once("..") {
            Some((min, max)) => {
                let (min_ms, max_ms) = (parse(min)?, parse(max)?);
                if min_ms > max_ms {
                    return Err(format!("latency {s:?}: MIN is above MAX"));
                }
                Ok(Latency { min_ms, max_ms })
            }
            None => parse(s).map(Latency::fixed),
        }
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min_ms == self.max_ms {
            write!(f, "{}ms", self.min_ms)
        } else {
            write!(f, "{}..{}ms", self.min_ms, self.max_ms)
        }
    }
}

/// What the sink does with one message, chosen when its DATA ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accept,
    /// `451 4.3.0`: try again later.
    TransientFailure,
    /// `554 5.6.0`: never.
    PermanentFailure,
    /// Close the connection without a reply.
    Drop,
}

/// The faults the sink injects. Rates are probabilities in 0.0..=1.0, drawn per message.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    pub latency: Latency,
    pub failure_rate: f64,
    pub permanent_failure_rate: f64,
    pub drop_rate: f64,
}

impl Faults {
    /// Draws this message's fate. The rates share one draw, so with 0.2 transient and 0.1
    /// permanent exactly 30% of messages fail on average.
    pub fn draw(&self) -> Outcome {
        let roll: f64 = rand::rng().random();
        let mut bound = self.drop_rate;
        if roll < bound {
            return Outcome::Drop;
        }
        bound += self.permanent_failure_rate;
        if roll < bound {
            return Outcome::PermanentFailure;
        }
        bound += self.failure_rate;
        if roll < bound {
            return Outcome::TransientFailure;
        }
        Outcome::Accept
    }
}

/// Parses a rate flag, refusing anything outside 0..=1.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{s:?} is not a rate between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixed_and_ranged_latency() {
        assert_eq!("5".parse(), Ok(Latency::fixed(5)));
        assert_eq!(
            "2..9".parse(),
            Ok(Latency {
                min_ms: 2,
                max_ms: 9
            })
        );
        assert!("9..2".parse::<Latency>().is_err());
        assert!("fast".parse::<Latency>().is_err());
    }

    #[test]
    fn certain_rates_always_happen() {
        let faults = Faults {
            failure_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..100).all(|_| faults.draw() == Outcome::TransientFailure));
        assert!((0..100).all(|_| Faults::default().draw() == Outcome::Accept));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(parse_rate("1.5").is_err());
        assert!(parse_rate("-0.1").is_err());
        assert_eq!(parse_rate("0.2"), Ok(0.2));
    }
}
