//! The `greenchannel` command line: every subcommand works on the same
//! configuration as the server (defaults, `--config` file, environment).
use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::{
    api,
    config::Settings,
    domain::principal::Actor,
    services::{self, auth::ChannelKey},
    startup::Application,
    state::{AppState, Clock},
    store::{self, Db},
    telemetry,
};

#[derive(Parser)]
#[command(name = "greenchannel", version, about = "Electronic business registration and licence display")]
pub struct Cli {
    /// TOML settings file (also GREENCHANNEL_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service (creates and migrates the database first).
    Serve {
        /// Register the `dev` channel (demos and tests only).
        #[arg(long)]
        dev: bool,
        /// Address to listen on (also GREENCHANNEL_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// API keys for reviewers, departments, platforms and admins.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Mobile channels allowed to vouch for applicants.
    Channels {
        #[command(subcommand)]
        command: ChannelsCommand,
    },
    /// Fill the database with realistic registered enterprises (benchmarks, demos).
    Seed {
        #[arg(long)]
        enterprises: u64,
        /// Seed of the generator: the same seed writes the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The licensing-department directory (dual notification).
    Departments {
        #[command(subcommand)]
        command: DepartmentsCommand,
    },
    /// Credit restrictions (serious-dishonesty lists).
    Restrictions {
        #[command(subcommand)]
        command: RestrictionsCommand,
    },
    /// Verify a licence credential (or the `/v/…` URL of a QR code) with no
    /// server: only the published keys (`/.well-known/greenchannel/keys.json`).
    /// Says whether the signature holds and what it claims; live status
    /// (revoked, superseded) needs the online check. Exit status 0 when the
    /// signature holds, 1 when not, 2 when the input is not a credential.
    VerifyOffline {
        credential: String,
        #[arg(long)]
        keys: PathBuf,
        /// The shop URL where it was displayed: checks a shop-bound badge.
        #[arg(long)]
        shop_url: Option<String>,
    },
    /// The tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print an assertion signed for the `dev` channel (demos and tests):
    /// what a mobile entry point would send after real-name verification.
    DevAssertion {
        #[arg(long)]
        name: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        phone: Option<String>,
        /// Seconds until it expires (at most 600).
        #[arg(long, default_value_t = 300)]
        ttl: i64,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once, alone on the last line.
    Create(KeyArgs),
    /// Revoke a key by id.
    Revoke { id: uuid::Uuid },
    /// List keys (never the keys themselves).
    List,
    /// Start signing licence credentials with a new key. The previous key
    /// stays published, so what it signed keeps verifying.
    RotateSigning,
    /// Withdraw a rotated-out credential key (for a leaked key): it is no
    /// longer published and what it signed no longer verifies.
    RetireSigning {
        #[arg(long)]
        kid: u16,
    },
    /// List credential signing keys (public halves only).
    Signing,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Re-compute the audit hash chain from the stored events and report the
    /// first broken link. Read-only. Exit status 0 when intact, 1 when broken.
    Verify,
    /// Seal committed events into the chain now (servers do this every
    /// `audit_seal_ms`).
    Seal,
    /// Print the chain's head (sequence number and hash), to record outside
    /// the database: a head kept elsewhere also catches a rewritten chain.
    Head,
}

#[derive(Args)]
pub struct KeyArgs {
    /// reviewer, department, platform, host or admin.
    #[arg(long)]
    pub role: String,
    /// Reviewers: 6-digit county code of the registration authority.
    #[arg(long)]
    pub authority: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
    #[arg(long)]
    pub platform: Option<String>,
    /// Hosts: the address host's id.
    #[arg(long)]
    pub host: Option<uuid::Uuid>,
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Subcommand)]
pub enum DepartmentsCommand {
    /// Register (or update) a department.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// As the catalogue's department_kind (market_regulation, publishing…).
        #[arg(long)]
        kind: String,
        /// Jurisdiction: county code, city (xxxx00), province (xx0000) or 000000.
        #[arg(long)]
        authority: String,
        #[arg(long)]
        webhook: Option<String>,
        #[arg(long)]
        secret: Option<String>,
        #[arg(long)]
        claim_days: Option<i32>,
        #[arg(long)]
        feedback_days: Option<i32>,
    },
    /// Import a CSV (`code,name,kind,admin_code,webhook_url,webhook_secret,claim_days,feedback_days`
    /// with a header row); all lines or none.
    Import {
        file: PathBuf,
    },
    List,
}

#[derive(Subcommand)]
pub enum RestrictionsCommand {
    /// Import a CSV (`kind,subject,name,reason,source,listed_on,expires_on`
    /// with a header row); all lines or none.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub enum ChannelsCommand {
    /// Register a channel with an HS256 secret or an Ed25519 public key.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, conflicts_with = "ed25519_public_key", required_unless_present = "ed25519_public_key")]
        hs256_secret: Option<String>,
        /// PEM, or base64url of the 32 raw bytes.
        #[arg(long)]
        ed25519_public_key: Option<String>,
    },
    List,
}

