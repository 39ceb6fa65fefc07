//! Content types of stored images, from their magic bytes (never from names).

/// The MIME type of `bytes` by magic number; `application/octet-stream` when unknown.
pub fn content_type(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', ..] => "image/png",
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => "image/gif",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        [b'B', b'M', ..] => "image/bmp",
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => "image/tiff",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(content_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), "image/jpeg");
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(content_type(b"GIF89a...."), "image/gif");
        assert_eq!(content_type(b"GIF87a...."), "image/gif");
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"BM\0\0"), "image/bmp");
        assert_eq!(content_type(b"II*\0...."), "image/tiff");
        assert_eq!(content_type(b"MM\0*...."), "image/tiff");
        assert_eq!(content_type(b"<html>"), "application/octet-stream");
        assert_eq!(content_type(b""), "application/octet-stream");
        assert_eq!(
            content_type(b"RIFF\0\0\0\0WAVE"),
            "application/octet-stream"
        );
    }
}
