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
//! at most a few multipart parts, small text fields.

mod error;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

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
    file: Option<(Option<String>, Vec<u8>)>,
    text: HashMap<String, String>,
}

/// Builds the router for `app` with a body limit of `max_upload` bytes.
fn router(app: Arc<App>, max_upload: usize) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/images", post(upload))
        .route("/images/{id}", get(image))
        .route("/search", post(search))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_upload))
        .with_state(app)
}

/// Starts the service and runs it until Ctrl-C or SIGTERM.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let pg: tokio_postgres::Config = opts.dsn.parse().context("invalid --dsn")?;
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(opts.pool_size.max(1))
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .runtime(Runtime::Tokio1)
        .build()
        .context("building the connection pool")?;
    let (model, dims) = {
        let client = pool
            .get()
            .await
            .context("cannot connect to PostgreSQL (check --dsn)")?;
        let (model, dims) = db::prepare_table(&client, &opts.table, opts.model.as_deref()).await?;
        db::ensure_index(&client, &opts.table).await?;
        (model, dims)
    };
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
    println!(
        "pgvision serve: listening on http://{addr}/ (table {}, {model}, {dims} dims)",
        opts.table
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    axum::serve(listener, router(app, opts.max_upload))
        .with_graceful_shutdown(shutdown())
        .await?;
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
    let client = app
        .pool
        .get()
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let images = db::count(&client, &app.table).await.map_err(|e| {
        eprintln!("pgvision serve: healthz: {}", db::describe(&e));
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable",
        )
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
    let client = app
        .pool
        .get()
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let known = db::find_by_hash(&client, &app.table, &sha256)
        .await
        .map_err(|e| ApiError::from_db("upload", &e))?;
    let (status, id, name, duplicate) = match known {
        Some((id, stored)) => (StatusCode::OK, id, stored, true),
        None => match db::insert_one(&client, &app.table, &app.model, &name, &sha256, &data)
            .await
            .map_err(|e| ApiError::from_db("upload", &e))?
        {
            Some(id) => (StatusCode::CREATED, id, name, false),
            None => {
                // The same bytes were stored by a concurrent request.
                let (id, stored) = db::find_by_hash(&client, &app.table, &sha256)
                    .await
                    .map_err(|e| ApiError::from_db("upload", &e))?
                    .ok_or_else(|| {
                        ApiError::internal("upload", &"row vanished after a conflict")
                    })?;
                (StatusCode::OK, id, stored, true)
            }
        },
    };
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

/// `POST /search`: the `k` nearest stored images to the uploaded one.
async fn search(
    State(app): AppState,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let form = read_form(form).await?;
    let k = api::parse_k(form.text.get("k").map(String::as_str)).map_err(ApiError::bad_request)?;
    let (_, data) = require_file(form.file)?;
    let client = app
        .pool
        .get()
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let started = Instant::now();
    let rows = db::search(&client, &app.table, &app.model, &data, k)
        .await
        .map_err(|e| ApiError::from_db("search", &e))?;
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
    let client = app
        .pool
        .get()
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let data = db::image(&client, &app.table, id)
        .await
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
                out.file = Some((file_name, bytes.to_vec()));
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
    file: Option<(Option<String>, Vec<u8>)>,
) -> Result<(Option<String>, Vec<u8>), ApiError> {
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
