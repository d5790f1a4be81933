//! Pass conditions on a run's counts: `lost == 0`, `rejected > 0`, `duplicates <= 40`.
//!
//! Only counts, never latency: a count is decided by what happened to each mail, a
//! latency also by how busy the machine was, and a grader must not pass by luck or fail
//! by noise.

use loadtest::account::Tally;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;

/// The counts a condition may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Accepted,
    Rejected,
    Delivered,
    Duplicates,
    Lost,
    Parked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    Greater,
    AtMost,
}

/// One condition, as written in `exercise.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    pub count: Count,
    pub comparison: Comparison,
    pub value: u64,
}

impl Count {
    const ALL: [(Count, &'static str); 6] = [
        (Count::Accepted, "accepted"),
        (Count::Rejected, "rejected"),
        (Count::Delivered, "delivered"),
        (Count::Duplicates, "duplicates"),
        (Count::Lost, "lost"),
        (Count::Parked, "parked"),
    ];

    pub fn name(self) -> &'static str {
        Count::ALL
            .iter()
            .find(|(count, _)| *count == self)
            .map(|(_, name)| *name)
            .expect("every count has a name")
    }

    pub fn of(self, tally: &Tally) -> u64 {
        match self {
            Count::Accepted => tally.accepted,
            Count::Rejected => tally.rejected,
            Count::Delivered => tally.delivered,
            Count::Duplicates => tally.duplicates,
            Count::Lost => tally.lost,
            Count::Parked => tally.parked,
        }
    }
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::Equal => "==",
            Comparison::Greater => ">",
            Comparison::AtMost => "<=",
        }
    }
}

impl Condition {
    pub fn holds(&self, tally: &Tally) -> bool {
        let actual = self.count.of(tally);
        match self.comparison {
            Comparison::Equal => actual == self.value,
            Comparison::Greater => actual > self.value,
            Comparison::AtMost => actual <= self.value,
        }
    }

    /// The target as the scorecard shows it: `0`, `> 0`, `<= 40`.
    pub fn target(&self) -> String {
        match self.comparison {
            Comparison::Equal => self.value.to_string(),
            _ => format!("{} {}", self.comparison.symbol(), self.value),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, symbol) = (self.count.name(), self.comparison.symbol());
        write!(f, "{name} {symbol} {}", self.value)
    }
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Condition, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let [name, symbol, value] = words[..] else {
            return Err(format!("{s:?} is not `COUNT OP NUMBER` (e.g. `lost == 0`)"));
        };
        let count = Count::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(count, _)| *count)
            .ok_or_else(|| {
                let names: Vec<&str> = Count::ALL.iter().map(|(_, n)| *n).collect();
                format!("{name:?} is not a count; known: {}", names.join(", "))
            })?;
        let comparison = [Comparison::Equal, Comparison::Greater, Comparison::AtMost]
            .into_iter()
            .find(|c| c.symbol() == symbol)
            .ok_or_else(|| format!("{symbol:?} is not one of ==, >, <="))?;
        let value = value
            .parse()
            .map_err(|_| format!("{value:?} is not a whole number"))?;
        Ok(Condition {
            count,
            comparison,
            value,
        })
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_print_and_hold() {
        let lost: Condition = "lost == 0".parse().unwrap();
        let rejected: Condition = "rejected > 0".parse().unwrap();
        assert_eq!(lost.to_string(), "lost == 0");
        assert_eq!(rejected.target(), "> 0");
        let tally = Tally {
            lost: 3,
            rejected: 2,
            ..Tally::default()
        };
        assert!(!lost.holds(&tally));
        assert!(rejected.holds(&tally));
        assert!("duplicates <= 3"
            .parse::<Condition>()
            .unwrap()
            .holds(&tally));
    }

    #[test]
    fn latency_and_malformed_conditions_are_refused() {
        assert!("p99 <= 10".parse::<Condition>().is_err());
        assert!("lost = 0".parse::<Condition>().is_err());
        assert!("lost == none".parse::<Condition>().is_err());
        assert!("lost==0".parse::<Condition>().is_err());
    }
}
