//! Building and running the server: a value (`Application`) that owns its
//! bound listener, so tests bind `127.0.0.1:0` and read the port back.
use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};

use crate::{
    api,
    config::Settings,
    domain::divisions,
    services,
    state::{AppState, Clock},
    store::Db,
};

pub struct Application {
    acceptor: TcpAcceptor,
    state: AppState,
    addr: SocketAddr,
}

impl Application {
    /// Connects, migrates, binds. Nothing is served until [`run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        divisions::warm();
        api::metrics::install();
        // TLS for outgoing webhooks: rustls on ring, like the database driver.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = Db::connect(&settings).await?;
        db.migrate().await?;
        let acceptor = TcpListener::bind(settings.bind.to_string())
            .into_acceptor()
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        let addr =
            acceptor.local_addr().into_iter().find_map(|a| a.as_socket_addr().copied()).context("bound address")?;
        let state = AppState::new(db, settings, clock, addr).await?;
        Ok(Self { acceptor, state, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish
    /// (up to the configured grace period).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.settings.shutdown_grace_seconds);
        tracing::info!(addr = %self.addr, public_base_url = %self.state.public_base_url, dev = self.state.settings.dev, "greenchannel serving");
        let db = self.state.db.clone();
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        let worker = self
            .state
            .settings
            .delivery_worker
            .then(|| tokio::spawn(services::delivery::worker(self.state.clone(), stopped.clone())));
        let sync = tokio::spawn(services::standing::sync(self.state.clone(), stopped.clone()));
        let sealer = tokio::spawn(services::audit::sealer(self.state.clone(), stopped));
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(api::app(self.state), stop, Some(grace))
            .await?;
        let _ = stop_worker.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        let _ = sync.await;
        let _ = sealer.await;
        db.close().await;
        tracing::info!("greenchannel stopped");
        Ok(())
    }
}

/// SIGTERM or SIGINT. The handlers are installed here, before the server
/// starts accepting, not when the returned future is first polled: a
/// signal that arrives while the first connections are being served would
/// otherwise kill the process instead of draining it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = handlers;
            let wait = |s: &mut Option<tokio::signal::unix::Signal>| {
                let s = s.take();
                async move {
                    match s {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! { _ = wait(&mut term) => {}, _ = wait(&mut int) => {} }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}
