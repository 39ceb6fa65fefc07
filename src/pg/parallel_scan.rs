//! An index build's heap scan spread over Postgres parallel workers.
//!
//! Design note. Threads may not touch Postgres, so reading the table (and
//! evaluating an expression key such as a halfvec cast) in parallel takes
//! parallel worker processes, as Postgres' btree build does (`nbtsort.c`).
//! The leader enters parallel mode and creates a parallel context whose
//! DSM segment holds a [`Shared`] block (the relations and their lock
//! modes), a `ParallelTableScanDesc` (under SnapshotAny, or a registered
//! MVCC snapshot for a concurrent build, as index builds do) and one
//! `shm_mq` per worker. Each worker opens the relations with the leader's
//! lock modes, scans its share of the blocks with
//! `table_index_build_scan` and streams every non-null key to its queue as
//! one message: the heap TID (8 bytes) and the key's f32s. The leader scans
//! blocks too, and between its own rows (and after them, waiting on its
//! latch) drains the queues without blocking, handing every row, its own
//! and the workers', to one callback on the main thread. An ERROR in a
//! worker reaches the leader at its next interrupt check (the parallel
//! machinery's error queue) and aborts the build; so does one in the
//! leader, whose transaction abort ends the workers.
//!
//! The rows arrive in no fixed order.

use crate::opclass::ReadKey;
use pageformat::HeapTid;
use pgrx::{pg_sys, PgMemoryContexts};

/// Keys of the DSM table of contents.
const KEY_SHARED: u64 = 0x7067_7669_7369_6f01;
const KEY_SCAN: u64 = 0x7067_7669_7369_6f02;
const KEY_QUEUES: u64 = 0x7067_7669_7369_6f03;
/// Bytes of each worker's queue.
const QUEUE_BYTES: usize = 1 << 20;
/// Most workers a build asks for.
const MAX_WORKERS: usize = 32;
/// Leader rows between two drains of the queues.
const DRAIN_EVERY: u32 = 32;
/// Bytes of a message's heap TID.
const TID_BYTES: usize = 8;

/// What the leader tells its workers.
#[repr(C)]
struct Shared {
    heap: pg_sys::Oid,
    index: pg_sys::Oid,
    concurrent: bool,
    /// Heap tuples each worker's scan counted.
    tuples: [f64; MAX_WORKERS],
}

/// Heap and index lock modes of a build (concurrent or not), as
/// `CREATE INDEX` takes them.
fn lock_modes(concurrent: bool) -> (pg_sys::LOCKMODE, pg_sys::LOCKMODE) {
    if concurrent {
        (
            pg_sys::ShareUpdateExclusiveLock as _,
            pg_sys::RowExclusiveLock as _,
        )
    } else {
        (pg_sys::ShareLock as _, pg_sys::AccessExclusiveLock as _)
    }
}

