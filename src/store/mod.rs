//! Persistence: the database handle and sea-orm queries, nothing else.
//! Functions take `&impl ConnectionTrait` so the caller decides the
//! transaction; entity `Model`s do not leave this module tree except as
//! plain values the services map.
//!
//! SQLite has one writer at a time. Rather than let concurrent write
//! transactions collide and back off inside SQLite's busy handler, [`Db::write`]
//! queues them on an in-process lock and opens them `BEGIN IMMEDIATE` (which
//! also orders them against other processes, such as the CLI). PostgreSQL
//! needs neither: its row locks do the ordering.
use std::{sync::Arc, time::Duration};

use anyhow::Context;
use entities::Migrator;
use entities::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::Settings;

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod batch;
pub mod bulk;
pub mod channels;
pub mod display_urls;
pub mod enterprises;
pub mod events;
pub mod idempotency;
pub mod materials;
pub mod names;
pub mod notices;
pub mod notifications;
pub mod outbox;
pub mod places;
pub mod restrictions;
pub mod sequences;
pub mod sessions;
pub mod signing_keys;

#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite: the connection write transactions use (see `connect_url`).
    writer: Option<DatabaseConnection>,
    on_commit: Arc<CommitHooks>,
    /// Registration-code blocks (PostgreSQL only; SQLite's single writer
    /// allocates inside the transaction without making anyone wait longer).
    codes: Option<Arc<sequences::Blocks>>,
}

/// Called with the enterprises a transaction touched, right after it commits:
/// this instance's caches drop them before the next request can read them.
type CommitHook = Arc<dyn Fn(&[String]) + Send + Sync>;

/// What runs after a commit, on this instance.
#[derive(Default)]
struct CommitHooks {
    touched: std::sync::RwLock<Vec<CommitHook>>,
    /// Wakes the local delivery worker after a commit that queued outbox
    /// messages (other instances find them on their next poll).
    outbox: tokio::sync::Notify,
}

impl CommitHooks {
    fn run(&self, touched: &[String], queued: bool) {
        if queued {
            self.outbox.notify_one();
        }
        if touched.is_empty() {
            return;
        }
        for hook in self.touched.read().expect("commit hooks").iter() {
            hook(touched);
        }
    }
}

