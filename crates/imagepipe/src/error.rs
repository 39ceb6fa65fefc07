//! The crate's error type: one variant per class of failure, so that the SQL
//! layer can map each to its own SQLSTATE.

use thiserror::Error;

/// Why an image could not be turned into a tensor.
///
/// Messages follow pgvector's style: lowercase, no final period.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input held no bytes at all.
    #[error("image data is empty")]
    Empty,
    /// The bytes are not one of the accepted formats (JPEG, PNG, WebP, GIF,
    /// BMP, TIFF), or use a feature of one the decoders do not support.
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(String),
    /// The format was recognised but the data is truncated or malformed.
    #[error("corrupt image data: {0}")]
    Corrupt(String),
    /// The image exceeds the configured [`crate::Limits`].
    #[error("image too large: {0}")]
    TooLarge(String),
    /// The preprocessing parameters (from the model manifest) are unusable.
    #[error("invalid preprocessing parameters: {0}")]
    InvalidParameters(String),
    /// Decoding the image needs more memory than the decoding budget holds.
    #[error(
        "image too large: decoding it needs {needed} bytes of memory, more than the {limit} bytes of the decoding budget"
    )]
    OverBudget {
        /// Estimated peak bytes of decoding and preprocessing the image.
        needed: u64,
        /// Bytes the budget could grant at most.
        limit: u64,
    },
    /// The image was not decoded: the work was cancelled first.
    #[error("image decoding was cancelled")]
    Cancelled,
}

impl Error {
    /// Maps an error from the `image` crate onto this crate's variants.
    pub(crate) fn from_image(err: image::ImageError) -> Self {
        use image::ImageError as E;
        match err {
            E::Limits(e) => Error::TooLarge(lower(e.to_string())),
            E::Unsupported(e) => Error::UnsupportedFormat(lower(e.to_string())),
            E::Decoding(e) => Error::Corrupt(lower(e.to_string())),
            E::IoError(e) => Error::Corrupt(lower(e.to_string())),
            other => Error::Corrupt(lower(other.to_string())),
        }
    }
}

/// Lowercases the first letter and drops a trailing period, for pgvector-style
/// messages built from third-party error text.
fn lower(msg: String) -> String {
    let msg = msg.trim_end().trim_end_matches('.');
    let mut chars = msg.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::from("unknown error"),
    }
}
