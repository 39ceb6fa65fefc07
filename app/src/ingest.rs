//! `pgvision ingest DIR`: walk a folder, read and hash every image, skip the
//! hashes already stored, embed the rest with the batch form of image_embed
//! on a few connections at once, and report bad files without stopping.
//!
//! One reader thread reads files in order and hands batches to `jobs`
//! workers through a bounded channel, so reading overlaps embedding and
//! memory stays bounded (about `jobs + 1` batches in flight). A batch that
//! fails because of one image (SQLSTATE 22P03, 0A000 or 54000, the DETAIL
//! naming the array element) is retried without that image: each retry
//! removes one image, so a batch of n is tried at most n + 1 times.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use tokio::sync::mpsc;
use tokio_postgres::Client;

use crate::batch::Batcher;
use crate::db;
use crate::hashing::sha256_hex;
use crate::ident::Table;
use crate::sqlstate::{failed_element, ImageProblem};
use crate::walk::{walk, Candidate};

/// What `ingest` was asked to do.
pub struct Options {
    /// The folder to load.
    pub dir: PathBuf,
    /// Connection string.
    pub dsn: String,
    /// Target table (created when missing).
    pub table: Table,
    /// Model name; None: the table's, or the default for a new table.
    pub model: Option<String>,
    /// Images per image_embed call.
    pub batch: usize,
    /// Bytes per image_embed call (a larger single file travels alone).
    pub batch_bytes: usize,
    /// Concurrent connections embedding batches.
    pub jobs: usize,
    /// Files larger than this are reported as bad without being sent.
    pub max_file_bytes: u64,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Image files found.
    pub found: usize,
    /// Other files, not loaded.
    pub ignored: usize,
    /// Rows inserted.
    pub loaded: u64,
    /// Files whose content was already in the table.
    pub already: u64,
    /// Files with the same content as an earlier file of this run.
    pub duplicates: u64,
    /// Files refused, with the reason, sorted by name.
    pub bad: Vec<(String, String)>,
    /// Time spent reading and embedding.
    pub load_time: Duration,
    /// Time spent building the index, when it was built now.
    pub index_time: Option<Duration>,
    /// Rows in the table at the end.
    pub rows: i64,
    /// The model used.
    pub model: String,
}

impl Summary {
    /// Inserted images per second of load time.
    pub fn rate(&self) -> f64 {
        let s = self.load_time.as_secs_f64();
        if s > 0.0 {
            self.loaded as f64 / s
        } else {
            0.0
        }
    }

    /// The report printed at the end of a run.
    pub fn report(&self, table: &Table) -> String {
        let mut out = format!(
            "loaded {} new images in {:.1} s ({:.1} images/s); {} already in {table}, {} duplicate files, {} bad, {} non-image files ignored\n",
            self.loaded,
            self.load_time.as_secs_f64(),
            self.rate(),
            self.already,
            self.duplicates,
            self.bad.len(),
            self.ignored,
        );
        if !self.bad.is_empty() {
            out.push_str("bad files (skipped):\n");
            for (name, why) in &self.bad {
                out.push_str(&format!("  {name}: {why}\n"));
            }
        }
        match self.index_time {
            Some(t) => out.push_str(&format!(
                "built the hnsw index in {:.1} s\n",
                t.as_secs_f64()
            )),
            None => out.push_str("hnsw index already present (kept up to date by the inserts)\n"),
        }
        out.push_str(&format!(
            "{table} holds {} images ({} embeddings)\n",
            self.rows, self.model
        ));
        out
    }
}

/// A file read and hashed, ready to send.
struct Item {
    name: String,
    sha256: String,
    data: Vec<u8>,
}

/// Counters and the progress bar, shared by the reader and the workers.
struct Shared {
    bar: ProgressBar,
    loaded: AtomicU64,
    already: AtomicU64,
    duplicates: AtomicU64,
    bad: Mutex<Vec<(String, String)>>,
}

impl Shared {
    /// Records a bad file, printing it above the progress bar.
    fn bad(&self, name: &str, why: String) {
        self.bar.suspend(|| eprintln!("skipping {name}: {why}"));
        self.bad
            .lock()
            .expect("bad list")
            .push((name.to_string(), why));
        self.bar.inc(1);
    }
}