/// A state for commands that touch the database without serving.
async fn offline_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = Db::connect(&settings).await?;
    db.migrate().await?;
    let bind = settings.bind;
    AppState::new(db, settings, Clock::default(), bind).await
}

fn operator() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor { role: "admin", id: format!("cli:{user}"), channel: None }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(settings.log_format);
    match cli.command {
        Command::Serve { dev, bind } => {
            settings.dev |= dev;
            if let Some(b) = bind {
                settings.bind = b;
            }
            if settings.dev {
                tracing::warn!(
                    "dev mode: channel `dev` accepts assertions signed with the dev secret; never use in production"
                );
            }
            Application::build(settings).await?.run_until_stopped().await
        }
        Command::Migrate => {
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", api::spec_json());
            Ok(())
        }
        Command::Keys { command } => {
            let state = offline_state(settings).await?;
            match command {
                KeysCommand::Create(k) => {
                    let created = services::auth::create_api_key(
                        &state,
                        &operator(),
                        services::auth::NewApiKey {
                            role: k.role,
                            authority: k.authority,
                            department: k.department,
                            platform: k.platform,
                            host: k.host,
                            name: k.name,
                            expires_at: None,
                        },
                    )
                    .await
                    .map_err(describe)?;
                    eprintln!("created {} key {} (store it now: it is not shown again)", created.role, created.id);
                    println!("{}", created.key);
                }
                KeysCommand::Revoke { id } => {
                    services::auth::revoke_api_key(&state, &operator(), id).await.map_err(describe)?;
                    println!("revoked {id}");
                }
                KeysCommand::List => {
                    for k in crate::store::api_keys::list(state.db.conn()).await? {
                        let scope = k.authority.or(k.department_code).or(k.platform_id).unwrap_or_default();
                        let revoked = if k.revoked_at.is_some() { "revoked" } else { "live" };
                        println!("{}\t{}\t{}\t{}\t{}…\t{}", k.id, k.role, scope, k.name, k.key_prefix, revoked);
                    }
                }
                KeysCommand::RotateSigning => {
                    let kid = services::signing::rotate(&state.db, chrono::Utc::now()).await.map_err(describe)?;
                    println!("signing with key {kid}; running instances pick it up within seconds");
                }
                KeysCommand::RetireSigning { kid } => {
                    services::signing::retire(&state.db, kid, chrono::Utc::now()).await.map_err(describe)?;
                    println!("retired key {kid}");
                }
                KeysCommand::Signing => {
                    for k in crate::store::signing_keys::all(state.db.conn()).await? {
                        println!("{}\t{}\t{}\t{}", k.kid, k.status, k.public_key, k.created_at.to_rfc3339());
                    }
                }
            }
            Ok(())
        }
        Command::Departments { command } => {
            let state = offline_state(settings).await?;
            match command {
                DepartmentsCommand::Add { code, name, kind, authority, webhook, secret, claim_days, feedback_days } => {
                    let d = services::notifications::NewDepartment {
                        code,
                        name,
                        kind,
                        admin_code: authority,
                        webhook_url: webhook,
                        webhook_secret: secret,
                        claim_days,
                        feedback_days,
                    };
                    let row =
                        services::notifications::upsert_department(&state, &operator(), d).await.map_err(describe)?;
                    println!("department {} registered", row.code);
                }
                DepartmentsCommand::Import { file } => {
                    let text = std::fs::read_to_string(&file)?;
                    let ds = services::notifications::parse_departments_csv(&text).map_err(|errors| {
                        let lines: Vec<String> = errors
                            .iter()
                            .map(|e| format!("{}: {}", e.field, crate::i18n::field_message(e, crate::i18n::Lang::En)))
                            .collect();
                        anyhow::anyhow!("nothing imported:\n{}", lines.join("\n"))
                    })?;
                    let n = ds.len();
                    for d in ds {
                        services::notifications::upsert_department(&state, &operator(), d).await.map_err(describe)?;
                    }
                    println!("imported {n} departments");
                }
                DepartmentsCommand::List => {
                    for d in crate::store::notifications::departments(state.db.conn()).await? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            d.code,
                            d.kind,
                            d.admin_code,
                            d.name,
                            d.webhook_url.unwrap_or_default()
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Restrictions { command: RestrictionsCommand::Import { file } } => {
            let state = offline_state(settings).await?;
            let text = std::fs::read_to_string(&file)?;
            let rs = services::admin::parse_restrictions_csv(&text).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, crate::i18n::field_message(e, crate::i18n::Lang::En)))
                    .collect();
                anyhow::anyhow!("nothing imported:\n{}", lines.join("\n"))
            })?;
            let ids = services::admin::add_restrictions(&state, &operator(), rs).await.map_err(describe)?;
            println!("imported {} restrictions", ids.len());
            Ok(())
        }
        Command::Seed { enterprises, seed } => {
            let state = offline_state(settings).await?;
            let bar = indicatif::ProgressBar::new(enterprises);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} enterprises ({per_sec}, eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            let start = std::time::Instant::now();
            services::seed::seed(&state, enterprises, seed, |done| bar.set_position(done)).await.map_err(describe)?;
            bar.finish();
            println!("seeded {enterprises} enterprises in {:.1}s", start.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Audit { command } => {
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            match command {
                AuditCommand::Verify => {
                    let report = services::audit::verify_chain(db.conn()).await?;
                    let code = match &report.result {
                        Ok(_) if report.unqueued > 0 => {
                            println!(
                                "audit trail incomplete: {} events are neither sealed nor queued for sealing \
                                 (written around the service, or taken off the queue); `audit seal` queues and seals them",
                                report.unqueued
                            );
                            1
                        }
                        Ok(v) => {
                            println!(
                                "audit chain intact: {} links, head {}; {} events not yet sealed",
                                v.links,
                                hex::encode(v.head),
                                report.unsealed
                            );
                            0
                        }
                        Err(b) => {
                            println!("audit chain broken: {b}");
                            1
                        }
                    };
                    db.close().await;
                    std::process::exit(code);
                }
                AuditCommand::Seal => {
                    let queued = store::audit::queue_unqueued(db.conn()).await?;
                    if queued > 0 {
                        println!("queued {queued} events that were neither sealed nor queued");
                    }
                    let n = services::audit::seal_pending(&db, chrono::Utc::now()).await?;
                    println!("sealed {n} events");
                }
                AuditCommand::Head => {
                    let (seq, hash) = store::audit::chain_head(db.conn(), false).await?;
                    println!("{seq} {hash}");
                }
            }
            db.close().await;
            Ok(())
        }
        Command::VerifyOffline { credential, keys, shop_url } => {
            let jwks: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(&keys).with_context(|| format!("reading {}", keys.display()))?,
            )
            .with_context(|| format!("parsing {}", keys.display()))?;
            let report = services::signing::verify_offline(&credential, &jwks, shop_url.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&report.json)?);
            std::process::exit(report.exit_code);
        }
        Command::DevAssertion { name, id_number, phone, ttl } => {
            use secrecy::ExposeSecret;
            let now = chrono::Utc::now().timestamp();
            let claims = serde_json::json!({
                "iss": "dev", "sub": format!("dev-{id_number}"), "name": name, "id_number": id_number,
                "phone": phone, "iat": now, "exp": now + ttl, "jti": uuid::Uuid::new_v4().to_string(),
            });
            let key = jsonwebtoken::EncodingKey::from_secret(settings.dev_channel_secret.expose_secret().as_bytes());
            println!("{}", jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)?);
            Ok(())
        }
        Command::Channels { command } => {
            let state = offline_state(settings).await?;
            match command {
                ChannelsCommand::Add { id, name, hs256_secret, ed25519_public_key } => {
                    let key = match (hs256_secret, ed25519_public_key) {
                        (Some(s), _) => ChannelKey::Hs256(s),
                        (None, Some(k)) => {
                            ChannelKey::parse_ed25519(&k).map_err(|e| anyhow::anyhow!("ed25519 key: {e}"))?
                        }
                        (None, None) => anyhow::bail!("give --hs256-secret or --ed25519-public-key"),
                    };
                    services::auth::register_channel(&state, &operator(), &id, &name, &key).await.map_err(describe)?;
                    println!("channel {id} registered");
                }
                ChannelsCommand::List => {
                    for c in crate::store::channels::list(state.db.conn()).await? {
                        println!("{}\t{}\t{}", c.id, c.algorithm, c.name);
                    }
                }
            }
            Ok(())
        }
    }
}

/// Service errors as a readable line for the terminal.
fn describe(e: crate::error::Error) -> anyhow::Error {
    let fields: Vec<String> = e
        .errors
        .iter()
        .map(|f| format!("{}: {}", f.field, crate::i18n::field_message(f, crate::i18n::Lang::En)))
        .collect();
    let detail = e.detail.map(|(_, en)| en).unwrap_or_default();
    anyhow::anyhow!("{} {} {}", e.code.title(crate::i18n::Lang::En), detail, fields.join("; "))
        .context("command failed")
}
