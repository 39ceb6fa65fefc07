//! Operator classes: what an index learns from its operator class, for
//! every index access method of the extension (hnsw and ivfflat read the
//! same table).
//!
//! # How an access method finds out what it indexes
//!
//! Each operator class declares, as Postgres AMs do, support functions by
//! number (the numbers are the same for every access method here):
//!
//! | number | function | used for |
//! | --- | --- | --- |
//! | 1 ([`DISTANCE_PROC`]) | the distance, `(T, T) -> float8` | documentation and pgvector compatibility (the index computes its own kernels) |
//! | 2 ([`NORM_PROC`]) | the norm, `(T) -> float8`, cosine classes only | likewise |
//! | 3 ([`INFO_PROC`]) | `pgvision_opclass_<type>_<metric>(internal) -> internal` | **the identity of the class**: returns its [`Opclass::id`] |
//!
//! The access method calls function 3 once per build, insert or scan
//! ([`of`], [`key_type_of`]) and gets a row of [`OPCLASSES`]: the key type
//! ([`KeyType`]: how to read a datum into the index's working form, an f32
//! slice; the type's index dimension limit; the metrics it has) and the
//! [`graph::Metric`]. The metric goes into the index's meta page at build
//! time, and scans and inserts take it from there: the `graph` crate picks
//! each distance's kernel by a `match` on that enum (one well-predicted
//! branch, inlined; never a function pointer or trait object per
//! distance). The key type's `read` is called once per row or query, not
//! per distance. Nothing is matched by a function's name.
//!
//! # Adding an operator class (`halfvec_l2_ops` was added this way)
//!
//! 0. If its type is new, the type itself lives in a module of its own
//!    (`src/halfvec/` is the example): a `VarlenaLayout` of a dozen lines
//!    gives it the shared wrapper, TOAST cache and pgrx conversions
//!    (`crate::pg::varlena`, `crate::pg::toast_cache`), its I/O functions
//!    call its pure crate, and `distance_function!`
//!    (`crate::pg::distance_fn`) makes its distance functions.
//! 1. If its type is new, add a [`KeyType`] static below: `read` turns a
//!    non-null datum of the type into f32s for the callback (see
//!    [`read_vector`], [`read_halfvec`], [`read_sparsevec`]), plus `max_dims` (what
//!    `CREATE INDEX` accepts, at most `pageformat::MAX_DIMS`) and the
//!    `metrics` it supports. A sparse type also gives `sparse`, which
//!    reads a datum as its non-zero elements ([`read_sparsevec_sparse`]):
//!    an index of it then holds sparse copies by default
//!    (`pageformat::Storage::Sparse`, any dimensions the type has).
//! 2. Add a row to [`OPCLASSES`] with a new, never reused `id`, its SQL
//!    name, the key type and the metric.
//! 3. Add `info_function!(pgvision_opclass_<type>_<metric>, pg_finfo_<same>, <id>);` below
//!    and its `CREATE FUNCTION` line to the `opclass_info_functions` SQL.
//! 4. Declare the class in the access method's SQL (`hnsw/mod.rs`):
//!    `OPERATOR 1 <op> (T, T) FOR ORDER BY float_ops`, `FUNCTION 1` the
//!    distance, `FUNCTION 2` the norm for cosine, and `FUNCTION 3
//!    pgvision_opclass_<type>_<metric>(internal)`. For an existing
//!    installation, the upgrade script adds the same (`CREATE FUNCTION`,
//!    then `CREATE OPERATOR CLASS`, or for a class that exists
//!    `ALTER OPERATOR FAMILY <class> USING hnsw ADD FUNCTION 3 (T, T) ...`).
//! 5. Test it as `tests/regress/sql/halfvec.sql` does: each class's index
//!    answers equal an exact scan's (`opclass.sql` lists every class's
//!    support functions and checks the selection itself).
//!
//! A metric the index has no kernel for needs a new [`graph::Metric`]
//! variant, its meta-page code ([`graph::Metric::code`]) and its f16
//! kernels and lower bound (`graph::lower_bound`) first, as Jaccard got
//! for `bit_jaccard_ops` (`bit_hamming_ops` is L1 over 0/1 floats).

