//! `amcostestimate`: makes the planner use the index for `ORDER BY <op>
//! LIMIT` where that pays, and never without an ORDER BY.

use super::store::read_meta;
use crate::gucs;
use pgrx::pg_sys;

/// `amcostestimate`, after pgvector's rule: the total cost is that of
/// reading the whole index (what a scan without LIMIT may do), the startup
/// cost that of the `probes` lists a scan reads before its first row (a
/// share `probes / lists` of it), with the index pages read sequentially.
/// So `ORDER BY v <-> q LIMIT k` costs about the startup cost; a query
/// without LIMIT pays for every row (see `beyond` below), and a seq scan
/// and sort beat it.
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
        let mut costs = pg_sys::GenericCosts::default();
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as i32);
        let lists = read_meta(index).lists as f64;
        pg_sys::index_close(index, pg_sys::NoLock as i32);
        let ratio = (gucs::probes() as f64 / lists).min(1.0);
        // Lists are chains of pages read one after another.
        costs.indexTotalCost -=
            costs.numIndexPages * (costs.spc_random_page_cost - pg_sys::seq_page_cost);
        let mut first = costs.indexTotalCost * ratio;
        // Large vectors are TOASTed, and a seq scan's cost does not count
        // reading them: charge at most as many pages as the heap has.
        let heap_pages = (*(*info).rel).pages as f64;
        let startup_pages = costs.numIndexPages * ratio;
        if startup_pages > heap_pages && ratio < 0.5 {
            first -= (startup_pages - heap_pages) * pg_sys::seq_page_cost;
        }
        // Without a LIMIT an approximate scan returns only the probed
        // lists' rows: charge the rows past them (about 40 operator calls
        // each, more than a seq scan and sort of them), so the planner
        // keeps the exact plan unless a LIMIT stops the scan early. A
        // LIMIT of k among n rows pays k/n of it.
        let beyond = (*info).tuples.max(1.0) * (1.0 - ratio) * 40.0 * pg_sys::cpu_operator_cost;
        *startup = first.max(0.0);
        *total = costs.indexTotalCost + beyond;
        *selectivity = costs.indexSelectivity;
        *pages = costs.numIndexPages;
    }
}
