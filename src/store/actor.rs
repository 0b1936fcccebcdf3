//! Who acted: a person, the labelled key of a system, or the command line.
//! Audit rows, approvals and uploads store its display form, so the trail
//! stays readable after a person is renamed or a key revoked.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person: `张三 (zhangsan)`.
    User { login: String, name: String },
    /// An API key: `key "nightly import" (#3)`, or `key #3` for a key made
    /// before keys had labels.
    Key { id: i64, label: String },
    /// The command line on the server: `cli (root)`, with the OS user when known.
    Cli { os_user: Option<String> },
}

impl Actor {
    /// The command line, with the OS user from `$USER` / `$LOGNAME` when set.
    pub fn cli() -> Actor {
        let os_user = ["USER", "LOGNAME"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|u| u.trim().to_string())
            .find(|u| !u.is_empty() && u.len() <= 64 && !u.chars().any(char::is_control));
        Actor::Cli { os_user }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { login, name } => write!(f, "{name} ({login})"),
            Actor::Key { id, label } if label.is_empty() => write!(f, "key #{id}"),
            Actor::Key { id, label } => write!(f, "key \"{label}\" (#{id})"),
            Actor::Cli { os_user: Some(u) } => write!(f, "cli ({u})"),
            Actor::Cli { os_user: None } => write!(f, "cli"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Actor;

    #[test]
    fn actors_name_the_person_or_the_key() {
        let user = Actor::User {
            login: "zhangsan".into(),
            name: "张三".into(),
        };
        assert_eq!(user.to_string(), "张三 (zhangsan)");
        let key = Actor::Key {
            id: 3,
            label: "nightly import".into(),
        };
        assert_eq!(key.to_string(), "key \"nightly import\" (#3)");
        let old = Actor::Key {
            id: 4,
            label: String::new(),
        };
        assert_eq!(old.to_string(), "key #4");
        let cli = Actor::Cli {
            os_user: Some("ops".into()),
        };
        assert_eq!(cli.to_string(), "cli (ops)");
    }
}