/// Workers for a build of `index` on `heap`: what the planner grants
/// (`plan_create_index_workers`: max_parallel_maintenance_workers, the
/// table's size and parallel_workers option, parallel-safe expressions),
/// or, where it grants none only because it sizes the table by its main
/// fork, the same rule applied to the main fork and the TOAST table
/// together (wide vectors live in TOAST: 20,000 rows of 2048 dimensions
/// are 128 main pages and 41,000 TOAST pages).
pub fn planned_workers(heap: pg_sys::Relation, index: pg_sys::Relation) -> usize {
    // SAFETY: both relations are open and locked by this build; the rest
    // reads GUC variables and the relations' catalog entries and options.
    unsafe {
        let n = pg_sys::plan_create_index_workers((*heap).rd_id, (*index).rd_id);
        if n > 0 {
            return (n as usize).min(MAX_WORKERS);
        }
        let max = pg_sys::max_parallel_maintenance_workers;
        let rel = (*heap).rd_rel;
        let options = (*heap).rd_options as *const pg_sys::StdRdOptions;
        if max <= 0
            || !pg_sys::IsUnderPostmaster
            || (*rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_TEMP
            || (*rel).reltoastrelid == pg_sys::InvalidOid
            || options.as_ref().is_some_and(|o| o.parallel_workers >= 0)
            || !parallel_safe(index)
        {
            return 0;
        }
        let toast = pg_sys::table_open((*rel).reltoastrelid, pg_sys::AccessShareLock as _);
        let pages = pg_sys::RelationGetNumberOfBlocksInFork(heap, pg_sys::ForkNumber::MAIN_FORKNUM)
            as u64
            + pg_sys::RelationGetNumberOfBlocksInFork(toast, pg_sys::ForkNumber::MAIN_FORKNUM)
                as u64;
        pg_sys::table_close(toast, pg_sys::AccessShareLock as _);
        let mwm_kb = pg_sys::maintenance_work_mem as u64;
        workers_for_pages(
            pages,
            pg_sys::min_parallel_table_scan_size.max(1) as u64,
            max as u64,
        )
        .min((mwm_kb / 32768).saturating_sub(1))
        .min(MAX_WORKERS as u64) as usize
    }
}

/// `compute_parallel_worker`'s rule for a scan of `pages` pages: one
/// worker from `threshold` pages, one more each time they triple, at most
/// `max`.
fn workers_for_pages(pages: u64, threshold: u64, max: u64) -> u64 {
    if pages < threshold {
        return 0;
    }
    let (mut workers, mut at) = (1, threshold * 3);
    while pages >= at && workers < max {
        workers += 1;
        at *= 3;
    }
    workers.min(max)
}

/// Whether `index`'s expressions and predicate are parallel safe (the
/// planner's test, with an empty planner state).
///
/// # Safety
/// `index` is open.
unsafe fn parallel_safe(index: pg_sys::Relation) -> bool {
    // SAFETY: zeroed planner nodes in the current memory context are what
    // is_parallel_safe reads (no parameters, no init plans, no parent).
    unsafe {
        let glob = pg_sys::palloc0(core::mem::size_of::<pg_sys::PlannerGlobal>())
            as *mut pg_sys::PlannerGlobal;
        (*glob).type_ = pg_sys::NodeTag::T_PlannerGlobal;
        let root = pg_sys::palloc0(core::mem::size_of::<pg_sys::PlannerInfo>())
            as *mut pg_sys::PlannerInfo;
        (*root).type_ = pg_sys::NodeTag::T_PlannerInfo;
        (*root).glob = glob;
        pg_sys::is_parallel_safe(root, pg_sys::RelationGetIndexExpressions(index).cast())
            && pg_sys::is_parallel_safe(root, pg_sys::RelationGetIndexPredicate(index).cast())
    }
}

/// Where the scan callback puts each row.
enum Sink<'a> {
    /// The leader: hands rows to `row`, draining the queues now and then.
    Leader {
        row: &'a mut dyn FnMut(HeapTid, &[f32]),
        queues: &'a mut Queues,
        since_drain: u32,
    },
    /// A worker: sends rows to the leader.
    Worker {
        queue: *mut pg_sys::shm_mq_handle,
        message: Vec<u8>,
    },
}

/// The scan callback's state.
struct ScanState<'a> {
    read: ReadKey,
    tmp: PgMemoryContexts,
    sink: Sink<'a>,
}

/// The leader's ends of the workers' queues.
struct Queues {
    handles: Vec<*mut pg_sys::shm_mq_handle>,
    /// Whether each launched worker's queue is still open.
    open: Vec<bool>,
    /// A received row's floats (messages need not be aligned).
    floats: Vec<f32>,
}

impl Queues {
    /// Hands every message waiting in the open queues to `row`; whether
    /// any came. Never blocks.
    fn drain(&mut self, row: &mut dyn FnMut(HeapTid, &[f32])) -> bool {
        let mut any = false;
        for i in 0..self.open.len() {
            while self.open[i] {
                let (mut len, mut data) = (0usize, core::ptr::null_mut());
                // SAFETY: the handle is attached to a queue of the live DSM
                // segment; the message stays valid until the next receive.
                let result =
                    unsafe { pg_sys::shm_mq_receive(self.handles[i], &mut len, &mut data, true) };
                match result {
                    pg_sys::shm_mq_result::SHM_MQ_SUCCESS => {
                        // SAFETY: the queue handed us `len` bytes at `data`.
                        let bytes = unsafe { core::slice::from_raw_parts(data as *const u8, len) };
                        let (tid, values) = bytes.split_at(TID_BYTES);
                        let tid = HeapTid {
                            block: u32::from_le_bytes(tid[..4].try_into().expect("4 bytes")),
                            offset: u16::from_le_bytes([tid[4], tid[5]]),
                        };
                        self.floats.clear();
                        self.floats.extend(
                            values
                                .chunks_exact(4)
                                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
                        );
                        row(tid, &self.floats);
                        any = true;
                    }
                    pg_sys::shm_mq_result::SHM_MQ_WOULD_BLOCK => break,
                    // The worker finished (or failed: its ERROR is raised by
                    // the next interrupt check).
                    _ => self.open[i] = false,
                }
            }
        }
        any
    }

    /// Whether every launched worker's queue is closed.
    fn done(&self) -> bool {
        self.open.iter().all(|o| !o)
    }
}

