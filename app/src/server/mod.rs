//! `pgvision serve`: the HTTP search service (axum, a deadpool-postgres pool).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the gallery page (static, embedded in the binary) |
//! | `POST /images` | multipart `file` (and optional `name`): store and embed, 201 with the id (200 for known bytes) |
//! | `POST /search` | multipart `file` and optional `k` (1-100, default 10): nearest images as JSON |
//! | `GET /images/{id}` | the stored bytes, content type from magic bytes |
//! | `GET /healthz` | `{"status": "ok", "images": n}`, 503 when the database is unreachable |
//!
//! Requests are bounded: one body limit for every route (`--max-upload`),
//! at most a few multipart parts, small text fields; a deadline for every
//! request (`deadline`) and for its headers (`accept`), a limit on uploads in
//! flight checked before their body is read (`admission`), a write policy
//! (`access`), and a `statement_timeout` on every database session (`pool`).

mod accept;
mod access;
mod admission;
mod deadline;
mod error;
mod pool;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::Pool;
use tokio::sync::Semaphore;

use access::Writes;
use pool::Conn;

pub use error::ApiError;

use crate::api::{self, Health, Hit, SearchResults, Stored};
use crate::db;
use crate::hashing::sha256_hex;
use crate::ident::Table;
use crate::sniff::content_type;

/// The gallery page.
const INDEX_HTML: &str = include_str!("index.html");
/// Most multipart parts a request may have.
const MAX_PARTS: usize = 4;
/// Longest text field accepted, in bytes.
const MAX_TEXT_FIELD: usize = 1024;

/// How the service was started.
pub struct Options {
    /// Connection string.
    pub dsn: String,
    /// Table of images (created when missing).
    pub table: Table,
    /// Model; None: the table's.
    pub model: Option<String>,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body, in bytes.
    pub max_upload: usize,
    /// Database connections in the pool.
    pub pool_size: usize,
    /// Longest time a request may take, its body included.
    pub request_timeout: Duration,
    /// Uploads (`POST /images`, `POST /search`) handled at once.
    pub max_in_flight: usize,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// `statement_timeout` of every database session; zero: none.
    pub statement_timeout: Duration,
    /// Bearer token that `POST /images` requires.
    pub token: Option<String>,
    /// Search only: `POST /images` is refused, the table is not created.
    pub read_only: bool,
}

/// What every handler shares.
struct App {
    pool: Pool,
    table: Table,
    model: String,
}

/// Shared state handle.
type AppState = State<Arc<App>>;

/// A multipart form read into memory: at most one file and a few text fields.
#[derive(Default)]
struct Form {
    file: Option<(Option<String>, Bytes)>,
    text: HashMap<String, String>,
}

/// The request limits the router enforces.
struct Limits {
    max_upload: usize,
    request_timeout: Duration,
    max_in_flight: usize,
    writes: Writes,
}

/// Builds the router for `app`: routes with a body take an in-flight slot
/// (uploads pass the write policy first), every request has a deadline.
fn router(app: Arc<App>, limits: Limits) -> Router {
    let slots = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
    let admit = from_fn_with_state(slots, admission::admit);
    let writes = from_fn_with_state(Arc::new(limits.writes), access::guard_writes);
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/images", post(upload).layer(admit.clone()).layer(writes))
        .route("/images/{id}", get(image))
        .route("/search", post(search).layer(admit))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_upload))
        .layer(from_fn_with_state(
            limits.request_timeout,
            deadline::deadline,
        ))
        .with_state(app)
}

/// Starts the service and runs it until Ctrl-C or SIGTERM.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let pg: tokio_postgres::Config = opts.dsn.parse().context("invalid --dsn")?;
    let pool = pool::build(
        pg,
        &pool::Settings {
            size: opts.pool_size,
            statement_timeout: opts.statement_timeout,
            read_only: opts.read_only,
        },
    )?;
    // Setup may build the index: on its own session, without the statement timeout.
    let (model, dims) = {
        let client = db::connect(&opts.dsn).await?;
        if opts.read_only {
            let model = db::open_table(&client, &opts.table, opts.model.as_deref()).await?;
            let dims = db::model_dims(&client, &model).await?;
            (model, dims)
        } else {
            let (model, dims) =
                db::prepare_table(&client, &opts.table, opts.model.as_deref()).await?;
            db::ensure_index(&client, &opts.table).await?;
            (model, dims)
        }
    };
    // One pooled session up front: its settings are checked before listening.
    drop(
        pool.get()
            .await
            .context("cannot connect to PostgreSQL (check --dsn)")?,
    );
    let app = Arc::new(App {
        pool,
        table: opts.table.clone(),
        model: model.clone(),
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!("pgvision serve: warning: listening on {addr}, reachable from other machines");
    }
    let writes = Writes::new(opts.token.as_deref(), opts.read_only);
    let mode = match writes {
        Writes::Open => "uploads open",
        Writes::Token(_) => "uploads need the token",
        Writes::ReadOnly => "read-only",
    };
    println!(
        "pgvision serve: listening on http://{addr}/ (table {}, {model}, {dims} dims, {mode})",
        opts.table
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let limits = Limits {
        max_upload: opts.max_upload,
        request_timeout: opts.request_timeout,
        max_in_flight: opts.max_in_flight,
        writes,
    };
    accept::serve(
        listener,
        router(app, limits),
        opts.request_timeout,
        opts.max_connections,
        shutdown(),
    )
    .await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `GET /`: the gallery page.
async fn index() -> Response {
    let mut r = Html(INDEX_HTML).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self' blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    r
}

/// `GET /healthz`: the database answers and the table is readable.
async fn healthz(State(app): AppState) -> Result<Json<Health>, ApiError> {
    let conn = Conn::get(&app.pool)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let counted = db::count(&conn, &app.table).await;
    conn.release();
    let images = counted.map_err(|e| {
        eprintln!("pgvision serve: healthz: {}", db::describe(&e));
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable",
        )
        .retry_after(1)
    })?;
    Ok(Json(Health {
        status: "ok",
        images,
    }))
}

/// `POST /images`: stores and embeds an uploaded image.
async fn upload(
    State(app): AppState,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, HeaderMap, Json<Stored>), ApiError> {
    let form = read_form(form).await?;
    let (file_name, data) = require_file(form.file)?;
    let name = api::upload_name(
        form.text
            .get("name")
            .map(String::as_str)
            .or(file_name.as_deref()),
    );
    let sha256 = sha256_hex(&data);
    let conn = Conn::get(&app.pool)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let stored = store(&conn, &app, name, &sha256, &data).await;
    conn.release();
    let (status, id, name, duplicate) = stored?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&api::image_url(id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        status,
        headers,
        Json(Stored {
            id,
            name,
            sha256,
            duplicate,
        }),
    ))
}

