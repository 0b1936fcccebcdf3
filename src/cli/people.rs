//! `unionstat users …` and `unionstat keys …`: the people who sign in and the
//! keys of scripts, managed on the server's command line (audited as `cli`
//! with the OS user).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

use super::table::row;
use super::table::Col::{self, L};
use crate::context::AppContext;
use crate::passwords;
use crate::store::actor::Actor;
use crate::store::keys::{check_label, parse_expiry, NewKey, Role};
use crate::store::people::{check_login, NewUser};

/// Where a password comes from: stdin (`--password-stdin`), a prompt on a
/// terminal, or, when neither gives one, generated and printed once.
fn obtain_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            anyhow::bail!("--password-stdin: stdin gave no password");
        }
        passwords::check_rules(&pw).map_err(anyhow::Error::msg)?;
        return Ok((pw, false));
    }
    if std::io::stdin().is_terminal() {
        let first = prompt("Password (empty: generate one): ")?;
        if !first.is_empty() {
            passwords::check_rules(&first).map_err(anyhow::Error::msg)?;
            if prompt("Password again: ")? != first {
                anyhow::bail!("the two passwords differ");
            }
            return Ok((first, false));
        }
    }
    Ok((passwords::generate(), true))
}

/// Reads a line from the terminal with echo off.
fn prompt(text: &str) -> anyhow::Result<String> {
    eprint!("{text}");
    std::io::stderr().flush().ok();
    let echo = EchoOff::new();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    drop(echo);
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Terminal echo off while it lives (Unix; elsewhere a no-op).
struct EchoOff(#[cfg(unix)] Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on fd 0 with a zeroed termios, which
            // they fill or leave alone; failure leaves the terminal unchanged.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) != 0 {
                    return EchoOff(None);
                }
                let saved = t;
                t.c_lflag &= !libc::ECHO;
                if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                    return EchoOff(None);
                }
                EchoOff(Some(saved))
            }
        }
        #[cfg(not(unix))]
        EchoOff()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.0 {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &saved);
            }
        }
    }
}

fn role(raw: &str) -> anyhow::Result<Role> {
    Role::parse(raw).with_context(|| format!("--role {raw}: use submitter, viewer or admin"))
}

pub struct NewUserArgs {
    pub name: String,
    pub login: String,
    pub org: String,
    pub role: String,
    pub password_stdin: bool,
}

pub async fn create_user(ctx: &AppContext, args: NewUserArgs) -> anyhow::Result<ExitCode> {
    let login = check_login(&args.login).map_err(anyhow::Error::msg)?;
    let name = args.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        anyhow::bail!("--name: a person's name of 1-100 characters, e.g. 张三");
    }
    let role = role(&args.role)?;
    let (password, generated) = obtain_password(args.password_stdin)?;
    let hash = passwords::hash(&password)?;
    let id = ctx
        .store
        .create_user(&NewUser {
            login: &login,
            name,
            org_code: &args.org,
            role,
            password_hash: &hash,
            created_by: &Actor::cli(),
        })
        .await?;
    eprintln!(
        "user {name} ({login}), #{id}, for {} as {}",
        args.org,
        role.as_str()
    );
    if generated {
        eprintln!("generated password, shown only once:");
        outln!("{password}");
    }
    Ok(ExitCode::SUCCESS)
}

/// login, name, org, role, state.
const USERS: &[Col] = &[L(20), L(12), L(14), L(9), L(0)];
/// id, prefix, org, role, label, state.
const KEYS: &[Col] = &[L(6), L(10), L(14), L(9), L(24), L(0)];