/// A write transaction; rolls back when dropped without [`WriteTx::commit`].
/// Audit events recorded on it are written together, in one statement, just
/// before the commit: one round trip however many the use case records.
/// Writes the use case does not read back can be deferred to that statement
/// too ([`WriteTx::defer`]).
///
/// Every statement goes through its [`ConnectionTrait`] (it deliberately
/// does not hand out the inner transaction), so nothing can bypass the
/// flush of deferred writes and read around them.
pub struct WriteTx {
    tx: DatabaseTransaction,
    audit: std::sync::Mutex<Vec<entities::audit_event::ActiveModel>>,
    deferred: std::sync::Mutex<Vec<sea_orm::Statement>>,
    /// Rows this transaction read with their lock held: (table, id).
    row_locks: std::sync::Mutex<Vec<(&'static str, uuid::Uuid)>>,
    touched: std::sync::Mutex<Vec<String>>,
    queued: std::sync::atomic::AtomicBool,
    on_commit: Arc<CommitHooks>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    fn new(tx: DatabaseTransaction, turn: Option<OwnedMutexGuard<()>>, on_commit: Arc<CommitHooks>) -> Self {
        WriteTx {
            tx,
            audit: Default::default(),
            deferred: Default::default(),
            row_locks: Default::default(),
            touched: Default::default(),
            queued: Default::default(),
            on_commit,
            _turn: turn,
        }
    }

    /// Notes that this transaction queued outbox messages, so the delivery
    /// worker is woken once they commit rather than at its next poll.
    pub fn queued_outbox(&self) {
        self.queued.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Notes that this transaction changed what the public sees of an
    /// enterprise (by USCC), so caches drop it once the change commits.
    pub fn touch(&self, uscc: &str) {
        self.touched.lock().expect("touched").push(uscc.to_string());
    }

    /// Queues an audit event; it commits with the transaction or not at all.
    pub fn audit(&self, event: entities::audit_event::ActiveModel) {
        self.audit.lock().expect("audit buffer").push(event);
    }

    /// Queues a write whose outcome the use case does not look at (no rows
    /// returned, no count, no error it would answer differently). On
    /// PostgreSQL it is sent with the next statement this transaction runs,
    /// or at the commit as one more part of the audit events' statement:
    /// the writes of an automatically approved submission (enterprise,
    /// licence, premises, application, idempotency record) cost one round
    /// trip instead of one each. SQLite, where a round trip is a function
    /// call, runs it at once.
    ///
    /// Deferred writes are sent as parts of one statement, which share one
    /// snapshot, so a part must not read what another writes: a write to a
    /// table that an earlier deferred part writes, or whose table cannot be
    /// told, first sends those before it. So a deferred statement must read
    /// no table but the one it writes (no subqueries on others).
    pub async fn defer(&self, stmt: sea_orm::Statement) -> Result<(), DbErr> {
        if self.tx.get_database_backend() != DbBackend::Postgres {
            return self.tx.execute_raw(stmt).await.map(|_| ());
        }
        let clash = {
            let queued = self.deferred.lock().expect("deferred writes");
            let table = batch::written_table(&stmt.sql);
            table.is_none()
                || queued.iter().any(|q| {
                    let t = batch::written_table(&q.sql);
                    t.is_none() || t == table
                })
        };
        if clash {
            self.flush().await?;
        }
        self.deferred.lock().expect("deferred writes").push(stmt);
        Ok(())
    }

    /// Records that this transaction holds the lock on a row (read with a
    /// locking clause on PostgreSQL; SQLite's write transactions hold the
    /// whole database), for writes that depend on it.
    pub fn note_row_lock(&self, table: &'static str, id: uuid::Uuid) {
        self.row_locks.lock().expect("row locks").push((table, id));
    }

    pub fn holds_row_lock(&self, table: &str, id: uuid::Uuid) -> bool {
        self.row_locks.lock().expect("row locks").iter().any(|(t, i)| *t == table && *i == id)
    }

    /// Sends the deferred writes, as one statement, before anything else
    /// runs in this transaction.
    async fn flush(&self) -> Result<(), DbErr> {
        let parts = std::mem::take(&mut *self.deferred.lock().expect("deferred writes"));
        match batch::one_statement(parts, vec![]) {
            Some(stmt) => self.tx.execute_raw(stmt).await.map(|_| ()),
            None => Ok(()),
        }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        let events = std::mem::take(&mut *self.audit.lock().expect("audit buffer"));
        let deferred = std::mem::take(&mut *self.deferred.lock().expect("deferred writes"));
        if deferred.is_empty() {
            audit::insert_many(&self.tx, events).await?;
        } else if let Some(stmt) = batch::one_statement(deferred, events) {
            self.tx.execute_raw(stmt).await?;
        }
        let touched = std::mem::take(&mut *self.touched.lock().expect("touched"));
        self.tx.commit().await?;
        self.on_commit.run(&touched, self.queued.load(std::sync::atomic::Ordering::Relaxed));
        Ok(())
    }
}

/// Queries run inside the transaction, so a `&WriteTx` goes wherever a
/// connection does.
#[async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    async fn execute_raw(&self, stmt: sea_orm::Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.flush().await?;
        self.tx.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.flush().await?;
        self.tx.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: sea_orm::Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.flush().await?;
        self.tx.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: sea_orm::Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.flush().await?;
        self.tx.query_all_raw(stmt).await
    }
}