/// The heap scan's callback, in the leader and in the workers.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn scan_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: `state` is the ScanState passed to table_index_build_scan;
    // values/isnull have one entry for the single key column; the TID is valid.
    let (state, row) =
        unsafe { super::am::build_scan_row::<ScanState>(tid, values, isnull, state) };
    if let Some((tid, datum)) = row {
        let read = state.read;
        let sink = &mut state.sink;
        // SAFETY: the temporary context is ours and reset after every row;
        // the datum is a non-null value of the operator class's type.
        unsafe {
            state
                .tmp
                .switch_to(|_| read(datum, &mut |v| put(sink, tid, v)));
            state.tmp.reset();
        }
    }
    if let Sink::Leader {
        row,
        queues,
        since_drain,
    } = &mut state.sink
    {
        *since_drain += 1;
        if *since_drain >= DRAIN_EVERY {
            *since_drain = 0;
            queues.drain(*row);
        }
    }
    pgrx::check_for_interrupts!();
}

/// Hands one row to the leader's callback or sends it to the leader.
fn put(sink: &mut Sink, tid: HeapTid, v: &[f32]) {
    match sink {
        Sink::Leader { row, .. } => row(tid, v),
        Sink::Worker { queue, message } => {
            message.clear();
            message.extend_from_slice(&tid.block.to_le_bytes());
            message.extend_from_slice(&tid.offset.to_le_bytes());
            message.extend_from_slice(&[0, 0]);
            message.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            // SAFETY: our attached send handle; the bytes are ours.
            let result = unsafe {
                pg_sys::shm_mq_send(*queue, message.len(), message.as_ptr().cast(), false, false)
            };
            if result != pg_sys::shm_mq_result::SHM_MQ_SUCCESS {
                crate::error::raise(
                    pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    "the index build's leader went away",
                    None,
                );
            }
        }
    }
}

/// Adds a BUFFERALIGNed chunk of `bytes` and a key to the estimate.
fn estimate(pcxt: *mut pg_sys::ParallelContext, bytes: usize) {
    let aligned = bytes.next_multiple_of(pg_sys::ALIGNOF_BUFFER as usize);
    // SAFETY: a live parallel context before InitializeParallelDSM.
    unsafe {
        (*pcxt).estimator.space_for_chunks += aligned;
        (*pcxt).estimator.number_of_keys += 1;
    }
}

/// Scans `heap` for a build of `index` with up to `workers` parallel
/// workers besides this backend, calling `row` on the main thread with
/// every non-null key (in no fixed order); the heap tuples counted and the
/// workers launched.
pub fn scan(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    workers: usize,
    row: &mut dyn FnMut(HeapTid, &[f32]),
) -> (f64, usize) {
    let read = crate::opclass::of(index).key.read;
    let workers = workers.min(MAX_WORKERS);
    // SAFETY: the parallel-context protocol of access/parallel.h, on the
    // main thread of a backend building `index` (both relations open and
    // locked): estimate, initialise the DSM, fill it, launch, scan and
    // drain, wait, destroy; an ERROR anywhere aborts the transaction,
    // which ends the workers and frees the context.
    unsafe {
        let concurrent = (*index_info).ii_Concurrent;
        pg_sys::EnterParallelMode();
        let pcxt = pg_sys::CreateParallelContext(
            c"pgvision".as_ptr(),
            c"pgvision_parallel_scan_main".as_ptr(),
            workers as i32,
        );
        let snapshot = if concurrent {
            pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot())
        } else {
            &raw mut pg_sys::SnapshotAnyData
        };
        let scan_bytes = pg_sys::table_parallelscan_estimate(heap, snapshot);
        estimate(pcxt, core::mem::size_of::<Shared>());
        estimate(pcxt, scan_bytes);
        estimate(pcxt, QUEUE_BYTES * workers.max(1));
        pg_sys::InitializeParallelDSM(pcxt);
        let toc = (*pcxt).toc;
        let shared = pg_sys::shm_toc_allocate(toc, core::mem::size_of::<Shared>()) as *mut Shared;
        shared.write(Shared {
            heap: (*heap).rd_id,
            index: (*index).rd_id,
            concurrent,
            tuples: [0.0; MAX_WORKERS],
        });
        pg_sys::shm_toc_insert(toc, KEY_SHARED, shared.cast());
        let pscan = pg_sys::shm_toc_allocate(toc, scan_bytes) as pg_sys::ParallelTableScanDesc;
        pg_sys::table_parallelscan_initialize(heap, pscan, snapshot);
        pg_sys::shm_toc_insert(toc, KEY_SCAN, pscan.cast());
        // Without a DSM segment no worker can start: the leader scans alone.
        let slots = if (*pcxt).seg.is_null() {
            0
        } else {
            (*pcxt).nworkers as usize
        };
        let area = pg_sys::shm_toc_allocate(toc, QUEUE_BYTES * workers.max(1)) as *mut u8;
        pg_sys::shm_toc_insert(toc, KEY_QUEUES, area.cast());
        let mut handles = Vec::with_capacity(slots);
        for i in 0..slots {
            let mq = pg_sys::shm_mq_create(area.add(i * QUEUE_BYTES).cast(), QUEUE_BYTES);
            pg_sys::shm_mq_set_receiver(mq, pg_sys::MyProc);
            handles.push(pg_sys::shm_mq_attach(
                mq,
                (*pcxt).seg,
                core::ptr::null_mut(),
            ));
        }
        if slots > 0 {
            pg_sys::LaunchParallelWorkers(pcxt);
        }
        let launched = if slots > 0 {
            (*pcxt).nworkers_launched as usize
        } else {
            0
        };
        for (i, &h) in handles.iter().enumerate().take(launched) {
            pg_sys::shm_mq_set_handle(h, (*(*pcxt).worker.add(i)).bgwhandle);
        }
        let mut queues = Queues {
            handles,
            open: vec![true; launched],
            floats: Vec::new(),
        };
        let mut state = ScanState {
            read,
            tmp: PgMemoryContexts::new("parallel build scan"),
            sink: Sink::Leader {
                row: &mut *row,
                queues: &mut queues,
                since_drain: 0,
            },
        };
        let scan = pg_sys::table_beginscan_parallel(heap, pscan);
        let mut tuples = pg_sys::table_index_build_scan(
            heap,
            index,
            index_info,
            true,
            true,
            Some(scan_callback),
            (&mut state as *mut ScanState).cast(),
            scan,
        );
        drop(state);
        while !queues.done() {
            if !queues.drain(row) {
                pg_sys::WaitLatch(
                    pg_sys::MyLatch,
                    (pg_sys::WL_LATCH_SET | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
                    -1,
                    pg_sys::PG_WAIT_EXTENSION,
                );
                pg_sys::ResetLatch(pg_sys::MyLatch);
            }
            pgrx::check_for_interrupts!();
        }
        if launched > 0 {
            pg_sys::WaitForParallelWorkersToFinish(pcxt);
        }
        let counted = &(*shared).tuples;
        tuples += counted[..launched].iter().sum::<f64>();
        for &h in &queues.handles {
            pg_sys::shm_mq_detach(h);
        }
        if concurrent {
            pg_sys::UnregisterSnapshot(snapshot);
        }
        pg_sys::DestroyParallelContext(pcxt);
        pg_sys::ExitParallelMode();
        (tuples, launched)
    }
}