use crate::error::raise;
use crate::vector::Vector;
use graph::Metric;
use pgrx::{pg_sys, PgSqlErrorCode};

/// Support function number of the distance function (declared by every
/// class; no access method here calls it, it only identifies the classes
/// of 0.1.0).
pub const DISTANCE_PROC: u16 = 1;
/// Support function number of the norm function (cosine classes;
/// declared, not called).
pub const NORM_PROC: u16 = 2;
/// Support function number of the function that names the class.
pub const INFO_PROC: u16 = 3;
/// Highest support function number (`amsupport`).
pub const SUPPORT_PROCS: u16 = 3;

/// [`KeyType::read`]: calls the callback with a non-null datum of the
/// type as f32s.
pub type ReadKey = unsafe fn(pg_sys::Datum, &mut dyn FnMut(&[f32]));

/// [`KeyType::sparse`]: calls the callback with a non-null datum of a
/// sparse type as its dimensions and its non-zero elements
/// [`distance::sparse::pack`]ed (ascending 0-based indices, then values).
pub type ReadSparse = unsafe fn(pg_sys::Datum, &mut dyn FnMut(usize, &[f32]));

/// How an index reads one SQL type.
pub struct KeyType {
    /// The SQL type's name.
    pub name: &'static str,
    /// Most dimensions an index of this type accepts.
    pub max_dims: usize,
    /// The metrics its operator classes may have.
    pub metrics: &'static [Metric],
    /// Calls the callback with a non-null datum of the type as f32s
    /// (detoasting into the current memory context, which the caller
    /// resets). Called once per row, never per distance.
    pub read: ReadKey,
    /// For a sparse type, reads it as its non-zero elements, for an index
    /// of sparse copies (`pageformat::Storage::Sparse`); None for the
    /// dense types.
    pub sparse: Option<ReadSparse>,
}

/// The `vector` type: its elements as they are.
pub static VECTOR: KeyType = KeyType {
    name: "vector",
    max_dims: pageformat::MAX_DIMS,
    metrics: &[Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1],
    read: read_vector,
    sparse: None,
};

/// [`KeyType::read`] of `vector`.
///
/// # Safety
/// `datum` is a non-null `vector` datum.
unsafe fn read_vector(datum: pg_sys::Datum, f: &mut dyn FnMut(&[f32])) {
    // SAFETY: forwarded from the caller.
    let v = unsafe { Vector::from_datum_unchecked(datum) };
    f(v.as_slice());
}

/// The `halfvec` type: its halves as float4 (exact).
pub static HALFVEC: KeyType = KeyType {
    name: "halfvec",
    max_dims: pageformat::MAX_DIMS,
    metrics: &[Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1],
    read: read_halfvec,
    sparse: None,
};

/// [`KeyType::read`] of `halfvec`.
///
/// # Safety
/// `datum` is a non-null `halfvec` datum.
unsafe fn read_halfvec(datum: pg_sys::Datum, f: &mut dyn FnMut(&[f32])) {
    // SAFETY: forwarded from the caller.
    let v = unsafe { crate::halfvec::Halfvec::from_datum_unchecked(datum) };
    let mut values = Vec::new();
    distance::half::decode_into(vectorcore::halfvec::bits(v.as_slice()), 1.0, &mut values);
    f(&values);
}

/// The `sparsevec` type: by its non-zero elements (up to
/// [`pageformat::SPARSE_MAX_NNZ`] of them, any dimensions the type has) in
/// an index of sparse copies, the default; densified to float4 in one of
/// `storage = 'half'` or `'i8'` (16,000 dimensions at most, as `vector`).
pub static SPARSEVEC: KeyType = KeyType {
    name: "sparsevec",
    max_dims: pageformat::SPARSE_MAX_DIMS,
    metrics: &[Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1],
    read: read_sparsevec,
    sparse: Some(read_sparsevec_sparse),
};

