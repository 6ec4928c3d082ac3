//! `dialtone user`: console and API users in the data directory.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::Context;
use dialtone_auth::{Role, hash_password, random_secret, sha256_hex};
use dialtone_server::unix_now;
use dialtone_store::{AuditEntry, AuthStore, SqliteStore, StoreError, User};

use super::UsageError;
use super::data_dir::{open, open_existing};

/// Manage who may use the console and the operator API.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from --password-file, else from the first line of
    /// standard input when that is a pipe (never typed at a terminal, where it would show).
    ///
    /// Example: printf '%s\n' "$PASSWORD" | dialtone user add ada --role admin
    Add {
        /// 1 to 64 lowercase letters, digits, '-', '_', '.' or '@'.
        name: String,
        /// viewer (reads), operator (acts on incidents) or admin (also reads the audit log).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// File whose first line is the password (at least 12 characters).
        #[arg(long)]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print a one-time console sign-in link for a user (valid 30 minutes).
    Link {
        name: String,
        /// Where the server is reached, to print a clickable link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Where Dialtone's state lives.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// Directory for Dialtone's state (as given to `dialtone demo`).
    #[arg(long, default_value = "./dialtone-data")]
    pub data_dir: PathBuf,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

/// The user named `name`, or a usage error saying how to add one.
pub async fn existing_user(store: &SqliteStore, name: &str) -> anyhow::Result<User> {
    store
        .user_by_name(name)
        .await
        .context("looking up the user")?
        .ok_or_else(|| {
            UsageError(format!(
                "there is no user `{name}`: add one with `dialtone user add {name} --role operator`"
            ))
            .into()
        })
}

/// Records a CLI action in the audit log; the actor is the local account.
pub async fn audit(store: &SqliteStore, action: &str, target: String) -> anyhow::Result<()> {
    let actor = std::env::var("USER").map_or_else(|_| "cli".to_string(), |u| format!("cli:{u}"));
    store
        .audit(&AuditEntry {
            at: unix_now(),
            actor,
            action: action.into(),
            target,
            detail: String::new(),
        })
        .await
        .context("writing the audit log")
}

/// Creates a one-time sign-in link for `user`; returns the code for `/login/link?code=`.
pub async fn login_link(
    store: &SqliteStore,
    user: &User,
    valid_secs: i64,
) -> anyhow::Result<String> {
    let code = random_secret().context("drawing a sign-in code")?;
    store
        .add_login_link(
            &sha256_hex(code.as_bytes()),
            user.id,
            unix_now() + valid_secs,
        )
        .await
        .context("saving the sign-in link")?;
    audit(store, "login_link", format!("user {}", user.name)).await?;
    Ok(code)
}

fn read_password(file: Option<&Path>) -> anyhow::Result<String> {
    let line = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| {
                UsageError(format!(
                    "cannot read the password file {}: {e}",
                    path.display()
                ))
            })?
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        None => {
            use std::io::IsTerminal;
            // Typed at a terminal, the password would echo on screen.
            if std::io::stdin().is_terminal() {
                return Err(UsageError(
                    "give the password in a file (--password-file) or on a pipe, not typed at \
                     the terminal, where it would show"
                        .into(),
                )
                .into());
            }
            let mut line = String::new();
            let read = std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            if read == 0 {
                return Err(UsageError(
                    "no password on standard input: pipe one in or use --password-file".into(),
                )
                .into());
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    Ok(line)
}

pub fn run(args: UserArgs) -> anyhow::Result<()> {
    let runtime = super::store_runtime()?;
    runtime.block_on(async {
        match args.command {
            UserCommand::Add {
                name,
                role,
                password_file,
                data,
            } => {
                // Lowercase only: the audit log names people, and `Ada` and
                // `ada` (or `Iris` and `lris`) would be two accounts a reader
                // could not tell apart.
                let valid = !name.is_empty()
                    && name.len() <= 64
                    && (name.chars())
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.@".contains(c));
                if !valid {
                    return Err(UsageError(format!(
                        "`{name}` is not a valid user name: use 1 to 64 lowercase letters, digits, '-', '_', '.' or '@'"
                    ))
                    .into());
                }
                let password = read_password(password_file.as_deref())?;
                let hash = hash_password(&password).map_err(|e| UsageError(e.to_string()))?;
                let store = open(&data.data_dir).await?;
                // A name taken is the user's to change; a store that
                // cannot be written is not (exit 1, not 2).
                match store.add_user(&name, role, Some(&hash), unix_now()).await {
                    Err(StoreError::Conflict(taken)) => return Err(UsageError(taken).into()),
                    added => added.context("adding the user")?,
                };
                audit(&store, "user_add", format!("user {name} ({role})")).await?;
                outln!("added {role} `{name}`; sign in at /login, or create an API token with `dialtone token create --user {name}`")?;
                Ok(())
            }
            UserCommand::Link {
                name,
                base_url,
                data,
            } => {
                // Checked before a code is drawn: a link nobody can open is no use.
                let host = (base_url.strip_prefix("https://"))
                    .or_else(|| base_url.strip_prefix("http://"));
                if host.is_none_or(|h| h.trim_matches('/').is_empty()) {
                    return Err(UsageError(format!(
                        "--base-url `{base_url}` is not an http(s) address: give where the server \
                         is reached, e.g. https://status.example.net"
                    ))
                    .into());
                }
                let store = open_existing(&data.data_dir).await?;
                let user = existing_user(&store, &name).await?;
                let code = login_link(&store, &user, 30 * 60).await?;
                // A link nobody saw is no success, even if the reader closed the pipe.
                outln!("{}/login/link?code={code}", base_url.trim_end_matches('/')).map_err(
                    |e| {
                        anyhow::anyhow!(
                            "a login link for {name} was created but not shown ({e}); nobody saw its code, and it expires in 30 minutes: \
                             create another with `dialtone user link {name}`"
                        )
                    },
                )?;
                Ok(())
            }
        }
    })
}
