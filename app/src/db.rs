//! Every SQL statement the tools send, and the table they share:
//! `(id bigserial, name text, sha256 text unique, data bytea, embedding vector(dims))`
//! with an hnsw index (L2). The model that filled the table is recorded in the
//! embedding column's comment, so `search` and `serve` embed queries with the
//! same model that `ingest` used.

use std::collections::HashSet;

use anyhow::{bail, Context};
use tokio_postgres::{Client, NoTls};

use crate::ident::Table;

/// The model used when neither the table nor the command line names one.
pub const DEFAULT_MODEL: &str = "efficientnet_lite0";
/// Prefix of the embedding column's comment that records the model.
const MODEL_COMMENT: &str = "pgvision model: ";

/// Opens one connection; its driver runs on a tokio task.
pub async fn connect(dsn: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(dsn, NoTls)
        .await
        .with_context(|| "cannot connect to PostgreSQL (check --dsn)".to_string())?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("pgvision: database connection lost: {e}");
        }
    });
    Ok(client)
}

/// A database error as one line for people: message and DETAIL, or the error itself.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

/// Creates the pgvision extension when the database lacks it.
pub async fn ensure_extension(client: &Client) -> anyhow::Result<()> {
    let have = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pgvision'", &[])
        .await?;
    if have.is_none() {
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pgvision")
            .await
            .map_err(|e| anyhow::anyhow!("CREATE EXTENSION pgvision failed: {}", describe(&e)))?;
    }
    Ok(())
}

/// The model recorded on the table and its embedding dims, or None when the table does not exist.
async fn table_info(
    client: &Client,
    table: &Table,
) -> anyhow::Result<Option<(Option<String>, i32)>> {
    let row = client
        .query_opt(
            "SELECT col_description(a.attrelid, a.attnum), a.atttypmod
             FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding'
               AND NOT a.attisdropped",
            &[&table.quoted()],
        )
        .await?;
    if let Some(row) = row {
        let comment: Option<String> = row.get(0);
        let model = comment.and_then(|c| c.strip_prefix(MODEL_COMMENT).map(str::to_string));
        return Ok(Some((model, row.get(1))));
    }
    let exists = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table.quoted()])
        .await?
        .get::<_, bool>(0);
    if exists {
        bail!("table {table} exists but has no embedding column");
    }
    Ok(None)
}

/// The output dimensions of `model` (loads it in the server; errors name the installed models).
pub async fn model_dims(client: &Client, model: &str) -> anyhow::Result<i32> {
    let row = client
        .query_one("SELECT dims FROM pgvision_runtime($1)", &[&model])
        .await
        .map_err(|e| anyhow::anyhow!("model {model:?}: {}", describe(&e)))?;
    Ok(row.get(0))
}

/// Picks the model: the table's, unless the command line asks for a different one (an error).
fn choose_model(
    recorded: Option<String>,
    requested: Option<&str>,
    table: &Table,
) -> anyhow::Result<String> {
    match (recorded, requested) {
        (Some(r), Some(q)) if r != q => {
            bail!("table {table} holds {r} embeddings; --model {q} would not be comparable")
        }
        (Some(r), _) => Ok(r),
        (None, Some(q)) => Ok(q.to_string()),
        (None, None) => Ok(DEFAULT_MODEL.to_string()),
    }
}

/// Creates the table when missing and returns (model, dims); checks an existing table's dims.
pub async fn prepare_table(
    client: &Client,
    table: &Table,
    requested: Option<&str>,
) -> anyhow::Result<(String, i32)> {
    ensure_extension(client).await?;
    let info = table_info(client, table).await?;
    let existed = info.is_some();
    let (recorded, have_dims) = match info {
        Some((m, d)) => (m, Some(d)),
        None => (None, None),
    };
    let model = choose_model(recorded, requested, table)?;
    let dims = model_dims(client, &model).await?;
    if let Some(d) = have_dims.filter(|&d| d != dims) {
        bail!("table {table} stores vector({d}) but model {model} gives {dims} dimensions");
    }
    if !existed {
        let t = table.quoted();
        let comment = format!("{MODEL_COMMENT}{model}").replace('\'', "''");
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (
                   id bigserial PRIMARY KEY,
                   name text NOT NULL,
                   sha256 text NOT NULL UNIQUE,
                   data bytea NOT NULL,
                   embedding vector({dims}) NOT NULL);
                 COMMENT ON COLUMN {t}.embedding IS '{comment}'"
            ))
            .await
            .map_err(|e| anyhow::anyhow!("creating table {table}: {}", describe(&e)))?;
    }
    Ok((model, dims))
}

/// The model of an existing table (for search and serve); an error when the table is missing.
pub async fn open_table(
    client: &Client,
    table: &Table,
    requested: Option<&str>,
) -> anyhow::Result<String> {
    match table_info(client, table).await? {
        Some((recorded, _)) => choose_model(recorded, requested, table),
        None => bail!(
            "table {table} does not exist (load images first: pgvision ingest DIR --table {table})"
        ),
    }
}

