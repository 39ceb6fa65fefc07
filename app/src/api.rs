//! The service's JSON shapes and request-parameter parsing.

use serde::Serialize;

/// Default number of results of a search.
pub const DEFAULT_K: u32 = 10;
/// Largest `k` a search accepts.
pub const MAX_K: u32 = 100;

/// Answer to `POST /images`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Stored {
    /// The row's id (also in the `Location` header).
    pub id: i64,
    /// The stored name.
    pub name: String,
    /// sha256 of the bytes.
    pub sha256: String,
    /// True when the same bytes were already stored (the existing id is returned).
    pub duplicate: bool,
}

/// One search result.
#[derive(Debug, Serialize, PartialEq)]
pub struct Hit {
    /// The row's id.
    pub id: i64,
    /// The stored name.
    pub name: String,
    /// L2 distance between the embeddings.
    pub distance: f64,
    /// Where the image is served.
    pub url: String,
}

/// Answer to `POST /search`.
#[derive(Debug, Serialize, PartialEq)]
pub struct SearchResults {
    /// How many results were asked for.
    pub k: u32,
    /// The model that embedded the query.
    pub model: String,
    /// Milliseconds spent in the database.
    pub took_ms: u64,
    /// Nearest first.
    pub results: Vec<Hit>,
}

/// Answer to `GET /healthz`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Rows in the table.
    pub images: i64,
}

/// Body of every error answer: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, Serialize, PartialEq)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
}

/// A machine-readable code and a message for people.
#[derive(Debug, Serialize, PartialEq)]
pub struct ErrorInfo {
    /// Stable code such as `corrupt_image`.
    pub code: String,
    /// What went wrong, without internals.
    pub message: String,
}

impl ErrorBody {
    /// An error body with `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorInfo {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }
}

/// The URL an image is served at.
pub fn image_url(id: i64) -> String {
    format!("/images/{id}")
}

/// Parses a `k` parameter: an integer from 1 to [`MAX_K`]; None gives [`DEFAULT_K`].
pub fn parse_k(raw: Option<&str>) -> Result<u32, String> {
    let Some(raw) = raw else { return Ok(DEFAULT_K) };
    match raw.trim().parse::<u32>() {
        Ok(k) if (1..=MAX_K).contains(&k) => Ok(k),
        _ => Err(format!("k must be an integer from 1 to {MAX_K}")),
    }
}

/// Parses an image id from a path segment: a positive integer.
pub fn parse_id(raw: &str) -> Result<i64, String> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err("image id must be a positive integer".to_string()),
    }
}

/// A stored name for an upload: the file name's last path component,
/// control characters dropped, at most 200 characters; `upload` when empty.
pub fn upload_name(file_name: Option<&str>) -> String {
    let base = file_name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "upload".to_string()
    } else {
        clean.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn k_and_id() {
        assert_eq!(parse_k(None), Ok(DEFAULT_K));
        assert_eq!(parse_k(Some("5")), Ok(5));
        assert_eq!(parse_k(Some(" 100 ")), Ok(100));
        for bad in ["0", "101", "-1", "x", "", "1.5"] {
            assert!(parse_k(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse_id("42"), Ok(42));
        for bad in ["0", "-3", "abc", "1e3", "99999999999999999999"] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(upload_name(Some("cat.jpg")), "cat.jpg");
        assert_eq!(upload_name(Some("C:\\photos\\cat.jpg")), "cat.jpg");
        assert_eq!(upload_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(upload_name(Some("a\nb\u{0}.png")), "ab.png");
        assert_eq!(upload_name(Some("")), "upload");
        assert_eq!(upload_name(None), "upload");
        assert_eq!(upload_name(Some(&"x".repeat(300))).len(), 200);
    }

    #[test]
    fn json_shapes() {
        let r = SearchResults {
            k: 2,
            model: "m".into(),
            took_ms: 3,
            results: vec![Hit {
                id: 7,
                name: "a.jpg".into(),
                distance: 0.5,
                url: image_url(7),
            }],
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"k": 2, "model": "m", "took_ms": 3,
                   "results": [{"id": 7, "name": "a.jpg", "distance": 0.5, "url": "/images/7"}]})
        );
        assert_eq!(
            serde_json::to_value(ErrorBody::new("bad_request", "nope")).unwrap(),
            json!({"error": {"code": "bad_request", "message": "nope"}})
        );
        let s = Stored {
            id: 1,
            name: "n".into(),
            sha256: "h".into(),
            duplicate: false,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"id": 1, "name": "n", "sha256": "h", "duplicate": false})
        );
    }
}
