//! The pipeline's contract: shapes, layouts, EXIF orientation, batching
//! and parameter handling.

mod common;

use common::{fixture, imagenet, small, IMAGES};
use imagepipe::{
    decode, preprocess, preprocess_batch, preprocess_bytes, stack, stack_ok, Array3, ChannelOrder,
    Error, Layout, Limits, Preprocess, RgbImage, ValueScale,
};
use ndarray::{Axis, Ix3};

/// The 256 -> 224 ImageNet transform gives [3, 224, 224] for any input shape.
#[test]
fn imagenet_config_gives_3x224x224() {
    for name in IMAGES {
        let t = preprocess_bytes(&fixture(name), &imagenet(), &Limits::default()).unwrap();
        assert_eq!(t.shape(), &[3, 224, 224], "{name}");
        assert!(t.iter().all(|v| v.is_finite()));
    }
    // A photo-sized image: 640x480 resizes to 341x256, then crops to 224.
    let img = RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
    });
    assert_eq!(
        preprocess(&img, &imagenet()).unwrap().shape(),
        &[3, 224, 224]
    );
    // Tall, wide and tiny images all give the model's input shape.
    for (w, h) in [(1, 3000), (3000, 1), (1, 1), (223, 224), (10_000, 2)] {
        let img = RgbImage::from_pixel(w, h, image::Rgb([1, 2, 3]));
        assert_eq!(
            preprocess(&img, &imagenet()).unwrap().shape(),
            &[3, 224, 224],
            "{w}x{h}"
        );
    }
}

/// NHWC holds the same values as NCHW, transposed.
#[test]
fn nhwc_is_a_permutation_of_nchw() {
    let bytes = fixture("rgb.jpg");
    let nchw = preprocess_bytes(&bytes, &small(), &Limits::default()).unwrap();
    let p = Preprocess {
        layout: Layout::Nhwc,
        ..small()
    };
    let nhwc = preprocess_bytes(&bytes, &p, &Limits::default()).unwrap();
    assert_eq!(nhwc.shape(), &[48, 48, 3]);
    assert_eq!(nhwc, nchw.permuted_axes([1, 2, 0]));
}

/// BGR order reverses the channels (with the manifest's stats in BGR order).
#[test]
fn bgr_swaps_channels_and_their_statistics() {
    let bytes = fixture("rgba.png");
    let rgb = preprocess_bytes(&bytes, &small(), &Limits::default()).unwrap();
    let s = small();
    let p = Preprocess {
        channel_order: ChannelOrder::Bgr,
        mean: [s.mean[2], s.mean[1], s.mean[0]],
        std: [s.std[2], s.std[1], s.std[0]],
        ..s
    };
    let bgr = preprocess_bytes(&bytes, &p, &Limits::default()).unwrap();
    for c in 0..3 {
        assert_eq!(bgr.index_axis(Axis(0), c), rgb.index_axis(Axis(0), 2 - c));
    }
}

/// The byte value scale skips the division by 255.
#[test]
fn byte_scale_keeps_pixel_values() {
    let p = Preprocess {
        value_scale: ValueScale::Byte,
        mean: [0.0; 3],
        std: [1.0; 3],
        ..small()
    };
    let img = RgbImage::from_pixel(100, 60, image::Rgb([10, 128, 250]));
    let t = preprocess(&img, &p).unwrap();
    for (c, v) in [10.0, 128.0, 250.0].into_iter().enumerate() {
        assert!(t.index_axis(Axis(0), c).iter().all(|x| *x == v));
    }
    let unit = preprocess(
        &img,
        &Preprocess {
            value_scale: ValueScale::Unit,
            ..p
        },
    )
    .unwrap();
    assert_eq!(unit[[0, 0, 0]], 10.0 / 255.0);
}

/// Removes every APP1 (EXIF) segment from a JPEG.
fn strip_exif(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut i = 2;
    while jpeg[i] == 0xff && jpeg[i + 1] != 0xda {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if jpeg[i + 1] != 0xe1 {
            out.extend_from_slice(&jpeg[i..i + 2 + len]);
        }
        i += 2 + len;
    }
    out.extend_from_slice(&jpeg[i..]);
    out
}

/// EXIF orientation 6 rotates the decoded image 90 degrees clockwise.
#[test]
fn exif_orientation_rotates() {
    let with_exif = fixture("exif_rot6.jpg");
    let without = strip_exif(&with_exif);
    assert!(
        without.len() < with_exif.len(),
        "the fixture has an APP1 segment"
    );
    let stored = decode(&without, &Limits::default()).unwrap();
    let shown = decode(&with_exif, &Limits::default()).unwrap();
    assert_eq!(stored.dimensions(), (150, 100));
    assert_eq!(shown.dimensions(), (100, 150));
    // Orientation 6: rotate 90 degrees clockwise to display.
    assert_eq!(shown, image::imageops::rotate90(&stored));
    assert_ne!(shown, image::imageops::rotate270(&stored));
}