/// Builds the hnsw index when it is missing; true when it was built now.
pub async fn ensure_index(client: &Client, table: &Table) -> anyhow::Result<bool> {
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                            JOIN pg_am am ON am.oid = c.relam
                            WHERE i.indrelid = to_regclass($1) AND am.amname = 'hnsw')",
            &[&table.quoted()],
        )
        .await?
        .get(0);
    if exists {
        return Ok(false);
    }
    client
        .batch_execute(&format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_l2_ops)",
            table.index_quoted(),
            table.quoted()
        ))
        .await
        .map_err(|e| anyhow::anyhow!("building the hnsw index: {}", describe(&e)))?;
    Ok(true)
}

/// Which of `hashes` are already stored.
pub async fn existing_hashes(
    client: &Client,
    table: &Table,
    hashes: &[String],
) -> Result<HashSet<String>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT sha256 FROM {} WHERE sha256 = ANY($1)",
        table.quoted()
    );
    let rows = client.query(&sql, &[&hashes]).await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Embeds `data` with one call of the batch form and inserts the rows
/// (an already stored hash is skipped); returns how many rows were inserted.
pub async fn insert_batch(
    client: &Client,
    table: &Table,
    model: &str,
    names: &[String],
    hashes: &[String],
    data: &[&[u8]],
) -> Result<u64, tokio_postgres::Error> {
    let sql = format!(
        "WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) WITH ORDINALITY AS u(name, sha256, data, ord)),
         emb AS MATERIALIZED (SELECT image_embed($3::bytea[], $4::text) AS v)
         INSERT INTO {} (name, sha256, data, embedding)
         SELECT i.name, i.sha256, i.data, e.v[i.ord::int] FROM input i CROSS JOIN emb e
         ON CONFLICT (sha256) DO NOTHING",
        table.quoted()
    );
    client
        .execute(&sql, &[&names, &hashes, &data, &model])
        .await
}

/// The id and name stored for a content hash.
pub async fn find_by_hash(
    client: &Client,
    table: &Table,
    sha256: &str,
) -> Result<Option<(i64, String)>, tokio_postgres::Error> {
    let sql = format!("SELECT id, name FROM {} WHERE sha256 = $1", table.quoted());
    Ok(client
        .query_opt(&sql, &[&sha256])
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

/// Embeds and stores one image; None when the same bytes were stored concurrently.
pub async fn insert_one(
    client: &Client,
    table: &Table,
    model: &str,
    name: &str,
    sha256: &str,
    data: &[u8],
) -> Result<Option<i64>, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO {} (name, sha256, data, embedding) VALUES ($1, $2, $3, image_embed($3::bytea, $4::text))
         ON CONFLICT (sha256) DO NOTHING RETURNING id",
        table.quoted()
    );
    Ok(client
        .query_opt(&sql, &[&name, &sha256, &data, &model])
        .await?
        .map(|r| r.get(0)))
}

/// The `k` nearest stored images to `image` as (id, name, L2 distance), nearest first.
pub async fn search(
    client: &Client,
    table: &Table,
    model: &str,
    image: &[u8],
    k: u32,
) -> Result<Vec<(i64, String, f64)>, tokio_postgres::Error> {
    // The index returns at most ef_search rows: never fewer than k.
    let ef = k.max(40).to_string();
    client
        .execute("SELECT set_config('hnsw.ef_search', $1, false)", &[&ef])
        .await?;
    // The query is embedded once (a materialized CTE read by InitPlans), and
    // the ORDER BY compares the column with a parameter, so the index is used.
    let sql = format!(
        "WITH q AS MATERIALIZED (SELECT image_embed($1::bytea, $2::text) AS v)
         SELECT id, name, embedding <-> (SELECT v FROM q) AS distance
         FROM {} ORDER BY embedding <-> (SELECT v FROM q) LIMIT $3",
        table.quoted()
    );
    let rows = client.query(&sql, &[&image, &model, &i64::from(k)]).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// The stored bytes of image `id`.
pub async fn image(
    client: &Client,
    table: &Table,
    id: i64,
) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
    let sql = format!("SELECT data FROM {} WHERE id = $1", table.quoted());
    Ok(client.query_opt(&sql, &[&id]).await?.map(|r| r.get(0)))
}

/// Rows in the table.
pub async fn count(client: &Client, table: &Table) -> Result<i64, tokio_postgres::Error> {
    let sql = format!("SELECT count(*) FROM {}", table.quoted());
    Ok(client.query_one(&sql, &[]).await?.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_choice() {
        let t = Table::parse("t").unwrap();
        assert_eq!(choose_model(None, None, &t).unwrap(), DEFAULT_MODEL);
        assert_eq!(
            choose_model(None, Some("resnet50"), &t).unwrap(),
            "resnet50"
        );
        assert_eq!(choose_model(Some("a".into()), None, &t).unwrap(), "a");
        assert_eq!(choose_model(Some("a".into()), Some("a"), &t).unwrap(), "a");
        assert!(choose_model(Some("a".into()), Some("b"), &t).is_err());
    }
}
