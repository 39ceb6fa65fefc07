//! Input and output of `vector`: text, binary, typmod, and the CREATE TYPE.

use super::datum::Vector;
use crate::error::{raise, OrRaise};
use core::ffi::CStr;
use pgrx::datum::Internal;
use pgrx::prelude::*;
use std::ffi::CString;
use vectorcore::{binary, text, MAX_DIM};

pgrx::extension_sql!(
    "CREATE TYPE vector; -- shell type, completed below once its I/O functions exist\n",
    name = "vector_shell",
    creates = [Type(Vector)],
);

/// Text input: `[1,2,3]`, checked against the column's typmod.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_shell"])]
fn vector_in(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> Vector {
    let s = String::from_utf8_lossy(input.to_bytes());
    Vector::from_slice(&text::parse(&s, typmod).or_raise())
}

/// Text output with shortest round-trip floats: `[1.5,2,3]`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_shell"])]
fn vector_out(v: Vector) -> CString {
    CString::new(text::format(v.as_slice())).expect("formatted vectors contain no NUL")
}

/// Type modifier input: `vector(n)` with 1 <= n <= 16000.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_typmod_in(list: Array<&CStr>) -> i32 {
    let invalid = || -> ! {
        raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "invalid type modifier",
            None,
        )
    };
    if list.len() != 1 {
        invalid();
    }
    let text = list
        .get(0)
        .flatten()
        .map(|c| String::from_utf8_lossy(c.to_bytes()).into_owned());
    let n: i64 = match text.as_deref().map(str::trim).map(str::parse) {
        Some(Ok(n)) => n,
        _ => raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            format!(
                "invalid input syntax for type integer: \"{}\"",
                text.unwrap_or_default()
            ),
            None,
        ),
    };
    if n < 1 {
        raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "dimensions for type vector must be at least 1",
            None,
        );
    }
    if n > MAX_DIM as i64 {
        raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("dimensions for type vector cannot exceed {MAX_DIM}"),
            None,
        );
    }
    n as i32
}

/// Type modifier output: `(n)`, or nothing for an unconstrained column.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_typmod_out(typmod: i32) -> CString {
    let s = if typmod < 0 {
        String::new()
    } else {
        format!("({typmod})")
    };
    CString::new(s).expect("no NUL in a number")
}

/// Binary input: big-endian int16 dim, int16 unused, float4 values.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_shell"])]
fn vector_recv(mut buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> Vector {
    // SAFETY: a type's receive function is always called with a StringInfo.
    let info = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }.expect("recv without buffer");
    let (cursor, len) = (info.cursor as usize, info.len as usize);
    // SAFETY: a StringInfo's `data` holds `len` initialised bytes and cursor <= len.
    let bytes =
        unsafe { core::slice::from_raw_parts(info.data.add(cursor) as *const u8, len - cursor) };
    let (values, used) = binary::decode(bytes, typmod).or_raise();
    info.cursor += used as i32;
    Vector::from_slice(&values)
}

/// Binary output, the format `vector_recv` reads.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_shell"])]
fn vector_send(v: Vector) -> Vec<u8> {
    binary::encode(v.as_slice())
}

pgrx::extension_sql!(
    r#"
CREATE TYPE vector (
    INPUT = vector_in,
    OUTPUT = vector_out,
    TYPMOD_IN = vector_typmod_in,
    TYPMOD_OUT = vector_typmod_out,
    RECEIVE = vector_recv,
    SEND = vector_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double
);
"#,
    name = "vector_type",
    requires = [
        "vector_shell",
        vector_in,
        vector_out,
        vector_typmod_in,
        vector_typmod_out,
        vector_recv,
        vector_send
    ],
);
