//! Loading the library, in its own process: a bad file first, then the real one.

mod common;

use embedder::{Error, Runtime};

#[test]
fn bad_library_then_real_then_conflict() {
    // A file that is not a shared library is refused with a load error...
    let bogus =
        std::env::temp_dir().join(format!("pgvision-not-a-library-{}.so", std::process::id()));
    std::fs::write(&bogus, b"not a library").unwrap();
    let err = Runtime::init(&bogus).unwrap_err();
    assert!(matches!(err, Error::RuntimeLoad { .. }), "{err}");
    assert!(
        err.to_string().starts_with("cannot load onnx runtime from"),
        "{err}"
    );
    // ...and leaves the process free to load the real library.
    let runtime = common::runtime();
    assert_eq!(runtime.version(), "1.31.1");
    assert!(Runtime::current().is_some());
    assert_eq!(
        Runtime::init(common::ort_lib()).unwrap().path(),
        runtime.path(),
        "init is idempotent"
    );
    // Another library cannot replace it in the same process.
    let err = Runtime::init(&bogus).unwrap_err();
    assert!(matches!(err, Error::RuntimeConflict { .. }), "{err}");
    std::fs::remove_file(&bogus).unwrap();
}
