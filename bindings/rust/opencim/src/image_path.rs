//! One image of a merged open or mount (`CIMFS_IMAGE_PATH`).
use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::util::{path_cstr, str_cstr};
use opencim_sys as sys;

/// Where a CIM lives: for a block CIM the block file (or device) and the CIM's name inside it;
/// for a standard CIM the directory and the `.cim` file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImagePath {
    pub dir: PathBuf,
    pub name: String,
}

impl ImagePath {
    pub fn new(dir: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        ImagePath { dir: dir.into(), name: name.into() }
    }

    /// `<block path>/<cim name>`: how `CimAddFsToMergedImage` names a block CIM source.
    pub fn fs_path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }
}

impl<P: AsRef<Path>, S: AsRef<str>> From<(P, S)> for ImagePath {
    fn from((dir, name): (P, S)) -> Self {
        ImagePath::new(dir.as_ref(), name.as_ref())
    }
}

/// C strings for a list of image paths plus the `CIMFS_IMAGE_PATH` array pointing into them.
/// The array is valid while this value lives (the CStrings' heap buffers do not move).
pub(crate) struct RawImagePaths {
    _strings: Vec<(CString, CString)>,
    pub(crate) raw: Vec<sys::CIMFS_IMAGE_PATH>,
}

impl RawImagePaths {
    pub(crate) fn new(what: &str, paths: &[ImagePath]) -> Result<Self> {
        let strings = paths
            .iter()
            .map(|p| Ok((path_cstr(what, &p.dir)?, str_cstr(what, &p.name)?)))
            .collect::<Result<Vec<_>>>()?;
        let raw = strings
            .iter()
            .map(|(d, n)| sys::CIMFS_IMAGE_PATH { ImageDir: d.as_ptr(), ImageName: n.as_ptr() })
            .collect();
        Ok(RawImagePaths { _strings: strings, raw })
    }

    pub(crate) fn len_u32(&self) -> u32 {
        u32::try_from(self.raw.len()).unwrap_or(u32::MAX)
    }
}
