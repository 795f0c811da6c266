//! The user directory: `<dir>/directory/*.toml`, every file merged.
//!
//! ```toml
//! [users.1000]
//! password = "1234"
//! caller_id_name = "Extension 1000"   # default: the user id
//! caller_id_number = "1000"           # default: the user id
//! context = "default"                 # default: "default"
//! variables = { accountcode = "1000" }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, ConfigErrorKind};
use super::source::Source;

/// All SIP users the switch knows, by user id.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Users by id.
    pub users: BTreeMap<String, User>,
}

/// One SIP user (an extension).
#[derive(Clone)]
pub struct User {
    /// User id: the user part of the AOR and the digest username.
    pub id: String,
    /// Digest password.
    pub password: String,
    /// Caller ID name shown on calls from this user.
    pub caller_id_name: String,
    /// Caller ID number shown on calls from this user.
    pub caller_id_number: String,
    /// Dialplan context for calls from this user.
    pub context: String,
    /// Channel variables set on this user's calls (FreeSWITCH `<variables>`).
    pub variables: BTreeMap<String, String>,
}

/// The well-known demo password, which a real deployment must change.
pub const DEMO_PASSWORD: &str = "1234";

impl Directory {
    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    /// Ids of users whose password is still the demo password `1234`, to warn about at startup.
    pub fn demo_password_users(&self) -> Vec<&str> {
        (self.users.values())
            .filter(|u| u.password == DEMO_PASSWORD)
            .map(|u| u.id.as_str())
            .collect()
    }

    /// Reads every `*.toml` file of `folder` in name order; a missing folder is an empty directory.
    pub(crate) fn load(folder: &Path) -> Result<Directory, ConfigError> {
        let io = |e: std::io::Error| {
            ConfigError::new(
                folder,
                ConfigErrorKind::Io,
                format!("cannot read folder: {e}"),
            )
        };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(folder) {
            Ok(entries) => entries
                .map(|entry| entry.map(|e| e.path()).map_err(io))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        files.sort();
        let mut dir = Directory::default();
        // Where each user was defined, to name both places of a duplicate.
        let mut origin: BTreeMap<String, (PathBuf, Option<usize>)> = BTreeMap::new();
        for file in &files {
            let src = Source::read(file)?;
            for user in parse_users(&src)? {
                let key = format!("users.{}", user.id);
                let line = src.line_of(&key);
                if let Some((first, first_line)) = origin.get(&user.id) {
                    let at = first_line.map_or_else(
                        || first.display().to_string(),
                        |l| format!("{}:{l}", first.display()),
                    );
                    let msg = format!("user {:?} is already defined in {at}", user.id);
                    return Err(src.error(&key, ConfigErrorKind::Duplicate, msg));
                }
                origin.insert(user.id.clone(), (file.clone(), line));
                dir.users.insert(user.id.clone(), user);
            }
        }
        Ok(dir)
    }
}

// The password stays out of logs and panic messages.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("password", &"<redacted>")
            .field("caller_id_name", &self.caller_id_name)
            .field("caller_id_number", &self.caller_id_number)
            .field("context", &self.context)
            .field("variables", &self.variables)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    users: BTreeMap<String, RawUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    password: String,
    caller_id_name: Option<String>,
    caller_id_number: Option<String>,
    context: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

fn parse_users(src: &Source) -> Result<Vec<User>, ConfigError> {
    let raw: RawFile = src.deserialize()?;
    let mut users = Vec::with_capacity(raw.users.len());
    for (id, u) in raw.users {
        let bad = |field: &str, msg: String| {
            let key = if field.is_empty() {
                format!("users.{id}")
            } else {
                format!("users.{id}.{field}")
            };
            src.error(&key, ConfigErrorKind::InvalidValue, msg)
        };
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
        {
            return Err(bad(
                "",
                format!("invalid user id {id:?}: use letters, digits, '_', '-' and '+'"),
            ));
        }
        if u.password.is_empty() {
            return Err(bad("password", "must not be empty".into()));
        }
        let context = u.context.unwrap_or_else(|| "default".into());
        if context.trim().is_empty() {
            return Err(bad("context", "must not be empty".into()));
        }
        users.push(User {
            caller_id_name: u.caller_id_name.unwrap_or_else(|| id.clone()),
            caller_id_number: u.caller_id_number.unwrap_or_else(|| id.clone()),
            id,
            password: u.password,
            context,
            variables: u.variables,
        });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<User>, ConfigError> {
        parse_users(&Source::parse(Path::new("d.toml"), text.to_string())?)
    }

    #[test]
    fn user_fields_take_defaults_from_the_id() {
        let users = parse("[users.1000]\npassword = \"s3cret\"\n").unwrap();
        let u = &users[0];
        assert_eq!(
            (
                u.id.as_str(),
                u.caller_id_name.as_str(),
                u.caller_id_number.as_str()
            ),
            ("1000", "1000", "1000")
        );
        assert_eq!(u.context, "default");
        assert!(u.variables.is_empty());
    }

    #[test]
    fn missing_password_names_the_user() {
        let err = parse("[users.1000]\ncaller_id_name = \"x\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("users.1000"));
        assert!(err.message.contains("password"), "{err}");
    }

    #[test]
    fn unknown_user_field_is_reported_with_line() {
        let err = parse("[users.1000]\npassword = \"x\"\npasword = \"y\"\n").unwrap_err();
        assert_eq!(err.kind, ConfigErrorKind::UnknownKey);
        assert_eq!(err.key.as_deref(), Some("users.1000.pasword"));
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn non_string_variable_is_reported_with_line() {
        let err =
            parse("[users.1000]\npassword = \"x\"\n[users.1000.variables]\naccountcode = 7\n")
                .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("users.1000.variables.accountcode"));
        assert_eq!(err.line, Some(4));
    }

    #[test]
    fn bad_user_id_is_rejected() {
        let err = parse("[users.\"a b\"]\npassword = \"x\"\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("invalid user id"));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let users = parse("[users.1000]\npassword = \"s3cret\"\n").unwrap();
        assert!(!format!("{:?}", users[0]).contains("s3cret"));
    }

    #[test]
    fn demo_password_users_are_listed() {
        let mut dir = Directory::default();
        for u in
            parse("[users.1000]\npassword = \"1234\"\n[users.1001]\npassword = \"x\"\n").unwrap()
        {
            dir.users.insert(u.id.clone(), u);
        }
        assert_eq!(dir.demo_password_users(), vec!["1000"]);
        assert_eq!(dir.user("1001").map(|u| u.password.as_str()), Some("x"));
        assert!(dir.user("1002").is_none());
    }
}
