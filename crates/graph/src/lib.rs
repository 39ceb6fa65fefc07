//! HNSW (Malkov & Yashunin, "Efficient and robust approximate nearest
//! neighbor search using Hierarchical Navigable Small World graphs") over a
//! small storage trait.
//!
//! The algorithms are written once, generic over [`Graph`] (read side)
//! and [`GraphMut`] (write side), and used by two stores: [`MemoryGraph`],
//! which an index build fills with both cores before writing pages, and
//! the on-page index of the extension crate. The paper's notation is kept:
//! `q` the element inserted or searched for, `ep` entry points, `W` the
//! dynamic list of nearest elements found, `C` the candidates to expand,
//! `ef` the size of `W`, `lc` the layer, `mL` the level normalisation.
//!
//! | paper | here |
//! | --- | --- |
//! | Algorithm 1, INSERT | [`insert()`] |
//! | Algorithm 2, SEARCH-LAYER | [`search_layer`] |
//! | Algorithm 4, SELECT-NEIGHBORS-HEURISTIC | [`select_neighbours`] |
//! | Algorithm 5, K-NN-SEARCH | [`knn_search`] (layer 0 entered at [`entry_points`], not one node) |
//! | (pgvector 0.8) iterative scan | [`IterativeSearch`] |
//! | (pgvector) vacuum repair | [`repair_neighbours`], [`replace_entry_point`] |
//! | vacuum: every node reachable and findable again | [`reconnect()`], [`Reachability`] |

mod bound;
mod candidate;
mod copy_record;
mod in_links;
mod insert;
mod iterative;
mod level;
mod links;
mod memory;
mod metric;
mod order;
mod page_order;
mod params;
mod partition;
mod reconnect;
mod repair;
mod scratch;
mod search;
mod select;
mod traits;
mod upper;
mod way_in;

pub use bound::{lower_bound, lower_bound_fixed, rounding_slack};
pub use candidate::Candidate;
pub use copy_record::{RecordShape, StoredCopy, RECORD_TIDS};
pub use in_links::InLinks;
pub use insert::{add_connection, insert, shrink_overfull};
pub use iterative::IterativeSearch;
pub use level::LevelGenerator;
pub use memory::{MemoryGraph, DEFAULT_MAX_LEVEL};
pub use metric::Metric;
pub use order::{apply_order, variance_order};
pub use page_order::page_order;
pub use params::{max_connections, InsertParams};
pub use partition::{merge_lists, partitions_for, Placement, NO_PARTITION};
pub use reconnect::{reconnect, NodeSet, Reachability};
pub use repair::{repair_neighbours, replace_entry_point};
pub use scratch::SearchScratch;
pub use search::{entry_points, entry_points_at, knn_search, search_layer, UPPER_EF};
pub use select::select_neighbours;
pub use traits::{Graph, GraphMut};
pub use upper::UpperLayers;

#[cfg(test)]
mod tests;
