//! Image preprocessing for pgvision's in-database CNN embeddings.
//!
//! The pipeline turns untrusted encoded bytes into the float tensor a
//! torchvision-trained model expects, reproducing torchvision's classic
//! PIL transform so embeddings computed here match those computed in
//! Python:
//!
//! 1. [`decode`]: sniff the format from magic bytes (JPEG, PNG, WebP,
//!    GIF first frame, BMP, TIFF; anything else is refused), decode under
//!    [`Limits`] set before the header is read, apply the EXIF orientation
//!    and convert to 8-bit RGB like PIL's `convert("RGB")`.
//! 2. resize the shorter side to [`Preprocess::resize_shorter`] with PIL's
//!    antialiased bilinear (or bicubic) filter, bit-exact with Pillow, and
//! 3. center-crop to [`Preprocess::input_size`] (both only ever computed
//!    inside the crop window);
//! 4. scale to 0..1, subtract the mean, divide by the std, in the channel
//!    order and layout the model wants ([`preprocess`]).
//!
//! [`preprocess_batch`] runs steps 1-4 for many images on rayon threads
//! and [`stack_ok`] gathers the successes into one NCHW batch tensor.
//!
//! Memory: [`open`] reads a header and estimates the peak bytes of
//! decoding and preprocessing the image ([`Footprint::peak_bytes`]) before
//! any pixel buffer exists. [`preprocess_admitted`] and
//! [`preprocess_batch_within`] take those bytes from a [`Budget`] (a byte
//! semaphore shared by every thread) first, so the memory in flight stays
//! bounded whatever the thread count and batch size; a [`Cancel`] flag
//! stops the images a batch has not started yet.
//!
//! The crate is pure Rust and never touches Postgres: it runs on worker
//! threads, over memory the caller owns. Every parameter of the transform
//! comes from the model's manifest ([`Preprocess`] is serde-deserialisable).

#![forbid(unsafe_code)]

mod batch;
mod budget;
mod cancel;
mod decode;
mod error;
pub mod footprint;
mod geometry;
mod limits;
mod normalize;
mod params;
pub mod peek;
mod pipeline;
mod png_rows;
mod resize;
mod truncation;

pub use batch::{chunk_size, preprocess_batch, preprocess_batch_within, stack, stack_ok, Batch};
pub use budget::{Budget, Permit, Refusal, POLL};
pub use cancel::Cancel;
pub use decode::{decode, detect_format, open, Opened};
pub use error::Error;
pub use footprint::{tensor_bytes, Footprint, Pixels};
pub use geometry::{crop_offset, resized_size};
pub use limits::Limits;
pub use normalize::normalize;
pub use params::{ChannelOrder, Interpolation, Layout, Preprocess, ValueScale};
pub use pipeline::{preprocess, preprocess_admitted, preprocess_bytes};
pub use resize::resize_crop;

pub use image::RgbImage;
pub use ndarray::{Array3, Array4};