/// The progress bar: position, images/s and ETA on stderr (hidden when stderr is not a terminal).
fn progress_bar(total: u64) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {rate} ETA {eta}",
    )
    .expect("progress template")
    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.1} images/s", s.per_sec());
    });
    let bar = ProgressBar::new(total).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Runs an ingest and returns its summary; errors only for problems that are not one file's fault.
pub async fn run(opts: &Options) -> anyhow::Result<Summary> {
    let client = db::connect(&opts.dsn).await?;
    let (model, dims) = db::prepare_table(&client, &opts.table, opts.model.as_deref()).await?;
    if !opts.dir.is_dir() {
        return Err(anyhow!("{} is not a folder", opts.dir.display()));
    }
    let walked = walk(&opts.dir);
    println!(
        "ingest: {} images in {} -> table {} ({model}, {dims} dims)",
        walked.images.len(),
        opts.dir.display(),
        opts.table
    );
    let started = Instant::now();
    let shared = Arc::new(Shared {
        bar: progress_bar(walked.images.len() as u64),
        loaded: AtomicU64::new(0),
        already: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        bad: Mutex::new(walked.errors.clone()),
    });

    let jobs = opts.jobs.max(1);
    let (tx, rx) = mpsc::channel::<Vec<Item>>(jobs);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..jobs {
        let conn = db::connect(&opts.dsn).await?;
        let (rx, shared, table, model) = (
            rx.clone(),
            shared.clone(),
            opts.table.clone(),
            model.clone(),
        );
        workers.push(tokio::spawn(async move {
            worker(conn, table, model, rx, shared).await
        }));
    }
    let reader = {
        let (shared, images) = (shared.clone(), walked.images.clone());
        let (batch, batch_bytes, max_file) = (opts.batch, opts.batch_bytes, opts.max_file_bytes);
        tokio::task::spawn_blocking(move || {
            read_all(images, batch, batch_bytes, max_file, &tx, &shared)
        })
    };
    let mut failure = None;
    for w in workers {
        if let Err(e) = w.await.context("ingest worker")? {
            failure.get_or_insert(e);
        }
    }
    reader.await.context("ingest reader")?;
    shared.bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    let load_time = started.elapsed();

    let t = Instant::now();
    let built = db::ensure_index(&client, &opts.table).await?;
    let index_time = built.then(|| t.elapsed());
    let mut bad = std::mem::take(&mut *shared.bad.lock().expect("bad list"));
    bad.sort();
    Ok(Summary {
        found: walked.images.len(),
        ignored: walked.ignored,
        loaded: shared.loaded.load(Ordering::Relaxed),
        already: shared.already.load(Ordering::Relaxed),
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        bad,
        load_time,
        index_time,
        rows: db::count(&client, &opts.table).await?,
        model,
    })
}

/// Reads, hashes and batches the files (on a blocking thread); stops early when the workers are gone.
fn read_all(
    images: Vec<Candidate>,
    batch: usize,
    batch_bytes: usize,
    max_file: u64,
    tx: &mpsc::Sender<Vec<Item>>,
    shared: &Shared,
) {
    let mut seen = HashSet::new();
    let mut batcher = Batcher::new(batch, batch_bytes);
    for c in images {
        if c.size > max_file {
            shared.bad(
                &c.name,
                format!("{} bytes, over --max-file-size {max_file}", c.size),
            );
            continue;
        }
        let data = match std::fs::read(&c.path) {
            Ok(d) => d,
            Err(e) => {
                shared.bad(&c.name, format!("cannot read: {e}"));
                continue;
            }
        };
        let sha256 = sha256_hex(&data);
        if !seen.insert(sha256.clone()) {
            shared.duplicates.fetch_add(1, Ordering::Relaxed);
            shared.bar.inc(1);
            continue;
        }
        let size = data.len();
        let item = Item {
            name: c.name,
            sha256,
            data,
        };
        if let Some(full) = batcher.push(item, size) {
            if tx.blocking_send(full).is_err() {
                return;
            }
        }
    }
    if let Some(last) = batcher.finish() {
        let _ = tx.blocking_send(last);
    }
}

/// Takes batches from the channel until it closes, loading each.
async fn worker(
    client: Client,
    table: Table,
    model: String,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Vec<Item>>>>,
    shared: Arc<Shared>,
) -> anyhow::Result<()> {
    loop {
        let next = rx.lock().await.recv().await;
        let Some(batch) = next else { return Ok(()) };
        if let Err(e) = load_batch(&client, &table, &model, batch, &shared).await {
            // Stop the reader too: close the channel for everyone.
            rx.lock().await.close();
            return Err(e);
        }
    }
}

