//! Backend tests that need a running Postgres (`cargo pgrx test`).
//! The SQL surface is covered by the pg_regress tests under tests/regress.

#[pgrx::pg_schema]
mod tests {
    use crate::vector::Vector;
    use pgrx::prelude::*;

    #[pg_test]
    fn vector_memory_round_trip() {
        let v = Vector::from_slice(&[1.0, -2.5, 3.0]);
        assert_eq!(v.dim(), 3);
        assert_eq!(v.as_slice(), &[1.0, -2.5, 3.0]);
    }

    #[pg_test]
    fn toasted_vectors_are_detoasted() {
        Spi::run("CREATE TABLE big (v vector(16000))").unwrap();
        Spi::run("INSERT INTO big SELECT array_fill(0.5::real, ARRAY[16000])::vector").unwrap();
        let stored = Spi::get_one::<i64>(
            "SELECT pg_total_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'big'",
        )
        .unwrap()
        .unwrap();
        assert!(
            stored > 64_000,
            "a 64 kB vector should live in the TOAST table, got {stored}"
        );
        let norm = Spi::get_one::<f64>("SELECT vector_norm(v) FROM big")
            .unwrap()
            .unwrap();
        assert!((norm - (16000.0f64 * 0.25).sqrt()).abs() < 1e-6);
    }

    /// The ORDER BY value an index scan reports for a row (a lower bound
    /// from the f16 copy) never exceeds what the operator computes for it,
    /// for every metric, dimension and scale, including near-ties (query
    /// next to the vector); otherwise Postgres would raise "index returned
    /// tuples in wrong order".
    /// The copy of the upper layers `up_idx` this backend holds, if current.
    fn upper_copy_held() -> Option<usize> {
        upper_copy_held_by("up_idx")
    }

    /// The two nearest ids to each of 60 fixed queries, with the copy of
    /// the upper layers on or off (ef_search 2: the answers depend on where
    /// the descent ends).
    fn upper_answers(cache: bool) -> Vec<Vec<i32>> {
        Spi::run(&format!("SET pgvision.hnsw_upper_cache = {cache}")).unwrap();
        (0..60)
            .map(|i| {
                Spi::get_one::<Vec<i32>>(&format!(
                    "SELECT array_agg(id) FROM (SELECT id FROM up ORDER BY v <-> \
                     ARRAY[sin({i} * 0.37), cos({i} * 0.11), sin({i} * 1.7), cos({i} * 2.3), \
                     sin({i} * 0.05), cos({i} * 0.9)]::vector LIMIT 2) s"
                ))
                .unwrap()
                .unwrap()
            })
            .collect()
    }

    #[pg_test]
    fn upper_layer_copy_gives_the_same_answers_and_follows_changes() {
        let rows = |from: i32, to: i32| {
            format!(
                "INSERT INTO up SELECT i, ARRAY[sin(i * 0.71), cos(i * 1.31), sin(i * 0.173), \
                 cos(i * 0.29), sin(i * 2.9), cos(i * 0.013)]::vector \
                 FROM generate_series({from}, {to}) i"
            )
        };
        Spi::run("CREATE TABLE up (id int, v vector(6))").unwrap();
        Spi::run(&rows(1, 4000)).unwrap();
        Spi::run("CREATE INDEX up_idx ON up USING hnsw (v vector_l2_ops)").unwrap();
        Spi::run("SET enable_seqscan = off").unwrap();
        Spi::run("SET hnsw.ef_search = 2").unwrap();
        for round in 0..2 {
            let off = upper_answers(false);
            assert_eq!(
                upper_copy_held(),
                None,
                "round {round}: no current copy yet"
            );
            // A few scans on pages pay for the copy; then it is used.
            let mut made = false;
            for _ in 0..10 {
                assert_eq!(upper_answers(true), off, "round {round}");
                made |= upper_copy_held().is_some();
            }
            let nodes = upper_copy_held();
            assert!(
                made && nodes.is_some_and(|n| n > 100),
                "round {round}: copy {nodes:?}"
            );
            // Inserts above layer 0 make it stale: scans descend on pages again.
            Spi::run(&rows(4001 + 2000 * round, 6000 + 2000 * round)).unwrap();
        }
        // A copy larger than work_mem is not made.
        Spi::run("SET work_mem = 64").unwrap();
        let off = upper_answers(false);
        for _ in 0..10 {
            assert_eq!(upper_answers(true), off);
        }
        assert_eq!(upper_copy_held(), None, "a copy beyond work_mem");
    }

