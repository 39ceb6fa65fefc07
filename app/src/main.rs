//! The `pgvision` command: `ingest`, `search` and `serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pgvision_app::ident::Table;
use pgvision_app::{ingest, search, server};

/// Image similarity search with PostgreSQL and pgvision.
#[derive(Parser)]
#[command(name = "pgvision", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand shares.
#[derive(clap::Args)]
struct Db {
    /// PostgreSQL connection string ("host=/path/to/socket port=5432 user=postgres dbname=db" or a postgres:// URL)
    #[arg(long, env = "PGVISION_DSN")]
    dsn: String,
    /// Table of images: created when missing (id, name, sha256, data, embedding) with an hnsw index
    #[arg(long, default_value = "images", value_parser = parse_table)]
    table: Table,
    /// Model (default: the one recorded on the table; efficientnet_lite0 for a new table)
    #[arg(long)]
    model: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Load every image under DIR (resumable: content already in the table is skipped)
    Ingest {
        /// Folder to walk (recursively; hidden files and symlinks are skipped)
        dir: PathBuf,
        #[command(flatten)]
        db: Db,
        /// Images per image_embed call
        #[arg(long, default_value_t = 16)]
        batch: usize,
        /// Concurrent database connections embedding batches
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Skip (and report) files larger than this many MiB
        #[arg(long, default_value_t = 64)]
        max_file_mb: u64,
    },
    /// Print the K nearest stored images to IMAGE, with their L2 distances
    Search {
        /// Query image file
        image: PathBuf,
        #[command(flatten)]
        db: Db,
        /// How many results
        #[arg(short, long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        k: u32,
    },
    /// Run the HTTP search service and its gallery page
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on (loopback by default)
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Largest request body in MiB
        #[arg(long, default_value_t = 16)]
        max_upload_mb: usize,
        /// Database connections in the pool
        #[arg(long, default_value_t = 4)]
        pool_size: usize,
        /// Seconds a request may take, its upload included: then 408 (body still arriving) or 503
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
        request_timeout: u64,
        /// Uploads (POST /images, /search) handled at once; more get 503 and Retry-After before their body is read [default: twice --pool-size]
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_in_flight: Option<u64>,
        /// Connections open at once (each idle one closes at --request-timeout); one more is answered 503 and Retry-After, unread
        #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_connections: u64,
        /// statement_timeout of the service's database sessions, in seconds (0: none)
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=86400))]
        statement_timeout: u64,
        /// Token that POST /images requires as "Authorization: Bearer TOKEN" (prefer the environment variable: arguments are visible to other users); search and GET stay open
        #[arg(long, env = "PGVISION_TOKEN", hide_env_values = true, value_parser = parse_token)]
        token: Option<String>,
        /// Search only: POST /images answers 403, sessions are read-only, the table must exist
        #[arg(long)]
        read_only: bool,
    },
}

/// Parses --table.
fn parse_table(s: &str) -> Result<Table, String> {
    Table::parse(s)
}

/// Parses --token: printable ASCII without spaces, at least 16 characters.
fn parse_token(s: &str) -> Result<String, String> {
    if s.len() < 16 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the token must be at least 16 printable ASCII characters, no spaces".into());
    }
    Ok(s.to_string())
}

/// Runs the chosen subcommand.
async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest {
            dir,
            db,
            batch,
            jobs,
            max_file_mb,
        } => {
            let opts = ingest::Options {
                dir,
                dsn: db.dsn,
                table: db.table.clone(),
                model: db.model,
                batch,
                batch_bytes: 32 << 20,
                jobs,
                max_file_bytes: max_file_mb << 20,
            };
            let summary = ingest::run(&opts).await?;
            print!("{}", summary.report(&db.table));
            Ok(())
        }
        Command::Search { image, db, k } => {
            search::run(&db.dsn, &db.table, db.model.as_deref(), &image, k).await
        }
        Command::Serve {
            db,
            listen,
            max_upload_mb,
            pool_size,
            request_timeout,
            max_in_flight,
            max_connections,
            statement_timeout,
            token,
            read_only,
        } => {
            server::run(server::Options {
                dsn: db.dsn,
                table: db.table,
                model: db.model,
                listen,
                max_upload: max_upload_mb << 20,
                pool_size,
                request_timeout: Duration::from_secs(request_timeout),
                max_in_flight: max_in_flight.map_or(2 * pool_size.max(1), |n| n as usize),
                max_connections: max_connections as usize,
                statement_timeout: Duration::from_secs(statement_timeout),
                token,
                read_only,
            })
            .await
        }
    }
}

/// Entry point: errors are printed as one chain of messages, exit code 1.
#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pgvision: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