impl Db {
    /// Connects as configured: PostgreSQL when `DATABASE_URL` is set,
    /// otherwise `<data_dir>/greenchannel.db`, created if missing.
    pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
        let url = match &settings.database_url {
            Some(u) => u.expose_secret().to_string(),
            None => {
                std::fs::create_dir_all(&settings.data_dir)
                    .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
                let path = settings.data_dir.join("greenchannel.db");
                format!("sqlite://{}?mode=rwc", path.display())
            }
        };
        Self::connect_url(&url, settings.db_max_connections, &settings.sqlite_synchronous).await
    }

    pub async fn connect_url(url: &str, max_connections: u32, sqlite_synchronous: &str) -> anyhow::Result<Db> {
        // A pooled connection is checked with a ping only after resting this
        // long. Pinging on every checkout (the pool's default) cost a round
        // trip per transaction: about a tenth of an establishment flow's
        // work on PostgreSQL. A connection that died while busy fails its
        // next statement instead, which is answered 503 (retry).
        const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);
        let sqlite = url.starts_with("sqlite:");
        let options = |max: u32, cache_kib: u32| {
            let mut opts = ConnectOptions::new(url.to_string());
            opts.max_connections(max)
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
                .sqlx_logging(false);
            if sqlite {
                let sync = if sqlite_synchronous == "full" { sqlx_sqlite_sync::Full } else { sqlx_sqlite_sync::Normal };
                opts.map_sqlx_sqlite_opts(move |o| {
                    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sync)
                        .busy_timeout(Duration::from_secs(5))
                        .pragma("cache_size", format!("-{cache_kib}"))
                        .foreign_keys(true)
                        .create_if_missing(true)
                });
            }
            opts
        };
        // Readers: 1 MiB of page cache per connection rather than 2: the OS
        // caches the file anyway, and a pool of connections each holding its
        // own copy of hot index pages was a quarter of the server's resident
        // memory.
        let conn = Database::connect(options(max_connections, 1024)).await.context("connecting to the database")?;
        // SQLite's one writer gets one connection of its own. A connection's
        // page cache is discarded whenever another connection has written;
        // with writes spread over the pool, every write transaction began
        // cold and read its pages back from the file one system call at a
        // time, all while holding the write lock. Now the writer's cache
        // stays warm, and its 8 MiB hold the indexes writes go through.
        let writer = if sqlite {
            Some(Database::connect(options(1, 8 * 1024)).await.context("connecting to the database")?)
        } else {
            None
        };
        let codes = if sqlite {
            None
        } else {
            let mut side = ConnectOptions::new(url.to_string());
            side.max_connections(2)
                .min_connections(0)
                .connect_lazy(true)
                .acquire_timeout(Duration::from_secs(10))
                .sqlx_logging(false);
            let side = Database::connect(side).await.context("connecting to the database")?;
            Some(Arc::new(sequences::Blocks::new(side)))
        };
        Ok(Db {
            conn,
            write_lock: sqlite.then(|| Arc::new(Mutex::new(()))),
            writer,
            on_commit: Default::default(),
            codes,
        })
    }

    /// The next value of a registration-code counter, for a code issued in
    /// `tx`: from a block on PostgreSQL, inside `tx` on SQLite.
    pub async fn next_code(&self, tx: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
        match &self.codes {
            Some(blocks) => blocks.next(name).await,
            None => sequences::next(tx, name).await,
        }
    }

    /// Applies pending migrations. On PostgreSQL, under an advisory lock
    /// inside one transaction, so instances starting together migrate once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        if self.backend() == DbBackend::Postgres {
            let tx = self.conn.begin().await?;
            tx.execute_unprepared("SELECT pg_advisory_xact_lock(7265627)").await?;
            Migrator::up(&tx, None).await.context("migrating")?;
            tx.commit().await?;
        } else {
            let _turn = self.write_lock.as_ref().map(|l| l.clone().lock_owned());
            let _turn = match _turn {
                Some(f) => Some(f.await),
                None => None,
            };
            Migrator::up(&self.conn, None).await.context("migrating")?;
        }
        Ok(())
    }

    /// Registers a hook run after each commit that touched enterprises.
    pub fn on_commit(&self, hook: impl Fn(&[String]) + Send + Sync + 'static) {
        self.on_commit.touched.write().expect("commit hooks").push(Arc::new(hook));
    }

    /// Resolves after a commit on this instance queued outbox messages.
    pub async fn outbox_queued(&self) {
        self.on_commit.outbox.notified().await
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// For reads outside a transaction.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Begins a write transaction, waiting for the writer's turn on SQLite.
    pub async fn write(&self) -> Result<WriteTx, DbErr> {
        match &self.write_lock {
            Some(lock) => {
                let turn = lock.clone().lock_owned().await;
                let tx = self
                    .writer
                    .as_ref()
                    .unwrap_or(&self.conn)
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?;
                Ok(WriteTx::new(tx, Some(turn), self.on_commit.clone()))
            }
            None => Ok(WriteTx::new(self.conn.begin().await?, None, self.on_commit.clone())),
        }
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(self) {
        if let Some(w) = self.writer {
            let _ = w.close().await;
        }
        let _ = self.conn.close().await;
    }
}

mod sqlx_sqlite_sync {
    pub use sea_orm::sqlx::sqlite::SqliteSynchronous::{Full, Normal};
}

/// True when the error is a unique-constraint violation (a lost race).
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