    /// The copy of the upper layers of index `name` this backend holds,
    /// if current.
    fn upper_copy_held_by(name: &str) -> Option<usize> {
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
            .unwrap()
            .unwrap();
        // SAFETY: the index exists; opened and closed with a share lock.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::AccessShareLock as i32);
            let held = crate::hnsw::upper::held(index);
            pg_sys::index_close(index, pg_sys::AccessShareLock as i32);
            held
        }
    }

    /// `sparsevec(2000)` rows `from..=to` with about 20 non-zeros each.
    fn sparse_rows(from: i32, to: i32) -> String {
        format!(
            "INSERT INTO sup SELECT i, ('{{' || (SELECT string_agg(j || ':' || \
             round((1.5 + sin(i * j))::numeric, 3), ',' ORDER BY j) FROM (SELECT DISTINCT \
             (i * 37 + k * k * 11) % 2000 + 1 AS j FROM generate_series(1, 20) k) s) \
             || '}}/2000')::sparsevec FROM generate_series({from}, {to}) i"
        )
    }

    /// The two nearest ids to each of 40 fixed sparse queries, with the
    /// copy of the upper layers on or off (ef_search 2).
    fn sparse_upper_answers(cache: bool) -> Vec<Vec<i32>> {
        Spi::run(&format!("SET pgvision.hnsw_upper_cache = {cache}")).unwrap();
        (0..40)
            .map(|i| {
                Spi::get_one::<Vec<i32>>(&format!(
                    "SELECT array_agg(id) FROM (SELECT id FROM sup ORDER BY v <-> \
                     ('{{{}:1.5,{}:0.7,{}:2}}/2000')::sparsevec LIMIT 2) s",
                    i * 3 + 1,
                    i * 29 + 300,
                    i * 27 + 900
                ))
                .unwrap()
                .unwrap()
            })
            .collect()
    }

    #[pg_test]
    fn upper_layer_copy_of_sparse_elements_gives_the_same_answers() {
        Spi::run("CREATE TABLE sup (id int, v sparsevec(2000))").unwrap();
        Spi::run(&sparse_rows(1, 4000)).unwrap();
        Spi::run("CREATE INDEX sup_idx ON sup USING hnsw (v sparsevec_l2_ops)").unwrap();
        Spi::run("SET enable_seqscan = off").unwrap();
        Spi::run("SET hnsw.ef_search = 2").unwrap();
        for round in 0..2 {
            let off = sparse_upper_answers(false);
            assert_eq!(upper_copy_held_by("sup_idx"), None, "round {round}");
            let mut made = false;
            for _ in 0..10 {
                assert_eq!(sparse_upper_answers(true), off, "round {round}");
                made |= upper_copy_held_by("sup_idx").is_some();
            }
            let nodes = upper_copy_held_by("sup_idx");
            assert!(
                made && nodes.is_some_and(|n| n > 100),
                "round {round}: copy {nodes:?}"
            );
            // Inserts above layer 0 make it stale.
            Spi::run(&sparse_rows(4001 + 2000 * round, 6000 + 2000 * round)).unwrap();
        }
    }

    #[pg_test]
    fn scan_lower_bounds_never_exceed_the_operators() {
        use crate::vector::functions as f;
        use distance::half::HalfVector;
        use graph::lower_bound;
        use graph::Metric;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        type Operator = fn(&[f32], &[f32]) -> f64;
        let operators: [(Metric, Operator); 4] = [
            (Metric::L2, f::l2_distance),
            (Metric::InnerProduct, f::vector_negative_inner_product),
            (Metric::Cosine, f::cosine_distance),
            (Metric::L1, f::l1_distance),
        ];
        for dims in [1usize, 3, 16, 128, 2048] {
            for scale in [1e-3f64, 1.0, 1e3] {
                for near in [false, true] {
                    let x: Vec<f32> = (0..dims).map(|_| (next() * scale) as f32).collect();
                    let q: Vec<f32> = if near {
                        x.iter()
                            .map(|&v| v + (next() * scale * 1e-4) as f32)
                            .collect()
                    } else {
                        (0..dims).map(|_| (next() * scale) as f32).collect()
                    };
                    let h = HalfVector::encode(&x);
                    for (metric, operator) in operators {
                        let prepared = metric.prepare(&q).expect("non-zero query");
                        let d = metric.to_half(&prepared, &h.codes, h.scale, h.norm);
                        let q_norm = distance::norm(&q) as f32;
                        let bound = lower_bound(metric, d, h.err, h.norm, q_norm, dims);
                        let exact = operator(&q, &x);
                        assert!(
                            bound <= exact,
                            "{metric:?} dims {dims} scale {scale} near {near}: bound {bound} > {exact}"
                        );
                    }
                }
            }
        }
    }

    /// Appends `n` blocks to index `name` that are never written: the
    /// relation grows by zeroed pages, as when a backend extended it and
    /// then failed (or the server crashed) before logging the new pages.
    fn append_unwritten_blocks(name: &str, n: usize) {
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
            .unwrap()
            .unwrap();
        // SAFETY: the index exists; P_NEW under the extension lock extends
        // it by a zeroed page, released unchanged and not marked dirty.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::RowExclusiveLock as i32);
            for _ in 0..n {
                pg_sys::LockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
                let buf = pg_sys::ReadBufferExtended(
                    index,
                    pg_sys::ForkNumber::MAIN_FORKNUM,
                    pg_sys::InvalidBlockNumber, // P_NEW
                    pg_sys::ReadBufferMode::RBM_NORMAL,
                    core::ptr::null_mut(),
                );
                pg_sys::UnlockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
                pg_sys::ReleaseBuffer(buf);
            }
            pg_sys::index_close(index, pg_sys::RowExclusiveLock as i32);
        }
    }

    /// Heap TIDs a [`vacuum_index`] callback reports dead.
    unsafe extern "C-unwind" fn tid_is_dead(
        tid: pg_sys::ItemPointer,
        state: *mut core::ffi::c_void,
    ) -> bool {
        // SAFETY: `state` is the sorted (block, offset) list vacuum_index
        // passes; `tid` a valid heap TID of the index.
        unsafe {
            let dead = &*(state as *const Vec<(u32, u16)>);
            let t = &*tid;
            let key = (
                (t.ip_blkid.bi_hi as u32) << 16 | t.ip_blkid.bi_lo as u32,
                t.ip_posid,
            );
            dead.binary_search(&key).is_ok()
        }
    }

    /// What VACUUM does to index `name` once the rows `dead_rows` selects
    /// are dead (VACUUM itself cannot run inside a test's transaction):
    /// `ambulkdelete` with their heap TIDs, then `amvacuumcleanup`.
    fn vacuum_index(name: &str, dead_rows: &str) {
        let mut dead: Vec<(u32, u16)> = Spi::connect(|client| {
            client
                .select(
                    &format!(
                        "SELECT (ctid::text::point)[0]::int8, (ctid::text::point)[1]::int4 \
                         FROM {dead_rows}"
                    ),
                    None,
                    &[],
                )
                .unwrap()
                .map(|row| {
                    let block = row.get::<i64>(1).unwrap().unwrap() as u32;
                    let offset = row.get::<i32>(2).unwrap().unwrap() as u16;
                    (block, offset)
                })
                .collect()
        });
        dead.sort_unstable();
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
            .unwrap()
            .unwrap();
        // SAFETY: the index is opened with the lock VACUUM takes; the info
        // and the callback state outlive both calls.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::RowExclusiveLock as i32);
            let mut info = crate::pgver::index_vacuum_info(index);
            let stats = pg_sys::index_bulk_delete(
                &mut info,
                core::ptr::null_mut(),
                Some(tid_is_dead),
                (&dead as *const Vec<(u32, u16)>).cast_mut().cast(),
            );
            pg_sys::index_vacuum_cleanup(&mut info, stats);
            pg_sys::index_close(index, pg_sys::RowExclusiveLock as i32);
        }
    }

    /// Whether block `block` of index `name` is still a zeroed, never
    /// initialised page (`PageIsNew`).
    fn page_is_new(name: &str, block: i64) -> bool {
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
            .unwrap()
            .unwrap();
        // SAFETY: the block exists; read under a share lock, then released.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::AccessShareLock as i32);
            let buf = pg_sys::ReadBuffer(index, block as u32);
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_SHARE as i32);
            let header = pg_sys::BufferGetPage(buf) as *const pg_sys::PageHeaderData;
            let new = (*header).pd_upper == 0;
            pg_sys::UnlockReleaseBuffer(buf);
            pg_sys::index_close(index, pg_sys::AccessShareLock as i32);
            new
        }
    }

    /// Element slots vacuum freed and no insert has reused yet, on the
    /// pages of index `name` (whose elements each fit one page).
    fn free_slots(name: &str) -> usize {
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
            .unwrap()
            .unwrap();
        // SAFETY: the index exists; each page is read under a share lock
        // (`ReadPage`) and the index is closed before returning.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::AccessShareLock as i32);
            let meta = crate::hnsw::store::read_meta(index);
            let layout = crate::hnsw::store::PageGraph::new(index, &meta).layout();
            assert!(!layout.spans(), "only for one-page elements");
            let nblocks =
                pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
            let mut free = 0;
            for block in 1..nblocks {
                let page = crate::hnsw::pages::ReadPage::new(index, block);
                free += (1..=page.max_offset())
                    .filter_map(|off| page.item(off))
                    .filter(|item| {
                        let e = layout.read(item);
                        e.is_valid() && e.free()
                    })
                    .count();
            }
            pg_sys::index_close(index, pg_sys::AccessShareLock as i32);
            free
        }
    }

    /// Blocks of `name`.
    fn blocks(name: &str) -> i64 {
        Spi::get_one::<i64>(&format!(
            "SELECT pg_relation_size('{name}') / current_setting('block_size')::int"
        ))
        .unwrap()
        .unwrap()
    }

    /// The 10 nearest ids to 6 fixed queries, through the index or not.
    fn zeroed_answers(dims: usize, index: bool) -> Vec<Vec<i32>> {
        Spi::run(&format!("SET enable_indexscan = {index}")).unwrap();
        Spi::run(&format!("SET enable_seqscan = {}", !index)).unwrap();
        Spi::run("SET enable_bitmapscan = off").unwrap();
        let answers = (0..6)
            .map(|q| {
                Spi::get_one::<Vec<i32>>(&format!(
                    "SELECT array_agg(id) FROM (SELECT id FROM zeroed ORDER BY v <-> \
                     (SELECT array_agg(h - floor(h) ORDER BY j)::vector \
                     FROM (SELECT j, abs(sin({q} * 39.346 + j * 11.135)) * 43758.5453 AS h \
                     FROM generate_series(1, {dims}) j) s) \
                     LIMIT 10) s"
                ))
                .unwrap()
                .unwrap()
            })
            .collect();
        Spi::run("RESET enable_indexscan; RESET enable_seqscan; RESET enable_bitmapscan").unwrap();
        answers
    }

    /// Zeroed blocks an interrupted extension leaves (inside the index and
    /// at its end) are skipped by scans, inserts and vacuum's index passes
    /// and never handed out: the index answers as a seq scan throughout,
    /// for one-page elements and for page-spanning ones (4,096-d, extents
    /// of 14 blocks).
    #[pg_test]
    fn unwritten_blocks_left_by_an_interrupted_extension_are_skipped() {
        Spi::run("SET hnsw.ef_search = 200").unwrap();
        for dims in [8usize, 4096] {
            let rows = |from: i32, to: i32| {
                format!(
                    "INSERT INTO zeroed SELECT i, (SELECT array_agg(h - floor(h) ORDER BY j)::vector \
                     FROM (SELECT j, abs(sin(i * 12.9898 + j * 78.233)) * 43758.5453 AS h \
                     FROM generate_series(1, {dims}) j) s) FROM generate_series({from}, {to}) i"
                )
            };
            Spi::run(&format!("CREATE TABLE zeroed (id int, v vector({dims}))")).unwrap();
            Spi::run(&rows(1, 40)).unwrap();
            Spi::run("CREATE INDEX zeroed_idx ON zeroed USING hnsw (v)").unwrap();
            append_unwritten_blocks("zeroed_idx", 3);
            let zeroed_at = blocks("zeroed_idx");
            Spi::run(&rows(41, 100)).unwrap();
            append_unwritten_blocks("zeroed_idx", 2);
            let zeroed_end = blocks("zeroed_idx");
            assert_eq!(
                zeroed_answers(dims, true),
                zeroed_answers(dims, false),
                "{dims}-d"
            );

            vacuum_index("zeroed_idx", "zeroed WHERE id % 3 = 0");
            Spi::run("DELETE FROM zeroed WHERE id % 3 = 0").unwrap();
            assert_eq!(
                zeroed_answers(dims, true),
                zeroed_answers(dims, false),
                "{dims}-d"
            );
            let after_vacuum = blocks("zeroed_idx");
            let freed = (dims == 8).then(|| free_slots("zeroed_idx"));
            Spi::run(&rows(101, 133)).unwrap();
            assert_eq!(
                zeroed_answers(dims, true),
                zeroed_answers(dims, false),
                "{dims}-d"
            );
            // Nothing wrote into the zeroed blocks (an item added to a page
            // never initialised would be lost or corrupt it) ...
            let last = blocks("zeroed_idx");
            for block in (zeroed_at - 3..zeroed_at).chain(zeroed_end - 2..zeroed_end) {
                assert!(
                    page_is_new("zeroed_idx", block),
                    "{dims}-d: block {block} of {last}"
                );
            }
            // ... and the 33 rows inserted after VACUUM went into the places
            // it freed (33 of 100 deleted), not past the end. One-page
            // elements come in sizes (an element above layer 0 has more
            // lists, its level drawn at random), so one may find no freed
            // slot big enough and start a page: the others still reuse.
            match freed {
                Some(freed) => {
                    let reused = freed - free_slots("zeroed_idx");
                    assert!(
                        freed >= 30 && reused >= 30,
                        "{dims}-d: {reused} of {freed} reused"
                    );
                    assert!(blocks("zeroed_idx") <= after_vacuum + 1, "{dims}-d");
                }
                None => assert_eq!(blocks("zeroed_idx"), after_vacuum, "{dims}-d"),
            }
            Spi::run("DROP TABLE zeroed").unwrap();
        }
    }

    // The TOAST chunk locations of `toast_locations.rs`: remembered from a
    // read through the index, used again, never trusted when wrong.
    use crate::pg::{toast_fetch, toast_locations};
    use vectorcore::chunk_locations::{Locations, Tid};

    /// Bytes of a halfvec(2048) after its length word: dim, unused, 2,048 halves.
    const SIZE: usize = 4 + 2 * 2048;

    /// (TOAST pointer, chunk tuple ids in order) of row `id` of `tl`.
    fn pointer(id: i32) -> (pg_sys::varatt_external, Vec<Tid>) {
        let toastrel =
            Spi::get_one::<pg_sys::Oid>("SELECT reltoastrelid FROM pg_class WHERE relname = 'tl'")
                .unwrap()
                .unwrap();
        let toast = Spi::get_one::<String>(&format!(
            "SELECT relname::text FROM pg_class WHERE oid = {}",
            u32::from(toastrel)
        ))
        .unwrap()
        .unwrap();
        // Rows were inserted one at a time in id order: their values' OIDs
        // come in the same order.
        let valueid = Spi::get_one::<i64>(&format!(
            "SELECT c FROM (SELECT DISTINCT chunk_id::int8 c FROM pg_toast.{toast}) s \
             ORDER BY c OFFSET {id} LIMIT 1"
        ))
        .unwrap()
        .unwrap() as u32;
        let tids = Spi::get_one::<Vec<String>>(&format!(
            "SELECT array_agg(ctid::text ORDER BY chunk_seq) FROM pg_toast.{toast} \
             WHERE chunk_id = {valueid}"
        ))
        .unwrap()
        .unwrap()
        .iter()
        .map(|t| {
            let (b, o) = t.trim_matches(['(', ')']).split_once(',').unwrap();
            (b.parse().unwrap(), o.parse().unwrap())
        })
        .collect();
        let ext = pg_sys::varatt_external {
            va_rawsize: (SIZE + 4) as i32,
            va_extinfo: SIZE as u32,
            va_valueid: pg_sys::Oid::from(valueid),
            va_toastrelid: toastrel,
        };
        (ext, tids)
    }

    /// The value's bytes read by `toast_fetch::fetch_plain`.
    fn read(ext: &pg_sys::varatt_external) -> Vec<u8> {
        let (mut head, mut body) = ([0u8; 4], vec![0u8; SIZE - 4]);
        // SAFETY: `ext` names a plain value of table `tl`, read in this
        // transaction; the buffers add up to its size.
        unsafe { toast_fetch::fetch_plain(ext, SIZE, &mut head, &mut body) };
        [&head[..], &body[..]].concat()
    }

    /// The key of `ext` in the locations table.
    fn key(ext: &pg_sys::varatt_external) -> (u32, u32) {
        (u32::from(ext.va_toastrelid), u32::from(ext.va_valueid))
    }

    #[pg_test]
    fn toast_locations_are_checked_before_use() {
        Spi::run("CREATE TABLE tl (id int, v halfvec(2048))").unwrap();
        Spi::run(
            "INSERT INTO tl SELECT i, ('[' || (SELECT string_agg(round(sin(i * 7 + j * 0.3)::numeric, 3)::text, ',') \
             FROM generate_series(1, 2048) j) || ']')::halfvec FROM generate_series(0, 2) i ORDER BY i",
        )
        .unwrap();
        let (a, a_tids) = pointer(0);
        let (b, b_tids) = pointer(1);
        assert_eq!(a_tids.len(), 3);
        assert_ne!(a.va_valueid, b.va_valueid);
        toast_locations::remove(key(&a));
        let want = read(&a);
        let file = toast_locations::get(key(&a)).expect("remembered").file;
        assert_eq!(toast_locations::get(key(&a)).unwrap().tids(), &a_tids[..]);
        let hits = toast_locations::hits();
        assert_eq!(read(&a), want);
        assert_eq!(toast_locations::hits(), hits + 1, "read again by location");
        assert_ne!(read(&b), want);

        let wrong: [Vec<Tid>; 4] = [
            b_tids.clone(),                             // another value's chunks
            a_tids.iter().rev().copied().collect(),     // out of order
            vec![a_tids[0], a_tids[1]],                 // too few
            vec![(1_000_000, 1), a_tids[1], a_tids[2]], // past the relation's end
        ];
        for (i, tids) in wrong.iter().enumerate() {
            toast_locations::insert(key(&a), Locations::new(file, tids).unwrap());
            let hits = toast_locations::hits();
            assert_eq!(read(&a), want, "case {i}");
            assert_eq!(toast_locations::hits(), hits, "case {i} was not a hit");
            assert_eq!(
                toast_locations::get(key(&a)).unwrap().tids(),
                &a_tids[..],
                "case {i}"
            );
        }
        // Right places in another relation file: not used.
        toast_locations::insert(key(&a), Locations::new(file + 1, &a_tids).unwrap());
        let hits = toast_locations::hits();
        assert_eq!(read(&a), want);
        assert_eq!(toast_locations::hits(), hits);
        // A line pointer of the value that is no longer in use (the row
        // deleted and vacuumed cannot happen in one transaction): an offset
        // past the page's last one.
        let (blk, _) = a_tids[0];
        toast_locations::insert(
            key(&a),
            Locations::new(file, &[(blk, 200), a_tids[1], a_tids[2]]).unwrap(),
        );
        assert_eq!(read(&a), want);
    }
}
