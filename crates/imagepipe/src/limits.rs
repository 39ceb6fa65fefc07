//! Resource limits applied to untrusted input before any pixel is decoded.

use serde::{Deserialize, Serialize};

/// Caps on the size of an image the decoder will accept.
///
/// Width, height and allocation are handed to the `image` crate's decoders
/// before decoding starts, so a header that claims 100000x100000 pixels is
/// refused without allocating; `max_pixels` and `max_alloc` are checked
/// against the header's dimensions before the pixel buffer is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted width in pixels (before EXIF rotation).
    pub max_width: u32,
    /// Largest accepted height in pixels (before EXIF rotation).
    pub max_height: u32,
    /// Largest accepted width * height.
    pub max_pixels: u64,
    /// Largest single allocation a decoder may make, in bytes.
    pub max_alloc: u64,
}

impl Default for Limits {
    /// Generous limits for photos: 16384 px a side, 64 Mpx (a 50 Mpx phone
    /// photo fits), 512 MiB per allocation.
    fn default() -> Self {
        Limits {
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 64 * 1024 * 1024,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The same limits in the form the `image` crate's decoders take.
    pub(crate) fn to_image_limits(self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }
}