/// [`KeyType::sparse`] of `sparsevec`: pgvector's error past
/// [`pageformat::SPARSE_MAX_NNZ`] non-zero elements.
///
/// # Safety
/// `datum` is a non-null `sparsevec` datum.
unsafe fn read_sparsevec_sparse(datum: pg_sys::Datum, f: &mut dyn FnMut(usize, &[f32])) {
    // SAFETY: forwarded from the caller.
    let v = unsafe { crate::sparsevec::Sparsevec::from_datum_unchecked(datum) };
    let s = v.sparse();
    if s.indices.len() > pageformat::SPARSE_MAX_NNZ {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "sparsevec cannot have more than {} non-zero elements for hnsw index",
                pageformat::SPARSE_MAX_NNZ
            ),
            None,
        );
    }
    let indices: Vec<u32> = s.indices.iter().map(|&i| i as u32).collect();
    let mut packed = Vec::with_capacity(2 * indices.len());
    distance::sparse::pack(&indices, s.values, &mut packed);
    f(s.dim.max(0) as usize, &packed);
}

/// [`KeyType::read`] of `sparsevec`.
///
/// # Safety
/// `datum` is a non-null `sparsevec` datum.
unsafe fn read_sparsevec(datum: pg_sys::Datum, f: &mut dyn FnMut(&[f32])) {
    // SAFETY: forwarded from the caller.
    let v = unsafe { crate::sparsevec::Sparsevec::from_datum_unchecked(datum) };
    let s = v.sparse();
    if s.dim as usize > pageformat::MAX_DIMS {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "sparsevec cannot have more than {} dimensions for hnsw index",
                pageformat::MAX_DIMS
            ),
            None,
        );
    }
    f(&vectorcore::sparsevec::to_dense(s));
}

/// Most bits a `bit` index accepts, as in pgvector: an hnsw index packs
/// them (`pageformat::Storage::Bits`), and so does ivfflat
/// (`ivf::layout::Element::Bits`); hnsw's `half` and `i8` layouts hold a
/// float a bit and take at most 16,000 (`pageformat::MAX_DIMS`, see
/// `crate::pg::am::key_dims_up_to`).
pub const BIT_MAX_DIMS: usize = pageformat::MAX_BIT_DIMS;

/// Postgres' `bit` type, a bit a dimension as 0/1 floats (exact in the
/// index's f16 copies): Hamming distance is L1 over them.
pub static BIT: KeyType = KeyType {
    name: "bit",
    max_dims: BIT_MAX_DIMS,
    metrics: &[Metric::L1, Metric::Jaccard],
    read: read_bit,
    sparse: None,
};

/// [`KeyType::read`] of `bit`.
///
/// # Safety
/// `datum` is a non-null `bit` datum.
unsafe fn read_bit(datum: pg_sys::Datum, f: &mut dyn FnMut(&[f32])) {
    use pgrx::FromDatum;
    // SAFETY: forwarded from the caller.
    let Some(b) = (unsafe { crate::bit::Bit::from_datum(datum, false) }) else {
        return;
    };
    if b.len() > BIT.max_dims {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "bit cannot have more than {} dimensions for an index",
                BIT.max_dims
            ),
            None,
        );
    }
    f(&distance::bits::to_floats(b.bytes(), b.len()));
}

/// The length in bits of a non-null `bit` datum (a scan checks a query's
/// length before [`read_bit`] expands it).
///
/// # Safety
/// `datum` is a non-null `bit` datum.
unsafe fn bit_length(datum: pg_sys::Datum) -> usize {
    use pgrx::FromDatum;
    // SAFETY: forwarded from the caller.
    unsafe { crate::bit::Bit::from_datum(datum, false) }.map_or(0, |b| b.len())
}

/// A scan's query (a non-null datum of `index`'s key type) as f32s, with
/// the operators' error when its length is not the index's `dims`
/// ("different bit lengths" for `bit`, checked before the bits are
/// expanded; "different vector dimensions" otherwise).
///
/// # Safety
/// `datum` is a non-null value of the type of `index`'s operator class.
pub unsafe fn read_query(index: pg_sys::Relation, datum: pg_sys::Datum, dims: usize) -> Vec<f32> {
    let key_type = key_type_of(index);
    if std::ptr::eq(key_type, &BIT) {
        // SAFETY: forwarded from the caller.
        let len = unsafe { bit_length(datum) };
        if len != dims {
            raise(
                PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                format!("different bit lengths {dims} and {len}"),
                None,
            );
        }
    }
    let mut values = Vec::new();
    // SAFETY: forwarded from the caller.
    unsafe { (key_type.read)(datum, &mut |v| values.extend_from_slice(v)) };
    if values.len() != dims {
        crate::error::raise_vector(vectorcore::VectorError::DifferentDimensions {
            a: dims,
            b: values.len(),
        });
    }
    values
}

