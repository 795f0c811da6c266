//! What one subscriber wants: event names (`ALL`, `CUSTOM subclass...`), header filters and
//! an optional channel restriction, with FreeSWITCH mod_event_socket's semantics.

use std::collections::HashSet;

use super::names::is_event_name;
use super::Event;

/// A subscriber's interest. Empty interest matches nothing.
#[derive(Clone, Debug, Default)]
pub struct Interest {
    all: bool,
    names: HashSet<&'static str>,
    subclasses: HashSet<String>,
    filters: Vec<Filter>,
    /// `myevents <uuid>`: only events whose `Unique-ID` is this.
    unique_id: Option<String>,
}

/// `filter <header> <value>`: a value starting with `-` excludes, `/.../` is a regular
/// expression, anything else compares case-insensitively with the whole header value.
#[derive(Clone, Debug)]
pub struct Filter {
    pub header: String,
    pub value: String,
    test: Test,
    positive: bool,
}

#[derive(Clone, Debug)]
enum Test {
    Equals(String),
    Regex(regex::Regex),
}

/// Why a subscription or filter change was refused (the text after `-ERR `).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    #[error("no keywords supplied")]
    NoKeywords,
    #[error("invalid syntax")]
    Syntax,
    #[error("invalid regex {0}")]
    Regex(String),
    #[error("no such filter")]
    NoSuchFilter,
}

impl Filter {
    /// A filter on `header` for `value` (see the type's doc for the value's syntax).
    pub fn new(header: &str, value: &str) -> Result<Filter, FilterError> {
        let mut rest = value;
        let mut positive = true;
        // A leading run of `+`, `-` and spaces: the last sign wins, as in FreeSWITCH.
        while let Some(c) = rest.chars().next() {
            match c {
                '+' => positive = true,
                '-' => positive = false,
                ' ' => {}
                _ => break,
            }
            rest = &rest[1..];
        }
        let test = match rest.strip_prefix('/') {
            Some(re) => {
                let re = re.strip_suffix('/').unwrap_or(re);
                Test::Regex(regex::Regex::new(re).map_err(|e| FilterError::Regex(one_line(&e)))?)
            }
            None => Test::Equals(rest.to_string()),
        };
        Ok(Filter {
            header: header.to_string(),
            value: value.to_string(),
            test,
            positive,
        })
    }

    fn hit(&self, value: &str) -> bool {
        match &self.test {
            Test::Equals(v) => v.eq_ignore_ascii_case(value),
            Test::Regex(re) => re.is_match(value),
        }
    }
}

fn one_line(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string()
}

impl Interest {
    /// Interest in everything (`event plain ALL`).
    pub fn all() -> Interest {
        Interest {
            all: true,
            ..Default::default()
        }
    }