/// A parallel worker of [`scan`]: scans its share of the table and sends
/// every non-null key to the leader.
#[pgrx::pg_guard]
#[no_mangle]
pub extern "C-unwind" fn pgvision_parallel_scan_main(
    seg: *mut pg_sys::dsm_segment,
    toc: *mut pg_sys::shm_toc,
) {
    // SAFETY: called by Postgres' parallel worker machinery with the
    // leader's segment and table of contents, which `scan` filled; the
    // worker joins the leader's lock group, so its locks do not conflict.
    unsafe {
        let shared = pg_sys::shm_toc_lookup(toc, KEY_SHARED, false) as *mut Shared;
        let (heap_lock, index_lock) = lock_modes((*shared).concurrent);
        let heap = pg_sys::table_open((*shared).heap, heap_lock);
        let index = pg_sys::index_open((*shared).index, index_lock);
        let info = pg_sys::BuildIndexInfo(index);
        (*info).ii_Concurrent = (*shared).concurrent;
        let area = pg_sys::shm_toc_lookup(toc, KEY_QUEUES, false) as *mut u8;
        let worker = pg_sys::ParallelWorkerNumber as usize;
        let mq = area.add(worker * QUEUE_BYTES) as *mut pg_sys::shm_mq;
        pg_sys::shm_mq_set_sender(mq, pg_sys::MyProc);
        let queue = pg_sys::shm_mq_attach(mq, seg, core::ptr::null_mut());
        let pscan = pg_sys::shm_toc_lookup(toc, KEY_SCAN, false) as pg_sys::ParallelTableScanDesc;
        let mut state = ScanState {
            read: crate::opclass::of(index).key.read,
            tmp: PgMemoryContexts::new("parallel build scan"),
            sink: Sink::Worker {
                queue,
                message: Vec::new(),
            },
        };
        let scan = pg_sys::table_beginscan_parallel(heap, pscan);
        let tuples = pg_sys::table_index_build_scan(
            heap,
            index,
            info,
            true,
            false,
            Some(scan_callback),
            (&mut state as *mut ScanState).cast(),
            scan,
        );
        (*shared).tuples[worker] = tuples;
        pg_sys::shm_mq_detach(queue);
        pg_sys::index_close(index, index_lock);
        pg_sys::table_close(heap, heap_lock);
    }
}
