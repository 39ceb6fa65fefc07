//! Input and output of `sparsevec`: text, binary, typmod, and the CREATE TYPE.

use super::datum::Sparsevec;
use crate::error::OrRaise;
use core::ffi::CStr;
use pgrx::datum::Internal;
use pgrx::prelude::*;
use std::ffi::CString;
use vectorcore::sparsevec;

pgrx::extension_sql!(
    "CREATE TYPE sparsevec; -- shell type, completed below once its I/O functions exist\n",
    name = "sparsevec_shell",
    creates = [Type(Sparsevec)],
);

/// Text input: `{1:1.5,3:2}/5`, checked against the column's typmod.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_shell"])]
fn sparsevec_in(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> Sparsevec {
    let s = String::from_utf8_lossy(input.to_bytes());
    Sparsevec::new(&sparsevec::parse(&s, typmod).or_raise())
}

/// Text output: 1-based indices, each value as its shortest float4 decimal.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_shell"])]
fn sparsevec_out(v: Sparsevec) -> CString {
    CString::new(sparsevec::format(v.sparse())).expect("formatted vectors contain no NUL")
}

/// Type modifier input: `sparsevec(n)` with 1 <= n <= 1,000,000,000.
#[pg_extern(immutable, strict, parallel_safe)]
fn sparsevec_typmod_in(list: Array<&CStr>) -> i32 {
    let items: Vec<Option<String>> = list
        .iter()
        .map(|c| c.map(|c| String::from_utf8_lossy(c.to_bytes()).into_owned()))
        .collect();
    let items: Vec<Option<&str>> = items.iter().map(Option::as_deref).collect();
    sparsevec::typmod(&items).or_raise()
}

/// Binary input: big-endian int32 dim, nnz, unused, then 0-based int32
/// indices and float4 values.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_shell"])]
fn sparsevec_recv(mut buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> Sparsevec {
    // SAFETY: a type's receive function is always called with a StringInfo.
    let info = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }.expect("recv without buffer");
    let (cursor, len) = (info.cursor as usize, info.len as usize);
    // SAFETY: a StringInfo's `data` holds `len` initialised bytes and cursor <= len.
    let bytes =
        unsafe { core::slice::from_raw_parts(info.data.add(cursor) as *const u8, len - cursor) };
    let (v, used) = sparsevec::decode(bytes, typmod).or_raise();
    info.cursor += used as i32;
    Sparsevec::new(&v)
}

/// Binary output, the format `sparsevec_recv` reads.
#[pg_extern(immutable, strict, parallel_safe, requires = ["sparsevec_shell"])]
fn sparsevec_send(v: Sparsevec) -> Vec<u8> {
    sparsevec::encode(v.sparse())
}

pgrx::extension_sql!(
    r#"
CREATE TYPE sparsevec (
    INPUT = sparsevec_in,
    OUTPUT = sparsevec_out,
    TYPMOD_IN = sparsevec_typmod_in,
    RECEIVE = sparsevec_recv,
    SEND = sparsevec_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);
"#,
    name = "sparsevec_type",
    requires = [
        "sparsevec_shell",
        sparsevec_in,
        sparsevec_out,
        sparsevec_typmod_in,
        sparsevec_recv,
        sparsevec_send
    ],
);
