//! `dialtone token`: API tokens for the operator API.

use anyhow::Context;
use dialtone_auth::new_token;
use dialtone_server::unix_now;
use dialtone_store::AuthStore;

use super::UsageError;
use super::data_dir::open_existing;
use super::user::{DataDir, audit, existing_user};

/// Manage API tokens for `/api/v1/`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a token acting as a user; it is printed once and only its hash is kept.
    ///
    /// Example: dialtone token create --user ada --label pager-bridge
    Create {
        /// The user the token acts as (with that user's role).
        #[arg(long)]
        user: String,
        /// What the token is for, to recognise it later.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a token by its id (the `dt_<id>_` part, also printed at creation);
    /// requests bearing it are refused from the next one on.
    ///
    /// Example: dialtone token revoke 3f9a0c17b2d4e855
    Revoke {
        /// The token's public id: 16 hexadecimal digits, whole.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let runtime = super::store_runtime()?;
    runtime.block_on(async {
        let (user, label, data) = match args.command {
            TokenCommand::Create { user, label, data } => (user, label, data),
            TokenCommand::Revoke { id, data } => {
                // `dt_<id>_` as the help names it, or a whole token pasted.
                let id = match id.strip_prefix("dt_") {
                    Some(rest) => rest.split('_').next().unwrap_or(rest).to_owned(),
                    None => id,
                };
                let store = open_existing(&data.data_dir).await?;
                if !store.revoke_token(&id).await.context("revoking the token")? {
                    return Err(UsageError(format!(
                        "there is no token `{id}` (or it was revoked already): name it by the \
                         16 hexadecimal digits after `dt_` in the token, as `dialtone token \
                         create` printed it"
                    ))
                    .into());
                }
                audit(&store, "token_revoke", format!("token {id}")).await?;
                eprintln!("token {id} revoked");
                return Ok(());
            }
        };
        let store = open_existing(&data.data_dir).await?;
        let owner = existing_user(&store, &user).await?;
        let token = new_token().context("drawing a token")?;
        store
            .add_token(owner.id, &token.id, &token.secret_hash, &label, unix_now())
            .await
            .context("saving the token")?;
        audit(&store, "token_create", format!("token {} for user {user}", token.id)).await?;
        eprintln!(
            "token {} for {} ({}); it is shown once, store it now. Use it as `Authorization: Bearer <token>`.",
            token.id, owner.name, owner.role
        );
        // A secret nobody saw is no success, even if the reader closed the pipe.
        outln!("{}", token.plaintext).map_err(|e| {
            anyhow::anyhow!(
                "token {} was created but not shown ({e}); revoke it with \
                 `dialtone token revoke {}` and create another",
                token.id,
                token.id
            )
        })?;
        Ok(())
    })
}
