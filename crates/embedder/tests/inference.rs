//! Runs ONNX Runtime for real on the generated models (scripts/fetch-runtime.sh).

mod common;

use common::{batch, manifest, model, models_dir, runtime};
use embedder::{Device, Error, Model, Provider, SessionOptions};

#[test]
fn tiny_output_has_manifest_dims() {
    for (name, dims) in [("tiny16", 16), ("tiny2048", 2048)] {
        let mut m = model(name);
        let out = m.embed(batch(3, 32, 1).view()).unwrap();
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|v| v.len() == dims), "{name}");
        assert!(out.iter().flatten().all(|x| x.is_finite()));
        assert_ne!(out[0], out[1], "different images give different embeddings");
    }
}

#[test]
fn runtime_info_reports_version_provider_and_model() {
    let m = model("tiny16");
    let info = m.runtime_info();
    assert_eq!(info.ort_version, "1.31.1");
    assert_eq!(info.provider, Provider::Cpu);
    assert_eq!(info.fallback_reason, None, "cpu was asked for");
    assert_eq!(info.model, "tiny16");
    assert_eq!(info.dims, 16);
    assert!(info.to_string().contains("onnx runtime 1.31.1"), "{info}");
}

#[test]
fn auto_device_reports_the_provider_in_use() {
    let options = SessionOptions {
        device: Device::Auto,
        ..SessionOptions::default()
    };
    let m = Model::load(&runtime(), manifest("tiny16"), models_dir(), &options).unwrap();
    if cfg!(feature = "cuda") && m.provider() == Provider::Cuda {
        assert_eq!(m.fallback_reason(), None);
    } else {
        assert_eq!(m.provider(), Provider::Cpu);
        assert!(m.fallback_reason().is_some(), "a cpu fallback says why");
    }
}

#[test]
fn embeddings_are_deterministic() {
    let input = batch(2, 32, 7);
    let mut a = model("tiny2048");
    let mut b = model("tiny2048");
    let first = a.embed(input.view()).unwrap();
    assert_eq!(
        first,
        a.embed(input.view()).unwrap(),
        "same session, same bits"
    );
    assert_eq!(
        first,
        b.embed(input.view()).unwrap(),
        "fresh session, same bits"
    );
}

#[test]
fn batch_equals_single_runs() {
    let n = 5;
    let input = batch(n, 32, 3);
    let mut m = model("tiny2048");
    let batched = m.embed(input.view()).unwrap();
    assert_eq!(batched.len(), n);
    for (i, row) in batched.iter().enumerate() {
        let single = m
            .embed(input.slice(ndarray::s![i..i + 1, .., .., ..]))
            .unwrap();
        for (x, y) in single[0].iter().zip(row) {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                "image {i}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn non_contiguous_input_is_accepted() {
    let input = batch(4, 32, 9);
    let mut m = model("tiny16");
    let strided = input.slice(ndarray::s![..;2, .., .., ..]);
    assert!(!strided.is_standard_layout());
    let expected = m.embed(strided.to_owned().view()).unwrap();
    assert_eq!(m.embed(strided).unwrap(), expected);
}

#[test]
fn empty_batch_gives_no_embeddings() {
    let mut m = model("tiny16");
    assert!(m.embed(batch(0, 32, 0).view()).unwrap().is_empty());
}

#[test]
fn wrong_input_shape_is_refused() {
    let mut m = model("tiny16");
    for (n, side) in [(1, 224), (2, 31)] {
        let err = m.embed(batch(n, side, 0).view()).unwrap_err();
        assert!(matches!(err, Error::InputShape { .. }), "{err}");
        assert_eq!(err.sqlstate(), "22023");
    }
    let one_channel = ndarray::Array4::<f32>::zeros((1, 1, 32, 32));
    let err = m.embed(one_channel.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "model \"tiny16\" expects input of shape [n, 3, 32, 32], not [1, 1, 32, 32]"
    );
}

#[test]
fn non_finite_input_is_refused() {
    let mut m = model("tiny16");
    let mut input = batch(1, 32, 0);
    input[[0, 1, 2, 3]] = f32::NAN;
    assert!(matches!(
        m.embed(input.view()),
        Err(Error::InputNotFinite { .. })
    ));
}

#[test]
fn checksum_mismatch_is_refused() {
    let dir = std::env::temp_dir().join(format!("pgvision-embedder-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = manifest("tiny16");
    let mut bytes = std::fs::read(models_dir().join(&good.file)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1; // still a valid-looking file, different bytes
    std::fs::write(dir.join(&good.file), &bytes).unwrap();
    let err = Model::load(&runtime(), good.clone(), &dir, &SessionOptions::cpu()).unwrap_err();
    match &err {
        Error::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &good.sha256);
            assert_ne!(actual, &good.sha256);
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    assert_eq!(err.sqlstate(), "XX001");
    // The right bytes under a manifest pinning another checksum are refused too.
    let mut wrong = good.clone();
    wrong.sha256 = "0".repeat(64);
    let err = Model::load(&runtime(), wrong, models_dir(), &SessionOptions::cpu()).unwrap_err();
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_model_file_is_reported() {
    let dir = std::env::temp_dir().join("pgvision-embedder-test-empty");
    std::fs::create_dir_all(&dir).unwrap();
    let err =
        Model::load(&runtime(), manifest("tiny16"), &dir, &SessionOptions::cpu()).unwrap_err();
    assert!(matches!(err, Error::ModelMissing { .. }), "{err}");
    assert!(err.to_string().contains("run scripts/fetch-runtime.sh"));
}

#[test]
fn manifest_disagreeing_with_graph_is_refused() {
    let mut wrong = manifest("tiny16");
    wrong.dims = 17;
    let err = Model::load(&runtime(), wrong, models_dir(), &SessionOptions::cpu()).unwrap_err();
    assert!(matches!(err, Error::ModelMismatch { .. }), "{err}");
    let mut wrong = manifest("tiny16");
    wrong.input = "pixels".into();
    let err = Model::load(&runtime(), wrong, models_dir(), &SessionOptions::cpu()).unwrap_err();
    assert!(matches!(err, Error::ModelMismatch { .. }), "{err}");
}

#[test]
fn efficientnet_lite0_gives_1280_dims() {
    let mut m = model("efficientnet_lite0");
    let out = m.embed(batch(2, 224, 5).view()).unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|v| v.len() == 1280));
    assert!(
        out.iter().flatten().all(|x| x.is_finite() && *x >= 0.0),
        "pooled relu6 features"
    );
}

#[test]
fn missing_runtime_library_is_reported() {
    let err = embedder::Runtime::init("/nonexistent/libonnxruntime.so.1.31.1").unwrap_err();
    assert!(matches!(err, Error::RuntimeMissing { .. }), "{err}");
    assert!(
        err.to_string().contains("run scripts/fetch-runtime.sh"),
        "{err}"
    );
    let err = embedder::Runtime::init("relative/libonnxruntime.so").unwrap_err();
    assert!(matches!(err, Error::RuntimeLoad { .. }), "{err}");
}
