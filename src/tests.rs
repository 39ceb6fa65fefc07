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
}
