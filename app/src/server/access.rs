//! Who may write (`POST /images`): anyone, only holders of the bearer token
//! (`--token` / `PGVISION_TOKEN`), or no one (`--read-only`). Checked from the
//! headers, before the body is read; search and GET stay open.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiError;

/// The write policy.
pub enum Writes {
    /// Anyone who can reach the port may upload.
    Open,
    /// Uploads need `Authorization: Bearer <token>`; the token's sha256 is kept.
    Token([u8; 32]),
    /// No uploads at all.
    ReadOnly,
}

impl Writes {
    /// The policy for the command line's choices (read-only wins over a token).
    pub fn new(token: Option<&str>, read_only: bool) -> Writes {
        match (read_only, token) {
            (true, _) => Writes::ReadOnly,
            (false, Some(t)) => Writes::Token(Sha256::digest(t.as_bytes()).into()),
            (false, None) => Writes::Open,
        }
    }

    /// Whether a request with `headers` may write: Err is the answer to send.
    fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match self {
            Writes::Open => Ok(()),
            Writes::ReadOnly => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "read_only",
                "this service is read-only: uploads are disabled",
            )),
            Writes::Token(expected) => {
                let given = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(bearer);
                match given {
                    Some(t) if same_digest(&Sha256::digest(t.as_bytes()).into(), expected) => {
                        Ok(())
                    }
                    _ => Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "uploads need an Authorization: Bearer token",
                    )
                    .with_header(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"pgvision\""),
                    )),
                }
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares two digests in time independent of where they differ.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Middleware: lets a write through, or answers 401/403 without reading the body.
pub async fn guard_writes(State(writes): State<Arc<Writes>>, req: Request, next: Next) -> Response {
    match writes.check(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => {
            let mut r = e.into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Headers with one Authorization value.
    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_values() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn policies() {
        let open = Writes::new(None, false);
        assert!(open.check(&HeaderMap::new()).is_ok());
        let token = Writes::new(Some("s3cret"), false);
        assert!(token.check(&auth("Bearer s3cret")).is_ok());
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Bearer S3CRET",
            "Basic s3cret",
        ] {
            let e = token.check(&auth(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{bad}");
        }
        assert_eq!(
            token.check(&HeaderMap::new()).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        let ro = Writes::new(Some("s3cret"), true);
        assert_eq!(
            ro.check(&auth("Bearer s3cret")).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn digests() {
        let a: [u8; 32] = Sha256::digest(b"a").into();
        let b: [u8; 32] = Sha256::digest(b"b").into();
        assert!(same_digest(&a, &a));
        assert!(!same_digest(&a, &b));
    }
}
