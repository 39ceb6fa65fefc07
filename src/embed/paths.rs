//! Default locations of the ONNX Runtime library and the models, under
//! Postgres' share directory (where scripts/fetch-runtime.sh --install puts them).

use std::ffi::CStr;
use std::path::PathBuf;

use pgrx::pg_sys;

/// `<sharedir>/extension/pgvision`, from the running server's own paths.
pub fn extension_share_dir() -> PathBuf {
    let mut buf = [0 as core::ffi::c_char; pg_sys::MAXPGPATH as usize];
    // SAFETY: my_exec_path is the NUL-terminated path of the postgres binary,
    // set at startup; get_share_path writes at most MAXPGPATH bytes into buf.
    let share = unsafe {
        pg_sys::get_share_path(
            core::ptr::addr_of!(pg_sys::my_exec_path).cast::<core::ffi::c_char>(),
            buf.as_mut_ptr(),
        );
        CStr::from_ptr(buf.as_ptr())
    };
    PathBuf::from(share.to_string_lossy().into_owned()).join("extension/pgvision")
}

/// The default models folder: `<sharedir>/extension/pgvision/models`.
pub fn default_models_dir() -> PathBuf {
    extension_share_dir().join("models")
}

/// The default ONNX Runtime library: the GPU build under `gpu/lib` when this is
/// a cuda build and it was installed, else the CPU build under `lib`.
pub fn default_library() -> PathBuf {
    let share = extension_share_dir();
    if cfg!(feature = "cuda") {
        let gpu = share.join("gpu/lib").join(embedder::ORT_LIB_NAME);
        if gpu.is_file() {
            return gpu;
        }
    }
    share.join("lib").join(embedder::ORT_LIB_NAME)
}
