//! `sevwatch serve`: settings from defaults, then the config file, then `SEVWATCH_*`
//! environment variables, then flags; open the store; make sure the admin token exists; serve.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sevwatch_server::{bootstrap, checkpoint, AppState};
use sevwatch_store::{Backend, Store};
use tokio::net::TcpListener;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "SEVWATCH_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the SQLite file and the admin token.
    #[arg(long, env = "SEVWATCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (default: ./sevwatch.toml when present).
    #[arg(long, env = "SEVWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, env = "SEVWATCH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEVWATCH_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config_file = args.config.clone().or_else(|| Some(PathBuf::from("sevwatch.toml")).filter(|p| p.exists()));
    let (mut config, mut notify) = match &config_file {
        Some(f) => super::config::load(f)?,
        None => (sevwatch_core::Config::default(), sevwatch_notify::NotifyConfig::default()),
    };
    let templates = std::sync::Arc::new(
        sevwatch_notify::Templates::load(notify.templates_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("templates_dir: {e}"))?,
    );
    if let Some(l) = args.listen {
        config.server.listen = Some(l);
    }
    if let Some(d) = args.data_dir {
        config.server.data_dir = Some(d.display().to_string());
    }
    if let Some(u) = args.database_url {
        config.server.database_url = Some(u);
    }
    let data_dir = PathBuf::from(config.server.data_dir.clone().unwrap_or_else(|| super::DEFAULT_DATA_DIR.into()));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    config.server.data_dir = Some(data_dir.display().to_string());
    if let Some(dir) = &config.runbooks.workdir {
        if sevwatch_server::inside_data_dir(std::path::Path::new(dir), &data_dir) {
            anyhow::bail!(
                "[runbooks] workdir {dir} is inside the data directory {}: steps run on the server must not be able \
                 to touch the database or the tokens; choose another directory",
                data_dir.display()
            );
        }
    }
    let backend = match &config.server.database_url {
        Some(url) => Backend::Postgres { url: url.clone() },
        None => Backend::Sqlite { path: data_dir.join("sevwatch.db") },
    };
    if let Some(key) = bootstrap::ensure_contact_webhook_secret(&mut notify, &data_dir)
        .context("cannot create the contact webhook signing key")?
    {
        tracing::warn!(
            key = %key.display(),
            "[outbox] contact_webhook_secret is not set: messages to users' webhook contacts are signed with the \
             generated key in this file (give every replica the same secret in the configuration)"
        );
    }
    let store =
        Store::open_full(&backend, &config, notify, templates.clone()).await.context("cannot open the database")?;
    let token_path = bootstrap::ensure_admin_token(&store, &data_dir).await.context("cannot create the admin token")?;
    let key_env = std::env::var(checkpoint::KEY_ENV).ok();
    let chain_anchor =
        checkpoint::ChainAnchor::load(&data_dir, key_env.as_deref()).context("cannot load the chain key")?;
    tracing::info!(
        key = %chain_anchor.key_id(),
        from = if key_env.is_some() { checkpoint::KEY_ENV } else { checkpoint::KEY_FILE },
        "timeline checkpoints are signed with this chain key"
    );
    let interrupted =
        bootstrap::interrupt_running_steps(&store).await.context("cannot mark running runbook steps interrupted")?;
    if interrupted > 0 {
        tracing::warn!(
            steps = interrupted,
            "runbook steps that were running before the restart are now marked interrupted"
        );
    }
    let listen = config.server.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "sevwatch listening on http://{addr} ({} database; admin token in {})",
        store.backend_name(),
        token_path.display()
    );
    let state = AppState::with_templates(store, config, templates).with_chain_anchor(std::sync::Arc::new(chain_anchor));
    sevwatch_server::serve(listener, state).await.context("server error")
}
