//! Skills with levels: what an agent can do (`english=5,billing=3`) and what a caller needs
//! (`billing=2`: at least level 2 in billing; a bare `billing` means at least 1).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The highest skill level.
pub const MAX_SKILL_LEVEL: u32 = 100;

/// A set of skills, each with a level (agent: proficiency; caller: minimum required).
///
/// Kept as a small vector sorted by a 64-bit hash of the name, so that matching an agent
/// against a caller is a merge of two short integer lists (the routing hot path).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Skills(Vec<(u64, String, u32)>);

/// FNV-1a, 64 bits: a fixed, fast hash of a skill name.
fn name_hash(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A skill list that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSkills(pub String);

impl fmt::Display for BadSkills {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (expected name=level[,name=level...], levels 0-{MAX_SKILL_LEVEL}, e.g. english=5,billing=3)",
            self.0
        )
    }
}

impl std::error::Error for BadSkills {}

impl Skills {
    /// No skills.
    pub fn new() -> Skills {
        Skills::default()
    }

    /// Adds or replaces one skill (names are lower-cased).
    pub fn with(mut self, name: &str, level: u32) -> Skills {
        let name = name.trim().to_ascii_lowercase();
        let h = name_hash(&name);
        let level = level.min(MAX_SKILL_LEVEL);
        match self
            .0
            .binary_search_by(|(eh, en, _)| (*eh, en.as_str()).cmp(&(h, name.as_str())))
        {
            Ok(i) => self.0[i].2 = level,
            Err(i) => self.0.insert(i, (h, name, level)),
        }
        self
    }

    /// The level of `name`, if the set has it.
    pub fn level(&self, name: &str) -> Option<u32> {
        let name = name.to_ascii_lowercase();
        let h = name_hash(&name);
        self.0
            .iter()
            .find(|(eh, en, _)| *eh == h && *en == name)
            .map(|(_, _, l)| *l)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The skills and levels, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        let mut v: Vec<(&str, u32)> = self.0.iter().map(|(_, k, l)| (k.as_str(), *l)).collect();
        v.sort();
        v.into_iter()
    }

    /// How well an agent with these skills matches `required`: `None` if some required skill
    /// is missing or below its minimum level, else the sum of the agent's levels in the
    /// required skills (higher is a better match; 0 when nothing is required).
    pub fn match_score(&self, required: &Skills) -> Option<u32> {
        let mut score = 0u32;
        let mut have = self.0.iter();
        'need: for (h, name, min) in &required.0 {
            for (eh, en, level) in have.by_ref() {
                if eh < h {
                    continue;
                }
                if eh > h {
                    return None;
                }
                if en != name {
                    // A hash collision: names differ, keep looking among equal hashes.
                    continue;
                }
                if level < min {
                    return None;
                }
                score = score.saturating_add(*level);
                continue 'need;
            }
            return None;
        }
        Some(score)
    }
}

impl FromStr for Skills {
    type Err = BadSkills;

    /// Parses `english=5,billing=3`; separators `,` or `;`, spaces allowed; empty is none.
    fn from_str(s: &str) -> Result<Skills, BadSkills> {
        let mut out = Skills::new();
        for part in s.split([',', ';']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, level) = match part.split_once(['=', ':']) {
                Some((n, l)) => {
                    let level: u32 = l
                        .trim()
                        .parse()
                        .map_err(|_| BadSkills(format!("bad level in '{part}'")))?;
                    (n.trim(), level)
                }
                None => (part, 1),
            };
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            if !valid {
                return Err(BadSkills(format!("bad skill name in '{part}'")));
            }
            if level > MAX_SKILL_LEVEL {
                return Err(BadSkills(format!("level too high in '{part}'")));
            }
            out = out.with(name, level);
        }
        Ok(out)
    }
}

impl fmt::Display for Skills {
    /// `billing=3,english=5` (sorted by name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl Serialize for Skills {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Skills {
    /// From `"english=5,billing=3"` or a table `{ english = 5, billing = 3 }`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skills, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Table(BTreeMap<String, u32>),
        }
        match Form::deserialize(d)? {
            Form::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Form::Table(t) => {
                let mut out = Skills::new();
                for (k, v) in t {
                    if v > MAX_SKILL_LEVEL {
                        return Err(serde::de::Error::custom(BadSkills(format!(
                            "level too high for '{k}'"
                        ))));
                    }
                    out = out.with(&k, v);
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_matches() {
        let agent: Skills = "English=5, billing=3".parse().unwrap();
        assert_eq!(agent.to_string(), "billing=3,english=5");
        let need: Skills = "billing=2".parse().unwrap();
        assert_eq!(agent.match_score(&need), Some(3));
        assert_eq!(agent.match_score(&"billing=4".parse().unwrap()), None);
        assert_eq!(agent.match_score(&"french".parse().unwrap()), None);
        assert_eq!(agent.match_score(&Skills::new()), Some(0));
        assert!("english=x".parse::<Skills>().is_err());
        assert!("=3".parse::<Skills>().is_err());
        assert!("a=1000".parse::<Skills>().is_err());
    }
}