pub async fn list_users(ctx: &AppContext, json: bool) -> anyhow::Result<ExitCode> {
    let users = ctx.store.users().await?;
    if json {
        let rows: Vec<serde_json::Value> = users
            .iter()
            .map(|u| {
                serde_json::json!({
                    "id": u.id, "login": u.login, "name": u.name, "org": u.org_code,
                    "role": u.role.as_str(), "disabled": u.disabled,
                    "created_at": u.created_at, "created_by": u.created_by,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if users.is_empty() {
        outln!("no users yet: unionstat users create --name NAME --login LOGIN --org CODE --role admin");
    }
    for u in &users {
        let cells = [
            u.login.as_str(),
            &u.name,
            &u.org_code,
            u.role.as_str(),
            if u.disabled { "disabled" } else { "active" },
        ];
        outln!("{}", row(USERS, &cells));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn disable_user(ctx: &AppContext, login: &str) -> anyhow::Result<ExitCode> {
    let login = check_login(login).map_err(anyhow::Error::msg)?;
    if !ctx.store.disable_user(&login, &Actor::cli()).await? {
        anyhow::bail!("no user {login}");
    }
    outln!("user {login} disabled; their sessions have ended");
    Ok(ExitCode::SUCCESS)
}

pub async fn reset_password(
    ctx: &AppContext,
    login: &str,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let login = check_login(login).map_err(anyhow::Error::msg)?;
    if ctx.store.user_by_login(&login).await?.is_none() {
        anyhow::bail!("no user {login}");
    }
    let (password, generated) = obtain_password(password_stdin)?;
    let hash = passwords::hash(&password)?;
    if !ctx.store.set_password(&login, &hash, &Actor::cli()).await? {
        anyhow::bail!("no user {login}");
    }
    eprintln!("password of {login} set; their sessions have ended");
    if generated {
        eprintln!("generated password, shown only once:");
        outln!("{password}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn create_key(
    ctx: &AppContext,
    org: &str,
    role_raw: &str,
    label: &str,
    expires: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let role = role(role_raw)?;
    let label = check_label(label).map_err(|e| anyhow::anyhow!("--label: {e}"))?;
    let expires_at = expires
        .map(|e| parse_expiry(e, chrono::Utc::now()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
    let (id, key) = ctx
        .store
        .create_key(&NewKey {
            org_code: org,
            role,
            label: &label,
            expires_at: expires_at.as_deref(),
            created_by: &Actor::cli(),
        })
        .await?;
    eprintln!(
        "key \"{label}\" (#{id}) for {org} as {}{}; it is shown only once:",
        role.as_str(),
        expires_at
            .map(|e| format!(", expires {e}"))
            .unwrap_or_default()
    );
    outln!("{key}");
    Ok(ExitCode::SUCCESS)
}

pub async fn list_keys(ctx: &AppContext, json: bool) -> anyhow::Result<ExitCode> {
    let keys = ctx.store.keys().await?;
    if json {
        let rows: Vec<serde_json::Value> = keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "id": k.id, "prefix": k.prefix, "org": k.org, "role": k.role,
                    "label": k.label, "created_at": k.created_at, "created_by": k.created_by,
                    "expires_at": k.expires_at, "revoked_at": k.revoked_at,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let now = crate::store::now();
    for k in &keys {
        let state = match (&k.revoked_at, &k.expires_at) {
            (Some(r), _) => format!("revoked {r}"),
            (None, Some(e)) if *e <= now => format!("expired {e}"),
            (None, Some(e)) => format!("expires {e}"),
            (None, None) => "active".into(),
        };
        let cells = [
            &format!("#{}", k.id),
            k.prefix.as_str(),
            &k.org,
            &k.role,
            &format!("\"{}\"", k.label),
            &state,
        ];
        outln!("{}", row(KEYS, &cells));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke_key(ctx: &AppContext, id: i64) -> anyhow::Result<ExitCode> {
    match ctx.store.revoke_key(id, &Actor::cli()).await? {
        None => anyhow::bail!("no key #{id}"),
        Some(false) => {
            outln!("key #{id} was already revoked");
            Ok(ExitCode::SUCCESS)
        }
        Some(true) => {
            outln!("key #{id} revoked; it no longer works");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The command that creates the first admin, for `serve` to log when no one
/// can sign in yet.
pub async fn first_admin_hint(ctx: &AppContext, global: &str) -> anyhow::Result<Option<String>> {
    if ctx.store.user_count().await? > 0 {
        return Ok(None);
    }
    Ok(Some(match ctx.store.root_org_code().await? {
        Some(root) => format!(
            "no user can sign in yet; create the first admin with: unionstat{global} users create --name 管理员 --login admin --org {root} --role admin"
        ),
        None => format!(
            "no user can sign in yet and there is no master data: import it with `unionstat{global} orgs import FILE`, then create the first admin with: unionstat{global} users create --name 管理员 --login admin --org ROOT_CODE --role admin"
        ),
    }))
}
