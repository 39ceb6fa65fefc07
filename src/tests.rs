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
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'up_idx'::regclass::oid")
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

    #[pg_test]
    fn scan_lower_bounds_never_exceed_the_operators() {
        use crate::hnsw::scan::lower_bound;
        use crate::vector::functions as f;
        use distance::half::HalfVector;
        use graph::Metric;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        use crate::vector::toast_cache::VectorArg;
        type Operator = fn(VectorArg, VectorArg) -> f64;
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
                        let (a, b) = (Vector::from_slice(&q), Vector::from_slice(&x));
                        let exact = operator(VectorArg::Own(a), VectorArg::Own(b));
                        assert!(
                            bound <= exact,
                            "{metric:?} dims {dims} scale {scale} near {near}: bound {bound} > {exact}"
                        );
                    }
                }
            }
        }
    }
}