/// Loads one batch: skips stored hashes, retries without each image the server refuses.
async fn load_batch(
    client: &Client,
    table: &Table,
    model: &str,
    batch: Vec<Item>,
    shared: &Shared,
) -> anyhow::Result<()> {
    let hashes: Vec<String> = batch.iter().map(|i| i.sha256.clone()).collect();
    let have = db::existing_hashes(client, table, &hashes)
        .await
        .map_err(|e| anyhow!("looking up hashes: {}", db::describe(&e)))?;
    let (skip, mut todo): (Vec<Item>, Vec<Item>) =
        batch.into_iter().partition(|i| have.contains(&i.sha256));
    shared
        .already
        .fetch_add(skip.len() as u64, Ordering::Relaxed);
    shared.bar.inc(skip.len() as u64);
    let max_tries = todo.len() + 1;
    for _ in 0..max_tries {
        if todo.is_empty() {
            return Ok(());
        }
        match insert(client, table, model, &todo).await {
            Ok(n) => {
                shared.loaded.fetch_add(n, Ordering::Relaxed);
                shared
                    .already
                    .fetch_add(todo.len() as u64 - n, Ordering::Relaxed);
                shared.bar.inc(todo.len() as u64);
                return Ok(());
            }
            Err(e) => {
                let db = e
                    .as_db_error()
                    .ok_or_else(|| anyhow!("embedding a batch: {e}"))?;
                if ImageProblem::from_sqlstate(db.code().code()).is_none() {
                    return Err(anyhow!("embedding a batch: {}", db::describe(&e)));
                }
                match failed_element(db.detail(), todo.len()) {
                    Some(i) => {
                        let item = todo.remove(i);
                        shared.bad(&item.name, db.message().to_string());
                    }
                    None => return load_one_by_one(client, table, model, todo, shared).await,
                }
            }
        }
    }
    unreachable!("each failed try removes one image")
}

/// Loads images one statement each (when a batch error names no element).
async fn load_one_by_one(
    client: &Client,
    table: &Table,
    model: &str,
    items: Vec<Item>,
    shared: &Shared,
) -> anyhow::Result<()> {
    for item in items {
        match insert(client, table, model, std::slice::from_ref(&item)).await {
            Ok(n) => {
                shared.loaded.fetch_add(n, Ordering::Relaxed);
                shared.already.fetch_add(1 - n, Ordering::Relaxed);
                shared.bar.inc(1);
            }
            Err(e) => match e.as_db_error() {
                Some(db) if ImageProblem::from_sqlstate(db.code().code()).is_some() => {
                    shared.bad(&item.name, db.message().to_string())
                }
                _ => return Err(anyhow!("embedding {}: {}", item.name, db::describe(&e))),
            },
        }
    }
    Ok(())
}

/// Sends `items` as one insert with the batch form of image_embed.
async fn insert(
    client: &Client,
    table: &Table,
    model: &str,
    items: &[Item],
) -> Result<u64, tokio_postgres::Error> {
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    let hashes: Vec<String> = items.iter().map(|i| i.sha256.clone()).collect();
    let data: Vec<&[u8]> = items.iter().map(|i| i.data.as_slice()).collect();
    db::insert_batch(client, table, model, &names, &hashes, &data).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_bad_files() {
        let s = Summary {
            found: 5,
            ignored: 1,
            loaded: 3,
            already: 0,
            duplicates: 0,
            bad: vec![("x.jpg".into(), "invalid image data".into())],
            load_time: Duration::from_secs(2),
            index_time: Some(Duration::from_millis(300)),
            rows: 3,
            model: "m".into(),
        };
        let r = s.report(&Table::parse("images").unwrap());
        assert!(
            r.starts_with("loaded 3 new images in 2.0 s (1.5 images/s)"),
            "{r}"
        );
        assert!(r.contains("  x.jpg: invalid image data\n"));
        assert!(r.contains("built the hnsw index in 0.3 s"));
        assert!(r.contains("images holds 3 images (m embeddings)"));
        assert_eq!(Summary::default().rate(), 0.0);
    }
}
