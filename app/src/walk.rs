//! Walking a folder for images: regular files with an image extension, in a
//! stable order, hidden files and symlinks left out.

use std::path::{Path, PathBuf};

/// Extensions (lowercase) of the formats image_embed decodes.
pub const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"];

/// An image file found by [`walk`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Where the file is.
    pub path: PathBuf,
    /// Its path relative to the walked folder, with `/` separators (stored as the name).
    pub name: String,
    /// Its size in bytes when walked.
    pub size: u64,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Image files, sorted by name.
    pub images: Vec<Candidate>,
    /// Regular files without an image extension, not loaded.
    pub ignored: usize,
    /// Entries that could not be read (name, reason).
    pub errors: Vec<(String, String)>,
}

/// Whether `path` has one of [`IMAGE_EXTENSIONS`] (case-insensitive).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `path` relative to `root` with `/` separators.
pub fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Walks `root` recursively (hidden entries and symlinks skipped), sorted by name.
pub fn walk(root: &Path) -> Walked {
    let mut out = Walked::default();
    let entries = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in entries {
        match entry {
            Err(e) => {
                let name = e.path().map(|p| relative_name(root, p)).unwrap_or_default();
                out.errors.push((name, e.to_string()));
            }
            Ok(e) if e.file_type().is_file() => {
                if !has_image_extension(e.path()) {
                    out.ignored += 1;
                    continue;
                }
                match e.metadata() {
                    Ok(m) => out.images.push(Candidate {
                        path: e.path().to_path_buf(),
                        name: relative_name(root, e.path()),
                        size: m.len(),
                    }),
                    Err(err) => out
                        .errors
                        .push((relative_name(root, e.path()), err.to_string())),
                }
            }
            Ok(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn extensions() {
        assert!(has_image_extension(Path::new("a/b.JPG")));
        assert!(has_image_extension(Path::new("x.tiff")));
        assert!(!has_image_extension(Path::new("x.txt")));
        assert!(!has_image_extension(Path::new("jpg")));
    }

    #[test]
    fn walks_sorted_skipping_hidden_and_others() {
        let root = std::env::temp_dir().join(format!("pgvision-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in [
            "b.png",
            "a.jpg",
            "sub/c.gif",
            "notes.txt",
            ".d.jpg",
            ".hidden/e.jpg",
        ] {
            fs::write(root.join(f), b"xyz").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a.jpg"), root.join("link.jpg")).unwrap();
        let w = walk(&root);
        let names: Vec<_> = w.images.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a.jpg", "b.png", "sub/c.gif"]);
        assert_eq!(w.ignored, 1);
        assert!(w.errors.is_empty());
        assert_eq!(w.images[0].size, 3);
        fs::remove_dir_all(&root).unwrap();
    }
}
