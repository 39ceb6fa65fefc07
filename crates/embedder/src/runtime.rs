//! Loading the ONNX Runtime shared library, once per process.
//!
//! `ort` resolves the library with dlopen at run time (`load-dynamic`), so
//! the extension links against nothing and the library can live in the
//! extension's share directory. The path must be absolute: `ort` resolves a
//! relative one against the executable's folder, which for a backend is the
//! postgres binary's.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::error::{Error, Result};

/// File name of the ONNX Runtime library that scripts/fetch-runtime.sh installs.
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";

/// The loaded ONNX Runtime: the library path, its version and the environment.
#[derive(Debug, Clone)]
pub struct Runtime {
    path: PathBuf,
    version: String,
    environment: Environment,
}

/// The process's runtime, set by the first successful `Runtime::init`.
static RUNTIME: OnceLock<Runtime> = OnceLock::new();
/// Serialises initialisation so two threads cannot load two libraries.
static INIT_LOCK: Mutex<()> = Mutex::new(());

impl Runtime {
    /// Load ONNX Runtime from `lib_path` (absolute), or return the runtime already loaded from it.
    pub fn init(lib_path: impl AsRef<Path>) -> Result<Runtime> {
        let requested = lib_path.as_ref();
        if !requested.is_absolute() {
            return Err(Error::RuntimeLoad {
                path: requested.to_path_buf(),
                message: "the library path must be absolute".into(),
            });
        }
        if !requested.is_file() {
            return Err(Error::RuntimeMissing {
                path: requested.to_path_buf(),
            });
        }
        let _guard = INIT_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(runtime) = RUNTIME.get() {
            return if same_file(&runtime.path, requested) {
                Ok(runtime.clone())
            } else {
                Err(Error::RuntimeConflict {
                    loaded: runtime.path.clone(),
                    requested: requested.to_path_buf(),
                })
            };
        }
        let load_error = |message: String| Error::RuntimeLoad {
            path: requested.to_path_buf(),
            message,
        };
        let builder = ort::init_from(requested).map_err(|e| load_error(e.to_string()))?;
        let environment = builder
            .with_name("pgvision")
            .with_telemetry(false)
            .build()
            .map_err(|e| load_error(e.to_string()))?;
        let version = version_from_build_info(ort::info())
            .or_else(|| version_from_file_name(requested))
            .unwrap_or_else(|| "unknown".into());
        let runtime = Runtime {
            path: requested.to_path_buf(),
            version,
            environment,
        };
        Ok(RUNTIME.get_or_init(|| runtime).clone())
    }

    /// The runtime loaded in this process, if any.
    pub fn current() -> Option<Runtime> {
        RUNTIME.get().cloned()
    }

    /// Path of the loaded library.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// ONNX Runtime version, e.g. "1.31.1".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The `ort` environment sessions are created in.
    pub(crate) fn environment(&self) -> &Environment {
        &self.environment
    }
}

/// True when two paths name the same file (or are equal as given).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Extract "1.31.1" from a build-info string containing "git-branch=rel-1.31.1".
fn version_from_build_info(info: &str) -> Option<String> {
    let rest = &info[info.find("rel-")? + 4..];
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then_some(version)
}

/// Extract "1.31.1" from a library file name like "libonnxruntime.so.1.31.1".
fn version_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let version = &name[name.find(".so.")? + 4..];
    (version.split('.').count() == 3).then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::{version_from_build_info, version_from_file_name};
    use std::path::Path;

    #[test]
    fn parses_version() {
        let info = "ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc, build type=Release";
        assert_eq!(version_from_build_info(info).as_deref(), Some("1.31.1"));
        assert_eq!(version_from_build_info("no version"), None);
        let lib = Path::new("/x/libonnxruntime.so.1.31.1");
        assert_eq!(version_from_file_name(lib).as_deref(), Some("1.31.1"));
    }
}
