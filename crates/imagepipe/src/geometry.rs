//! Torchvision's size arithmetic for `Resize(int)` and `CenterCrop(int)`.

/// Size after resizing the shorter side of `(w, h)` to `shorter`, as
/// torchvision computes it: `int(shorter * long / short)` for the long side.
///
/// Returns `u64` because a hostile aspect ratio (1 x 16384) can make the
/// virtual resized image far larger than anything we would allocate; only
/// the crop window of it is ever computed.
pub fn resized_size(w: u32, h: u32, shorter: u32) -> (u64, u64) {
    let (short, long) = if w <= h { (w, h) } else { (h, w) };
    let new_long = (f64::from(shorter) * f64::from(long) / f64::from(short)) as u64;
    let new_short = u64::from(shorter);
    if w <= h {
        (new_short, new_long)
    } else {
        (new_long, new_short)
    }
}

/// Offset of a centered crop of `crop` out of `size`, as torchvision's
/// `int(round((size - crop) / 2.0))` (Python rounds half to even).
pub fn crop_offset(size: u64, crop: u64) -> u64 {
    debug_assert!(size >= crop);
    let diff = size - crop;
    let half = diff / 2;
    // diff / 2.0 ends in .5 exactly when diff is odd; round half to even.
    if diff % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resized sizes match torchvision's `int(size * long / short)`.
    #[test]
    fn resized_matches_torchvision() {
        assert_eq!(resized_size(640, 480, 256), (341, 256));
        assert_eq!(resized_size(480, 640, 256), (256, 341));
        assert_eq!(resized_size(100, 100, 256), (256, 256));
        assert_eq!(resized_size(100, 77, 56), (72, 56));
        assert_eq!(resized_size(1, 16384, 256), (256, 4_194_304));
    }

    /// Crop offsets round half to even like Python's `round`.
    #[test]
    fn crop_rounds_half_to_even() {
        assert_eq!(crop_offset(256, 224), 16);
        assert_eq!(crop_offset(72, 48), 12);
        assert_eq!(crop_offset(5, 0), 2); // 2.5 -> 2
        assert_eq!(crop_offset(7, 0), 4); // 3.5 -> 4
        assert_eq!(crop_offset(93, 64), 14); // 14.5 -> 14
        assert_eq!(crop_offset(95, 64), 16); // 15.5 -> 16
        assert_eq!(crop_offset(48, 48), 0);
    }
}
