//! `amcostestimate`: makes the planner use the index for `ORDER BY <op> LIMIT`
//! on tables where that pays, and never without an ORDER BY.

use super::store::read_meta;
use crate::gucs;
use pgrx::pg_sys;

/// `amcostestimate`, after pgvector: the visited elements are roughly the
/// upper-layer descent plus `ef_search` candidates with 2m neighbours each;
/// all of the work happens before the first row, so startup = total.
#[allow(clippy::too_many_arguments)] // the signature is Postgres'
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amcostestimate(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    loop_count: f64,
    startup: *mut pg_sys::Cost,
    total: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) {
    // SAFETY: the planner passes valid pointers; the index is locked by the
    // planner already, so opening it with NoLock is safe.
    unsafe {
        if crate::pg::am::no_order_by(path, startup, total, selectivity, correlation, pages) {
            return;
        }
        let info = (*path).indexinfo;
        let tuples = (*info).tuples.max(1.0);
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as i32);
        let m = read_meta(index).m as f64;
        pg_sys::index_close(index, pg_sys::NoLock as i32);
        let ml = 1.0 / m.ln();
        let entry_level = (tuples.ln() * ml).max(0.0);
        let layer0 = (2.0 * m * gucs::ef_search() as f64).min(tuples);
        let visited = (entry_level * m + layer0).min(tuples);
        let mut costs = pg_sys::GenericCosts {
            numIndexTuples: visited,
            ..Default::default()
        };
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        // Large vectors are TOASTed, and a seq scan's cost does not count
        // reading them: charge the visited index pages sequentially and at
        // most as many as the heap has (pgvector makes a similar correction,
        // but only below half the table, which made high ef_search values
        // fall off a cliff onto a seq scan 50x slower than the index).
        let heap_pages = (*(*info).rel).pages as f64;
        let visited_pages = costs.numIndexPages;
        if visited_pages > heap_pages {
            costs.indexTotalCost -=
                visited_pages * (costs.spc_random_page_cost - pg_sys::seq_page_cost);
            costs.indexTotalCost -= (visited_pages - heap_pages) * pg_sys::seq_page_cost;
        }
        *startup = costs.indexTotalCost;
        *total = costs.indexTotalCost;
        *selectivity = costs.indexSelectivity;
        *pages = costs.numIndexPages;
    }
}
