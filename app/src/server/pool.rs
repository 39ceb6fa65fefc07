//! The service's database sessions: a deadpool pool whose every connection
//! starts with `statement_timeout` set (and `default_transaction_read_only` in
//! read-only mode), and a checked-out connection that, when its request is
//! abandoned mid-statement (a request timeout), cancels the statement and
//! leaves the pool instead of going back to it still busy.

use std::ops::Deref;
use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::{Client, NoTls};

/// `application_name` of the service's sessions, unless the DSN names one.
pub const APPLICATION_NAME: &str = "pgvision serve";

/// How the pool's sessions are set up.
pub struct Settings {
    /// Most connections.
    pub size: usize,
    /// `statement_timeout` of every session; zero: none.
    pub statement_timeout: Duration,
    /// Sessions start with `default_transaction_read_only = on`.
    pub read_only: bool,
}

/// The startup `options` for `settings`, after the DSN's own (later `-c` wins).
fn session_options(dsn_options: Option<&str>, settings: &Settings) -> String {
    let mut options = dsn_options.unwrap_or("").trim().to_string();
    let ms = settings.statement_timeout.as_millis();
    options.push_str(&format!(" -c statement_timeout={ms}"));
    if settings.read_only {
        options.push_str(" -c default_transaction_read_only=on");
    }
    options.trim_start().to_string()
}

/// Builds the pool for `pg`; connections are made on first use.
pub fn build(mut pg: tokio_postgres::Config, settings: &Settings) -> anyhow::Result<Pool> {
    let options = session_options(pg.get_options(), settings);
    pg.options(options);
    if pg.get_application_name().is_none() {
        pg.application_name(APPLICATION_NAME);
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(settings.size.max(1))
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .runtime(Runtime::Tokio1)
        .build()
        .context("building the connection pool")
}

/// A connection checked out for one request: `release` gives it back; dropped
/// without `release` (the request's future was abandoned, maybe mid-statement),
/// it cancels whatever its session runs and is closed, never reused.
pub struct Conn {
    obj: Option<Object>,
}

impl Conn {
    /// Checks a connection out of `pool`.
    pub async fn get(pool: &Pool) -> Result<Conn, PoolError> {
        Ok(Conn {
            obj: Some(pool.get().await?),
        })
    }

    /// Gives the connection back to the pool: no statement of it is running.
    pub fn release(mut self) {
        drop(self.obj.take());
    }
}

impl Deref for Conn {
    type Target = Client;

    /// The client (present until `release` consumes the guard).
    fn deref(&self) -> &Client {
        let obj = self
            .obj
            .as_ref()
            .expect("a Conn holds its connection until released");
        obj
    }
}

impl Drop for Conn {
    /// Abandoned: cancels the session's statement, then closes the connection.
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        let client = Object::take(obj);
        let token = client.cancel_token();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = token.cancel_query(NoTls).await {
                    eprintln!("pgvision serve: cancelling an abandoned statement: {e}");
                }
                drop(client);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings with a 30 s statement timeout.
    fn settings(read_only: bool) -> Settings {
        Settings {
            size: 4,
            statement_timeout: Duration::from_secs(30),
            read_only,
        }
    }

    #[test]
    fn options_follow_the_dsn() {
        assert_eq!(
            session_options(None, &settings(false)),
            "-c statement_timeout=30000"
        );
        assert_eq!(
            session_options(Some("-c work_mem=64MB "), &settings(true)),
            "-c work_mem=64MB -c statement_timeout=30000 -c default_transaction_read_only=on"
        );
        let none = Settings {
            statement_timeout: Duration::ZERO,
            ..settings(false)
        };
        assert_eq!(session_options(None, &none), "-c statement_timeout=0");
    }
}