/// Stores `data` unless its hash is known: (status, id, stored name, duplicate).
async fn store(
    client: &tokio_postgres::Client,
    app: &App,
    name: String,
    sha256: &str,
    data: &[u8],
) -> Result<(StatusCode, i64, String, bool), ApiError> {
    let known = db::find_by_hash(client, &app.table, sha256)
        .await
        .map_err(|e| ApiError::from_db("upload", &e))?;
    if let Some((id, stored)) = known {
        return Ok((StatusCode::OK, id, stored, true));
    }
    let inserted = db::insert_one(client, &app.table, &app.model, &name, sha256, data)
        .await
        .map_err(|e| ApiError::from_db("upload", &e))?;
    if let Some(id) = inserted {
        return Ok((StatusCode::CREATED, id, name, false));
    }
    // The same bytes were stored by a concurrent request.
    let (id, stored) = db::find_by_hash(client, &app.table, sha256)
        .await
        .map_err(|e| ApiError::from_db("upload", &e))?
        .ok_or_else(|| ApiError::internal("upload", &"row vanished after a conflict"))?;
    Ok((StatusCode::OK, id, stored, true))
}

/// `POST /search`: the `k` nearest stored images to the uploaded one.
async fn search(
    State(app): AppState,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let form = read_form(form).await?;
    let k = api::parse_k(form.text.get("k").map(String::as_str)).map_err(ApiError::bad_request)?;
    let (_, data) = require_file(form.file)?;
    let conn = Conn::get(&app.pool)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let started = Instant::now();
    let found = db::search(&conn, &app.table, &app.model, &data, k).await;
    conn.release();
    let rows = found.map_err(|e| ApiError::from_db("search", &e))?;
    let results = rows
        .into_iter()
        .map(|(id, name, distance)| Hit {
            id,
            name,
            distance,
            url: api::image_url(id),
        })
        .collect();
    Ok(Json(SearchResults {
        k,
        model: app.model.clone(),
        took_ms: started.elapsed().as_millis() as u64,
        results,
    }))
}

/// `GET /images/{id}`: the stored bytes with a content type sniffed from them.
async fn image(State(app): AppState, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = api::parse_id(&raw).map_err(ApiError::bad_request)?;
    let conn = Conn::get(&app.pool)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let fetched = db::image(&conn, &app.table, id).await;
    conn.release();
    let data = fetched
        .map_err(|e| ApiError::from_db("image", &e))?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no image {id}"))
        })?;
    let headers = [
        (header::CONTENT_TYPE, content_type(&data)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "private, max-age=3600"),
    ];
    Ok((headers, data).into_response())
}

/// Any other path: a JSON 404.
async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Reads a multipart body: one file part (`file` or `image`) and small text parts.
async fn read_form(form: Result<Multipart, MultipartRejection>) -> Result<Form, ApiError> {
    let mut mp = form.map_err(|e| {
        ApiError::new(
            e.status(),
            "bad_request",
            "expected a multipart/form-data body with a file field",
        )
    })?;
    let mut out = Form::default();
    for _ in 0..MAX_PARTS {
        let field = match mp.next_field().await.map_err(multipart_error)? {
            Some(f) => f,
            None => return Ok(out),
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" | "image" => {
                if out.file.is_some() {
                    return Err(ApiError::bad_request("send one file per request"));
                }
                let file_name = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.map_err(multipart_error)?;
                out.file = Some((file_name, bytes));
            }
            _ => {
                let text = field.text().await.map_err(multipart_error)?;
                if text.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::bad_request(format!("field {name:?} is too long")));
                }
                out.text.insert(name, text);
            }
        }
    }
    match mp.next_field().await.map_err(multipart_error)? {
        None => Ok(out),
        Some(_) => Err(ApiError::bad_request(format!(
            "at most {MAX_PARTS} form fields"
        ))),
    }
}

/// Maps a multipart read error (a body over the limit is a 413).
fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "too_large",
            "the upload is larger than the server accepts",
        )
    } else if status.is_client_error() {
        ApiError::new(status, "bad_request", "malformed multipart body")
    } else {
        ApiError::internal("multipart", &e)
    }
}

/// The uploaded file, which must be present and non-empty.
fn require_file(
    file: Option<(Option<String>, Bytes)>,
) -> Result<(Option<String>, Bytes), ApiError> {
    match file {
        Some((_, data)) if data.is_empty() => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "corrupt_image",
            "the uploaded file is empty",
        )),
        Some(f) => Ok(f),
        None => Err(ApiError::bad_request(
            "missing the file field (multipart name \"file\")",
        )),
    }
}