/// A scan's query of an index of sparse copies (a non-null datum of its
/// sparse key type), [`distance::sparse::pack`]ed, with the operators'
/// error when its dimensions are not the index's `dims`. Any number of
/// non-zero elements is fine here (as in pgvector, the limit is on what is
/// stored).
///
/// # Safety
/// `datum` is a non-null value of the type of `index`'s operator class.
pub unsafe fn read_sparse_query(
    index: pg_sys::Relation,
    datum: pg_sys::Datum,
    dims: usize,
) -> Vec<f32> {
    use crate::error::OrRaise;
    let key_type = key_type_of(index);
    if key_type.sparse.is_none() {
        raise(
            PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED,
            format!("index of sparse copies over type {}", key_type.name),
            None,
        );
    }
    // SAFETY: forwarded from the caller.
    let v = unsafe { crate::sparsevec::Sparsevec::from_datum_unchecked(datum) };
    let s = v.sparse();
    if s.dim as usize != dims {
        Err::<(), _>(vectorcore::sparsevec::SparsevecError::DifferentDimensions {
            a: dims as i32,
            b: s.dim,
        })
        .or_raise();
    }
    let indices: Vec<u32> = s.indices.iter().map(|&i| i as u32).collect();
    let mut packed = Vec::new();
    distance::sparse::pack(&indices, s.values, &mut packed);
    packed
}

/// The OID of a key type's SQL type: built in for `bit`, else the
/// extension's own.
fn type_oid(key: &KeyType) -> pg_sys::Oid {
    if std::ptr::eq(key, &BIT) {
        return pg_sys::BITOID;
    }
    let name = std::ffi::CString::new(key.name).expect("type names have no NUL");
    crate::catalog::extension_type(&name)
}

/// One operator class.
pub struct Opclass {
    /// What its support function 3 returns: never reused.
    pub id: u32,
    /// Its SQL name, for messages.
    pub name: &'static str,
    /// The type it indexes.
    pub key: &'static KeyType,
    /// The distance it orders by.
    pub metric: Metric,
}

/// Every operator class of the extension's vector indexes.
pub static OPCLASSES: [Opclass; 14] = [
    Opclass {
        id: 1,
        name: "vector_l2_ops",
        key: &VECTOR,
        metric: Metric::L2,
    },
    Opclass {
        id: 2,
        name: "vector_ip_ops",
        key: &VECTOR,
        metric: Metric::InnerProduct,
    },
    Opclass {
        id: 3,
        name: "vector_cosine_ops",
        key: &VECTOR,
        metric: Metric::Cosine,
    },
    Opclass {
        id: 4,
        name: "vector_l1_ops",
        key: &VECTOR,
        metric: Metric::L1,
    },
    Opclass {
        id: 5,
        name: "halfvec_l2_ops",
        key: &HALFVEC,
        metric: Metric::L2,
    },
    Opclass {
        id: 6,
        name: "halfvec_ip_ops",
        key: &HALFVEC,
        metric: Metric::InnerProduct,
    },
    Opclass {
        id: 7,
        name: "halfvec_cosine_ops",
        key: &HALFVEC,
        metric: Metric::Cosine,
    },
    Opclass {
        id: 8,
        name: "halfvec_l1_ops",
        key: &HALFVEC,
        metric: Metric::L1,
    },
    Opclass {
        id: 9,
        name: "sparsevec_l2_ops",
        key: &SPARSEVEC,
        metric: Metric::L2,
    },
    Opclass {
        id: 10,
        name: "sparsevec_ip_ops",
        key: &SPARSEVEC,
        metric: Metric::InnerProduct,
    },
    Opclass {
        id: 11,
        name: "sparsevec_cosine_ops",
        key: &SPARSEVEC,
        metric: Metric::Cosine,
    },
    Opclass {
        id: 12,
        name: "sparsevec_l1_ops",
        key: &SPARSEVEC,
        metric: Metric::L1,
    },
    Opclass {
        id: 13,
        name: "bit_hamming_ops",
        key: &BIT,
        metric: Metric::L1,
    },
    Opclass {
        id: 14,
        name: "bit_jaccard_ops",
        key: &BIT,
        metric: Metric::Jaccard,
    },
];