    /// Adds names as `event <format> <words...>` does: known names (any case), `ALL`, and
    /// after `CUSTOM` the subclasses (`CUSTOM callcenter::info sofia::register`). Unknown
    /// names are skipped; with no known name at all it is refused.
    pub fn subscribe<'a>(
        &mut self,
        words: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), FilterError> {
        let mut known = 0;
        let mut custom = false;
        for w in words {
            if custom {
                self.subclasses.insert(w.to_string());
            } else if let Some(name) = is_event_name(w) {
                known += 1;
                match name {
                    "ALL" => self.all = true,
                    "CUSTOM" => custom = true,
                    _ => {}
                }
                self.names.insert(name);
            }
        }
        match known {
            0 => Err(FilterError::NoKeywords),
            _ => Ok(()),
        }
    }

    /// The interest a module's subscription spec names: event names as
    /// [`Interest::subscribe`] takes them, then any number of `filter <header> <value>`
    /// (one word each), as the event socket's `filter` command: e.g.
    /// `CHANNEL_HANGUP filter variable_cc_side agent` delivers only the hangups of channels
    /// with that variable, and the others never reach the module.
    pub fn from_spec(spec: &str) -> Result<Interest, FilterError> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let mut groups = words.split(|w| *w == "filter");
        let mut interest = Interest::default();
        interest.subscribe(groups.next().unwrap_or_default().iter().copied())?;
        for group in groups {
            let [header, value] = group else {
                return Err(FilterError::Syntax);
            };
            interest.add_filter(header, value)?;
        }
        Ok(interest)
    }

    /// Removes names as `nixevent <words...>` does; nixing one name out of `ALL` keeps
    /// every other name.
    pub fn nix<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) -> Result<(), FilterError> {
        let mut known = 0;
        let mut custom = false;
        for w in words {
            if custom {
                self.subclasses.remove(w);
            } else if let Some(name) = is_event_name(w) {
                known += 1;
                match name {
                    "CUSTOM" => custom = true,
                    "ALL" => {
                        self.all = false;
                        self.names.clear();
                    }
                    _ => {
                        if self.all {
                            self.all = false;
                            self.names.extend(super::EVENT_NAMES.iter().copied());
                            self.names.remove("ALL");
                        }
                        self.names.remove(name);
                    }
                }
            }
        }
        match known {
            0 => Err(FilterError::NoKeywords),
            _ => Ok(()),
        }
    }

    /// Forgets every name and subclass (`noevents`); filters stay.
    pub fn clear_names(&mut self) {
        self.all = false;
        self.names.clear();
        self.subclasses.clear();
        self.unique_id = None;
    }

    /// Whether any name is subscribed.
    pub fn is_listening(&self) -> bool {
        self.all || !self.names.is_empty()
    }

    /// Only events of this channel (`myevents <uuid>`).
    pub fn restrict_to(&mut self, unique_id: Option<String>) {
        self.unique_id = unique_id;
    }

    /// Adds `filter <header> <value>`.
    pub fn add_filter(&mut self, header: &str, value: &str) -> Result<&Filter, FilterError> {
        let f = Filter::new(header, value)?;
        self.filters.push(f);
        self.filters.last().ok_or(FilterError::Syntax)
    }

    /// `filter delete all`, `filter delete <header>` and `filter delete <header> <value>`.
    pub fn delete_filter(&mut self, header: &str, value: Option<&str>) -> Result<(), FilterError> {
        let before = self.filters.len();
        if header.eq_ignore_ascii_case("all") && value.is_none() {
            self.filters.clear();
            return Ok(());
        }
        self.filters.retain(|f| {
            !(f.header.eq_ignore_ascii_case(header) && value.is_none_or(|v| f.value == v))
        });
        if self.filters.len() == before {
            return Err(FilterError::NoSuchFilter);
        }
        Ok(())
    }

    /// The filters, in the order added.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Whether an event named `name` can match: by name (or `ALL`), filters and
    /// `myevents` aside. `CUSTOM` is wanted when any subclass is.
    pub fn may_want(&self, name: &str) -> bool {
        self.all || self.names.contains(name)
    }

    /// Whether `e` is delivered: a subscribed name (a `CUSTOM` event with a subclass only
    /// when that subclass is subscribed, unless `ALL`), the channel restriction, then the
    /// filters: with any filter, the event must match a positive one whose header it has
    /// and no negative one.
    pub fn matches(&self, e: &Event) -> bool {
        let name = e.name();
        let named = self.all
            || (self.names.contains(name)
                && (name != "CUSTOM" || e.subclass().is_none_or(|s| self.subclasses.contains(s))));
        if !named {
            return false;
        }
        if let Some(uuid) = &self.unique_id {
            if e.header("Unique-ID") != Some(uuid.as_str()) {
                return false;
            }
        }
        if self.filters.is_empty() {
            return true;
        }
        let mut send = false;
        for f in &self.filters {
            let Some(value) = e.header(&f.header) else {
                continue;
            };
            if send && f.positive {
                continue;
            }
            if f.hit(value) {
                if f.positive {
                    send = true;
                } else {
                    return false;
                }
            }
        }
        send
    }
}
