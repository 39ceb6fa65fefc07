//! One image through the whole pipeline: resize, crop, normalise.

use image::RgbImage;
use ndarray::Array3;

use crate::decode::open;
use crate::normalize::normalize;
use crate::resize::resize_crop;
use crate::{decode, Error, Limits, Preprocess};

/// Resizes, center-crops and normalises a decoded image into the model's
/// per-image tensor (`[3, s, s]` for NCHW, `[s, s, 3]` for NHWC).
pub fn preprocess(img: &RgbImage, p: &Preprocess) -> Result<Array3<f32>, Error> {
    p.validate()?;
    if img.width() == 0 || img.height() == 0 {
        return Err(Error::Corrupt(String::from("image has no pixels")));
    }
    let cropped = resize_crop(img, p.resize_shorter, p.input_size, p.interpolation);
    Ok(normalize(&cropped, p))
}

/// Decodes encoded image bytes and preprocesses them (see [`decode`] and
/// [`preprocess`]).
pub fn preprocess_bytes(
    bytes: &[u8],
    p: &Preprocess,
    limits: &Limits,
) -> Result<Array3<f32>, Error> {
    p.validate()?;
    let img = decode(bytes, limits)?;
    preprocess(&img, p)
}

/// [`preprocess_bytes`] that first asks `admit` for the bytes it will need
/// at its peak (estimated from the header, before any pixel buffer is
/// allocated; see [`crate::Footprint`]). Whatever `admit` returns (a
/// [`crate::Permit`]) is held until the tensor is made and returned with it;
/// an error from `admit` is returned without decoding.
///
/// `admit` runs outside the decoders' panic guard, so it may unwind (a
/// Postgres ERROR raised while it waits).
pub fn preprocess_admitted<G>(
    bytes: &[u8],
    p: &Preprocess,
    limits: &Limits,
    admit: impl FnOnce(u64) -> Result<G, Error>,
) -> Result<(Array3<f32>, G), Error> {
    p.validate()?;
    let opened = open(bytes, limits)?;
    let guard = admit(opened.footprint().peak_bytes(p))?;
    let img = opened.decode()?;
    let tensor = preprocess(&img, p)?;
    Ok((tensor, guard))
}