/// The class with `id`, if any.
pub fn by_id(id: u32) -> Option<&'static Opclass> {
    OPCLASSES.iter().find(|c| c.id == id)
}

/// The operator class of `index`'s (only) key column, through its
/// support function 3; None when the class has no such function (an
/// installation whose extension SQL predates it: see [`key_type_of`]).
fn lookup(index: pg_sys::Relation) -> Option<&'static Opclass> {
    // SAFETY: the index is open; INFO_PROC is within amsupport; the
    // function is ours (STRICT, `internal` in and out) and is called with
    // a non-null dummy argument it does not read.
    let id = unsafe {
        if pg_sys::index_getprocid(index, 1, INFO_PROC) == pg_sys::InvalidOid {
            return None;
        }
        let info = pg_sys::index_getprocinfo(index, 1, INFO_PROC);
        pg_sys::FunctionCall1Coll(info, pg_sys::InvalidOid, pg_sys::Datum::from(0usize))
    };
    let id = u32::try_from(id.value()).unwrap_or(u32::MAX);
    match by_id(id) {
        Some(c) => Some(c),
        None => raise(
            PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
            format!("operator class support function {INFO_PROC} returned unknown class {id}"),
            None,
        ),
    }
}

/// The operator class of `index`, for a build: through support function 3,
/// or for a `vector` class of 0.1.0 through its functions 1 and 2; an ERROR
/// when neither tells, or when the class pairs its type with a metric the
/// type does not have.
pub fn of(index: pg_sys::Relation) -> &'static Opclass {
    let Some(class) = lookup(index).or_else(|| legacy_vector_class(index)) else {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("operator class of index has no support function {INFO_PROC}"),
            Some("Run ALTER EXTENSION pgvision UPDATE to update the operator classes."),
        )
    };
    if !class.key.metrics.contains(&class.metric) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
            format!(
                "operator class \"{}\": type {} has no {:?} distance",
                class.name, class.key.name, class.metric
            ),
            None,
        );
    }
    // A class declared for another type than the one its function 3 names
    // (only a superuser can make one) would have `read` misread every row.
    // SAFETY: an open index has the input type of its key column's class.
    let input = unsafe { *(*index).rd_opcintype };
    if input != type_oid(class.key) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
            format!(
                "operator class support function {INFO_PROC} names {} of type {}, not the indexed column's type",
                class.name, class.key.name
            ),
            None,
        );
    }
    // A `varbit` column is binary coercible to a `bit` class, and has no
    // fixed length: pgvector refuses it.
    // SAFETY: an index relation has a tuple descriptor with one attribute here.
    let column = unsafe { (*crate::pgver::tuple_desc_attr((*index).rd_att, 0)).atttypid };
    if column == pg_sys::VARBITOID {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("type not supported for {} index", am_name(index)),
            None,
        );
    }
    class
}