/// A mixed batch: every fixture plus inputs that fail in different ways.
fn mixed_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = IMAGES.iter().map(|n| fixture(n)).collect();
    let jpeg = fixture("rgb.jpg");
    inputs.insert(3, Vec::new());
    inputs.insert(5, b"%PDF-1.5 not an image".to_vec());
    inputs.insert(8, jpeg[..jpeg.len() / 2].to_vec());
    inputs.push(common::png_claiming(100_000, 100_000));
    inputs
}

/// The parallel batch gives exactly the one-by-one results, and stacks them in order.
#[test]
fn batch_equals_one_by_one() {
    let inputs = mixed_inputs();
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    for p in [
        small(),
        imagenet(),
        Preprocess {
            layout: Layout::Nhwc,
            ..small()
        },
    ] {
        let batch = preprocess_batch(&refs, &p, &Limits::default());
        let single: Vec<_> = refs
            .iter()
            .map(|b| preprocess_bytes(b, &p, &Limits::default()))
            .collect();
        assert_eq!(batch, single);
        assert_eq!(batch.iter().filter(|r| r.is_err()).count(), 4);
        assert_eq!(batch[3], Err(Error::Empty));
        assert!(matches!(batch[5], Err(Error::UnsupportedFormat(_))));
        assert!(matches!(batch[8], Err(Error::Corrupt(_))));
        assert!(matches!(batch.last(), Some(Err(Error::TooLarge(_)))));

        let stacked = stack_ok(&batch, &p).unwrap();
        let ok_rows: Vec<usize> = (0..batch.len()).filter(|i| batch[*i].is_ok()).collect();
        assert_eq!(stacked.rows, ok_rows);
        let s = p.image_shape();
        assert_eq!(stacked.tensor.shape(), &[ok_rows.len(), s[0], s[1], s[2]]);
        for (j, &i) in stacked.rows.iter().enumerate() {
            assert_eq!(
                &stacked.tensor.index_axis(Axis(0), j),
                batch[i].as_ref().unwrap()
            );
        }
    }
}

/// Stacking refuses tensors of the wrong shape and handles empty batches.
#[test]
fn stacking_checks_shapes() {
    let p = small();
    let empty = stack(&[], &p).unwrap();
    assert_eq!(empty.shape(), &[0, 3, 48, 48]);
    let all_failed = stack_ok(&[Err(Error::Empty)], &p).unwrap();
    assert_eq!(all_failed.tensor.shape(), &[0, 3, 48, 48]);
    assert!(all_failed.rows.is_empty());
    let wrong: Array3<f32> = Array3::zeros((3, 47, 48));
    assert!(matches!(
        stack(&[wrong], &p),
        Err(Error::InvalidParameters(_))
    ));
    let right = Array3::<f32>::ones((3, 48, 48))
        .into_dimensionality::<Ix3>()
        .unwrap();
    assert_eq!(
        stack(&[right.clone(), right], &p).unwrap().shape(),
        &[2, 3, 48, 48]
    );
}

/// Parameters round-trip through JSON; typos in a manifest are refused.
#[test]
fn parameters_from_json() {
    let p = imagenet();
    assert_eq!(p.channel_order, ChannelOrder::Rgb);
    assert_eq!(p.layout, Layout::Nchw);
    assert_eq!(p.value_scale, ValueScale::Unit);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Preprocess>(&json).unwrap(), p);
    let bicubic = json.replace("bilinear", "bicubic");
    assert_eq!(
        serde_json::from_str::<Preprocess>(&bicubic)
            .unwrap()
            .interpolation,
        imagepipe::Interpolation::Bicubic
    );
    // Unknown filters, unknown fields and missing fields are refused.
    assert!(serde_json::from_str::<Preprocess>(&json.replace("bilinear", "nearest")).is_err());
    assert!(serde_json::from_str::<Preprocess>(&json.replace("\"mean\"", "\"means\"")).is_err());
    assert!(serde_json::from_str::<Preprocess>(r#"{"input_size": 224}"#).is_err());
}

/// Unusable parameters are `InvalidParameters` wherever they enter.
#[test]
fn invalid_parameters_are_refused() {
    let img = RgbImage::from_pixel(10, 10, image::Rgb([0, 0, 0]));
    let bad = [
        Preprocess {
            input_size: 0,
            ..imagenet()
        },
        Preprocess {
            resize_shorter: 200,
            ..imagenet()
        },
        Preprocess {
            input_size: 100_000,
            resize_shorter: 100_000,
            ..imagenet()
        },
        Preprocess {
            std: [0.2, 0.0, 0.2],
            ..imagenet()
        },
        Preprocess {
            mean: [f32::NAN, 0.0, 0.0],
            ..imagenet()
        },
    ];
    for p in bad {
        assert!(
            matches!(p.validate(), Err(Error::InvalidParameters(_))),
            "{p:?}"
        );
        assert!(matches!(
            preprocess(&img, &p),
            Err(Error::InvalidParameters(_))
        ));
        assert!(matches!(
            preprocess_bytes(&fixture("gray.png"), &p, &Limits::default()),
            Err(Error::InvalidParameters(_))
        ));
    }
    assert!(matches!(
        preprocess(&RgbImage::new(0, 5), &imagenet()),
        Err(Error::Corrupt(_))
    ));
}
