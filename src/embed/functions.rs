//! The `image_embed` SQL functions.
//!
//! Volatility (see the README): the forms naming the model are IMMUTABLE.
//! The name binds a manifest whose pinned sha256 is verified when the model
//! is loaded, so the same bytes give the same vector (as `to_tsvector(regconfig,
//! text)` is immutable although its dictionaries are files); that allows
//! generated columns and expression indexes. The forms using the setting
//! `pgvision.model` are STABLE. All are PARALLEL SAFE: each worker loads its
//! own session, and only reads settings the leader passes on.

use pgrx::prelude::*;

use super::pipeline::{embed_many, embed_one};
use crate::gucs;
use crate::vector::{Vector, VectorArray};

/// The embedding of one image with the model `pgvision.model`.
#[pg_extern(stable, parallel_safe, name = "image_embed", requires = ["vector_type"])]
fn image_embed(data: &[u8]) -> Vector {
    embed_one(data, &gucs::model())
}

/// The embedding of one image with the named model.
#[pg_extern(immutable, parallel_safe, name = "image_embed", requires = ["vector_type"])]
fn image_embed_with_model(data: &[u8], model: &str) -> Vector {
    embed_one(data, model)
}

/// The embeddings of many images with `pgvision.model`, decoded in parallel
/// and run in batches of `pgvision.embed_batch_size`; NULL elements stay NULL.
#[pg_extern(stable, parallel_safe, name = "image_embed", requires = ["vector_type"])]
fn image_embed_batch(data: Array<&[u8]>) -> VectorArray {
    VectorArray(embed_many(&data.iter().collect::<Vec<_>>(), &gucs::model()))
}

/// The embeddings of many images with the named model (see the other batch form).
#[pg_extern(immutable, parallel_safe, name = "image_embed", requires = ["vector_type"])]
fn image_embed_batch_with_model(data: Array<&[u8]>, model: &str) -> VectorArray {
    VectorArray(embed_many(&data.iter().collect::<Vec<_>>(), model))
}