/// The name of `index`'s access method (`hnsw`, `ivfflat`), for messages.
fn am_name(index: pg_sys::Relation) -> String {
    // SAFETY: an open relation has its pg_class row; get_am_name returns a
    // palloc'd copy or null.
    let name = unsafe { pg_sys::get_am_name((*(*index).rd_rel).relam) };
    if name.is_null() {
        return "this".into();
    }
    // SAFETY: a NUL-terminated string from the catalog.
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

/// The class of an index whose operator class is one of the four `vector`
/// classes of extension version 0.1.0, which had no support function 3
/// (binaries updated, `ALTER EXTENSION pgvision UPDATE` not yet run): known
/// by their support function 1, a function of the extension's own schema,
/// and for cosine by having a function 2. None for anything else.
fn legacy_vector_class(index: pg_sys::Relation) -> Option<&'static Opclass> {
    // SAFETY: the index is open and its support functions are within
    // amsupport; get_func_name returns a palloc'd copy or null.
    let (distance, norm) = unsafe {
        (
            pg_sys::index_getprocid(index, 1, DISTANCE_PROC),
            pg_sys::index_getprocid(index, 1, NORM_PROC),
        )
    };
    if distance == pg_sys::InvalidOid
        // SAFETY: a syscache lookup of an existing function's schema.
        || unsafe { pg_sys::get_func_namespace(distance) } != crate::catalog::extension_schema()
    {
        return None;
    }
    // SAFETY: as above; the name is read before the memory context resets.
    let name = unsafe {
        let p = pg_sys::get_func_name(distance);
        if p.is_null() {
            return None;
        }
        core::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    let id = match (name.as_str(), norm != pg_sys::InvalidOid) {
        ("vector_l2_squared_distance", false) => 1,
        ("vector_negative_inner_product", false) => 2,
        ("vector_negative_inner_product", true) => 3,
        ("l1_distance", false) => 4,
        _ => return None,
    };
    by_id(id)
}

/// The key type of `index`, for inserts, scans and checks of an index
/// that exists (its metric is on its meta page): `vector` when the class
/// has no support function 3 (only `vector` classes ever lacked it).
pub fn key_type_of(index: pg_sys::Relation) -> &'static KeyType {
    lookup(index).map_or(&VECTOR, |c| c.key)
}

/// Defines the C function `$sym` returning class `$id`, and its fmgr
/// info record.
macro_rules! info_function {
    ($sym:ident, $finfo:ident, $id:expr) => {
        /// fmgr's info record: a version-1 function.
        #[no_mangle]
        pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }

        /// Support function 3 of one operator class: its id in [`OPCLASSES`].
        /// Reads nothing, calls nothing, cannot fail.
        #[no_mangle]
        pub extern "C-unwind" fn $sym(_fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            pg_sys::Datum::from($id as usize)
        }
    };
}

info_function!(
    pgvision_opclass_vector_l2,
    pg_finfo_pgvision_opclass_vector_l2,
    1
);
info_function!(
    pgvision_opclass_vector_ip,
    pg_finfo_pgvision_opclass_vector_ip,
    2
);
info_function!(
    pgvision_opclass_vector_cosine,
    pg_finfo_pgvision_opclass_vector_cosine,
    3
);
info_function!(
    pgvision_opclass_vector_l1,
    pg_finfo_pgvision_opclass_vector_l1,
    4
);
info_function!(
    pgvision_opclass_halfvec_l2,
    pg_finfo_pgvision_opclass_halfvec_l2,
    5
);
info_function!(
    pgvision_opclass_halfvec_ip,
    pg_finfo_pgvision_opclass_halfvec_ip,
    6
);
info_function!(
    pgvision_opclass_halfvec_cosine,
    pg_finfo_pgvision_opclass_halfvec_cosine,
    7
);
info_function!(
    pgvision_opclass_halfvec_l1,
    pg_finfo_pgvision_opclass_halfvec_l1,
    8
);
info_function!(
    pgvision_opclass_sparsevec_l2,
    pg_finfo_pgvision_opclass_sparsevec_l2,
    9
);
info_function!(
    pgvision_opclass_sparsevec_ip,
    pg_finfo_pgvision_opclass_sparsevec_ip,
    10
);
info_function!(
    pgvision_opclass_sparsevec_cosine,
    pg_finfo_pgvision_opclass_sparsevec_cosine,
    11
);
info_function!(
    pgvision_opclass_sparsevec_l1,
    pg_finfo_pgvision_opclass_sparsevec_l1,
    12
);
info_function!(
    pgvision_opclass_bit_hamming,
    pg_finfo_pgvision_opclass_bit_hamming,
    13
);
info_function!(
    pgvision_opclass_bit_jaccard,
    pg_finfo_pgvision_opclass_bit_jaccard,
    14
);

pgrx::extension_sql!(
    r#"
CREATE FUNCTION pgvision_opclass_vector_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_vector_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_vector_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_vector_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_vector_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_halfvec_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_halfvec_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_halfvec_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_halfvec_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_halfvec_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_ip(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_sparsevec_l1(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_sparsevec_l1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_bit_hamming(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_bit_hamming' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pgvision_opclass_bit_jaccard(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'pgvision_opclass_bit_jaccard' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#,
    name = "opclass_info_functions",
);
