//! Helpers shared by the integration tests (each tests/*.rs file includes this module).
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use opencim::{CreateFlags, ImagePath, ImageWriter, Metadata};

/// A fresh directory under the system temp dir, removed on drop (the tempfile crate is not in
/// the offline registry).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "opencim-rs-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const LAYER: &str = "layer.cim";

/// Writes a single-file block CIM `<dir>/<name>.bcim` holding `layer.cim`, filled by `fill`.
pub fn block_layer(dir: &TempDir, name: &str, flags: CreateFlags, fill: impl FnOnce(&mut ImageWriter)) -> ImagePath {
    let path = dir.join(&format!("{name}.bcim"));
    let mut w = ImageWriter::create_block(&path, LAYER, flags | CreateFlags::CONSISTENT).unwrap();
    fill(&mut w);
    w.commit().unwrap();
    ImagePath::new(path, LAYER)
}

pub fn mkdir(w: &mut ImageWriter, path: &str) {
    w.create_directory(path, &Metadata::directory()).unwrap();
}

pub fn file(w: &mut ImageWriter, path: &str, data: &str) {
    w.write_file(path, data.as_bytes()).unwrap();
}

/// Deterministic pseudo-random content of `len` bytes.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `code as u32` for readable assertions.
pub fn code(e: &opencim::Error) -> u32 {
    e.code() as u32
}
