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
    /// With a seed, a message's fate is a function of the seed, the message (recipient,
    /// subject, text) and how many times the sink saw it before, not of chance or of the
    /// order messages arrive in: the same run fails the same messages every time, however
    /// its sends interleave. Without one, each message gets a fresh random draw.
    pub seed: Option<u64>,
}

impl Faults {
    /// Draws this message's fate at random. The rates share one draw, so with 0.2 transient
    /// and 0.1 permanent exactly 30% of messages fail on average.
    pub fn draw(&self) -> Outcome {
        self.fate(rand::rng().random())
    }

    /// This message's fate: seeded (see [`Faults::seed`]) when there is a seed, else drawn
    /// at random. `message` identifies the message; `attempt` counts earlier sightings of it
    /// (0 the first time), so a retried message gets a fresh, but still repeatable, fate.
    pub fn fate_of(&self, message: &[u8], attempt: u32) -> Outcome {
        match self.seed {
            Some(seed) => self.fate(seeded_roll(seed, message, attempt)),
            None => self.draw(),
        }
    }

    /// The outcome a roll in 0..1 falls on.
    fn fate(&self, roll: f64) -> Outcome {
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

/// A roll in 0..1 that depends only on its inputs: FNV-1a over them, then a 64-bit mix
/// (splitmix64's finalizer) so that nearby inputs land far apart.
fn seeded_roll(seed: u64, message: &[u8], attempt: u32) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed
        .to_le_bytes()
        .iter()
        .chain(message)
        .chain(&attempt.to_le_bytes())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
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
    fn a_seed_fails_the_same_messages_whatever_the_order() {
        let faults = Faults {
            failure_rate: 0.3,
            seed: Some(7),
            ..Faults::default()
        };
        let messages: Vec<String> = (0..200).map(|i| format!("loadtest #{i}")).collect();
        let forward: Vec<Outcome> = messages
            .iter()
            .map(|m| faults.fate_of(m.as_bytes(), 0))
            .collect();
        let backward: Vec<Outcome> = messages
            .iter()
            .rev()
            .map(|m| faults.fate_of(m.as_bytes(), 0))
            .collect();
        assert_eq!(forward, backward.into_iter().rev().collect::<Vec<_>>());
        let failed = forward
            .iter()
            .filter(|o| **o == Outcome::TransientFailure)
            .count();
        assert!((40..=80).contains(&failed), "about 30% of 200: {failed}");
        // A retry is a new, repeatable draw; another seed fails other messages.
        let retried: Vec<Outcome> = messages
            .iter()
            .map(|m| faults.fate_of(m.as_bytes(), 1))
            .collect();
        assert_ne!(forward, retried);
        let other = Faults {
            seed: Some(8),
            ..faults
        };
        let reseeded: Vec<Outcome> = messages
            .iter()
            .map(|m| other.fate_of(m.as_bytes(), 0))
            .collect();
        assert_ne!(forward, reseeded);
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(parse_rate("1.5").is_err());
        assert!(parse_rate("-0.1").is_err());
        assert_eq!(parse_rate("0.2"), Ok(0.2));
    }
}
