//! What image_embed's errors mean to a client: the SQLSTATEs that blame the
//! image (a 4xx for the service, a skipped file for ingest) and the failing
//! element the batch form names in its DETAIL.

/// Why an image was refused by image_embed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageProblem {
    /// 22P03: empty, corrupt or truncated image data.
    Corrupt,
    /// 0A000: not a supported image format.
    Unsupported,
    /// 54000: over the server's size limits.
    TooLarge,
}

impl ImageProblem {
    /// The problem a SQLSTATE stands for, or None when it does not blame the image.
    pub fn from_sqlstate(code: &str) -> Option<ImageProblem> {
        match code {
            "22P03" => Some(ImageProblem::Corrupt),
            "0A000" => Some(ImageProblem::Unsupported),
            "54000" => Some(ImageProblem::TooLarge),
            _ => None,
        }
    }

    /// The HTTP status the service answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ImageProblem::Corrupt => 422,
            ImageProblem::Unsupported => 415,
            ImageProblem::TooLarge => 413,
        }
    }

    /// A stable machine-readable code for JSON error bodies.
    pub fn code(self) -> &'static str {
        match self {
            ImageProblem::Corrupt => "corrupt_image",
            ImageProblem::Unsupported => "unsupported_format",
            ImageProblem::TooLarge => "image_too_large",
        }
    }
}

/// The 0-based index of the failing element from the batch form's DETAIL
/// (`Array element 3.` is index 2), if it names one within `len`.
pub fn failed_element(detail: Option<&str>, len: usize) -> Option<usize> {
    let rest = detail?.trim().strip_prefix("Array element ")?;
    let n: usize = rest.trim_end_matches('.').parse().ok()?;
    (1..=len).contains(&n).then(|| n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        assert_eq!(
            ImageProblem::from_sqlstate("22P03"),
            Some(ImageProblem::Corrupt)
        );
        assert_eq!(
            ImageProblem::from_sqlstate("0A000"),
            Some(ImageProblem::Unsupported)
        );
        assert_eq!(
            ImageProblem::from_sqlstate("54000"),
            Some(ImageProblem::TooLarge)
        );
        assert_eq!(ImageProblem::from_sqlstate("58P01"), None);
        assert_eq!(ImageProblem::from_sqlstate("XX000"), None);
        assert_eq!(ImageProblem::Corrupt.http_status(), 422);
        assert_eq!(ImageProblem::Unsupported.http_status(), 415);
        assert_eq!(ImageProblem::TooLarge.http_status(), 413);
    }

    #[test]
    fn detail_parsing() {
        assert_eq!(failed_element(Some("Array element 2."), 4), Some(1));
        assert_eq!(failed_element(Some("Array element 1."), 1), Some(0));
        assert_eq!(failed_element(Some("Array element 5."), 4), None);
        assert_eq!(failed_element(Some("Array element 0."), 4), None);
        assert_eq!(failed_element(Some("something else"), 4), None);
        assert_eq!(failed_element(None, 4), None);
    }
}
