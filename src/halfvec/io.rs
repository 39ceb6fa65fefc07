//! Input and output of `halfvec`: text, binary, typmod, and the CREATE TYPE.

use super::datum::Halfvec;
use crate::error::OrRaise;
use core::ffi::CStr;
use pgrx::datum::Internal;
use pgrx::prelude::*;
use std::ffi::CString;
use vectorcore::halfvec;

pgrx::extension_sql!(
    "CREATE TYPE halfvec; -- shell type, completed below once its I/O functions exist\n",
    name = "halfvec_shell",
    creates = [Type(Halfvec)],
);

/// Text input: `[1,2,3]`, checked against the column's typmod.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_shell"])]
fn halfvec_in(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> Halfvec {
    let s = String::from_utf8_lossy(input.to_bytes());
    Halfvec::from_slice(&halfvec::parse(&s, typmod).or_raise())
}

/// Text output: each element as the shortest decimal of its float4 value.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_shell"])]
fn halfvec_out(v: Halfvec) -> CString {
    CString::new(halfvec::format(v.as_slice())).expect("formatted vectors contain no NUL")
}

/// Type modifier input: `halfvec(n)` with 1 <= n <= 16000.
#[pg_extern(immutable, strict, parallel_safe)]
fn halfvec_typmod_in(list: Array<&CStr>) -> i32 {
    let items: Vec<Option<String>> = list
        .iter()
        .map(|c| c.map(|c| String::from_utf8_lossy(c.to_bytes()).into_owned()))
        .collect();
    let items: Vec<Option<&str>> = items.iter().map(Option::as_deref).collect();
    halfvec::typmod(&items).or_raise()
}

/// Type modifier output: `(n)`, or nothing for an unconstrained column.
#[pg_extern(immutable, strict, parallel_safe)]
fn halfvec_typmod_out(typmod: i32) -> CString {
    let s = if typmod < 0 {
        String::new()
    } else {
        format!("({typmod})")
    };
    CString::new(s).expect("no NUL in a number")
}

/// Binary input: big-endian int16 dim, int16 unused, binary16 values.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_shell"])]
fn halfvec_recv(mut buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> Halfvec {
    // SAFETY: a type's receive function is always called with a StringInfo.
    let info = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }.expect("recv without buffer");
    let (cursor, len) = (info.cursor as usize, info.len as usize);
    // SAFETY: a StringInfo's `data` holds `len` initialised bytes and cursor <= len.
    let bytes =
        unsafe { core::slice::from_raw_parts(info.data.add(cursor) as *const u8, len - cursor) };
    let (values, used) = halfvec::decode(bytes, typmod).or_raise();
    info.cursor += used as i32;
    Halfvec::from_slice(&values)
}

/// Binary output, the format `halfvec_recv` reads.
#[pg_extern(immutable, strict, parallel_safe, requires = ["halfvec_shell"])]
fn halfvec_send(v: Halfvec) -> Vec<u8> {
    halfvec::encode(v.as_slice())
}

pgrx::extension_sql!(
    r#"
CREATE TYPE halfvec (
    INPUT = halfvec_in,
    OUTPUT = halfvec_out,
    TYPMOD_IN = halfvec_typmod_in,
    TYPMOD_OUT = halfvec_typmod_out,
    RECEIVE = halfvec_recv,
    SEND = halfvec_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double
);
"#,
    name = "halfvec_type",
    requires = [
        "halfvec_shell",
        halfvec_in,
        halfvec_out,
        halfvec_typmod_in,
        halfvec_typmod_out,
        halfvec_recv,
        halfvec_send
    ],
);
