//! A temporary file of the current transaction (Postgres' `BufFile`):
//! in `temp_tablespaces`, counted against `temp_file_limit`, and removed
//! at transaction end even when an ERROR ends it.

use pgrx::pg_sys;

/// `SEEK_CUR`, `BufFileSeek`'s relative `whence`.
const SEEK_CUR: core::ffi::c_int = 1;

/// An open temporary file, read and written through Postgres' buffered
/// file layer. Main thread only (it is not `Send`).
pub struct TempFile {
    file: *mut pg_sys::BufFile,
    /// Bytes written so far (its end).
    len: u64,
}

impl TempFile {
    /// A new, empty temporary file. Its buffer lives in the transaction's
    /// memory, not the caller's (a build's per-row context is reset after
    /// every row).
    pub fn create() -> TempFile {
        // SAFETY: creates a transaction-scoped temporary file; Postgres
        // raises an ERROR itself when it cannot. Its state is allocated in
        // TopTransactionContext, which outlives it (closed by `drop`, or
        // by the transaction's end).
        let file = unsafe {
            pgrx::PgMemoryContexts::TopTransactionContext
                .switch_to(|_| pg_sys::BufFileCreateTemp(false))
        };
        TempFile { file, len: 0 }
    }

    /// Bytes in the file: where its end is.
    pub fn end(&self) -> u64 {
        self.len
    }

    /// Appends `bytes` at the end (the position must be the end: after
    /// [`TempFile::create`], an append, or [`TempFile::seek`] to its end).
    pub fn append(&mut self, bytes: &[u8]) {
        self.write(bytes);
        self.len += bytes.len() as u64;
    }

    /// Writes `bytes` over those at the current position, within the file.
    pub fn overwrite(&mut self, bytes: &[u8]) {
        self.write(bytes);
    }

    /// Writes `bytes` at the current position.
    fn write(&mut self, bytes: &[u8]) {
        // SAFETY: the file is open; BufFileWrite copies `bytes` and raises
        // an ERROR on failure (disk full, temp_file_limit). Its pointer is
        // `const` from PostgreSQL 16 on: a `*mut` coerces to either.
        unsafe { pg_sys::BufFileWrite(self.file, bytes.as_ptr() as *mut _, bytes.len()) };
    }

    /// Moves to byte `at` of the file (at most its length).
    pub fn seek(&mut self, at: u64) {
        assert!(at <= self.len, "seek past the end of a temporary file");
        let block = at / pg_sys::BLCKSZ as u64;
        // SAFETY: the file is open; both positions lie within it. The
        // block seek picks the segment of a file past 1 GB; the relative
        // seek then moves within the block.
        let failed = unsafe {
            pg_sys::BufFileSeekBlock(self.file, block as _) != 0
                || pg_sys::BufFileSeek(
                    self.file,
                    0,
                    (at % pg_sys::BLCKSZ as u64) as pg_sys::off_t,
                    SEEK_CUR,
                ) != 0
        };
        if failed {
            crate::error::raise(
                pgrx::PgSqlErrorCode::ERRCODE_IO_ERROR,
                format!("could not seek to byte {at} of a temporary file"),
                None,
            );
        }
    }

    /// Fills `out` from the current position; an ERROR if the file ends first.
    pub fn read_exact(&mut self, out: &mut [u8]) {
        // SAFETY: the file is open and `out` is writable for its length.
        let got = unsafe { pg_sys::BufFileRead(self.file, out.as_mut_ptr().cast(), out.len()) };
        if got != out.len() {
            crate::error::raise(
                pgrx::PgSqlErrorCode::ERRCODE_IO_ERROR,
                format!(
                    "could not read {} bytes from a temporary file: read only {got}",
                    out.len()
                ),
                None,
            );
        }
    }
}

impl Drop for TempFile {
    /// Closes and removes the file; while an ERROR unwinds, leaves that to
    /// the transaction's abort (a close flushes, and could raise again).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // SAFETY: the file is open and closed once, on the main thread.
        unsafe { pg_sys::BufFileClose(self.file) };
    }
}
