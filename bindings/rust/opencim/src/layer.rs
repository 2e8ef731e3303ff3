//! OCI layer tarballs <-> block CIMs (`CimImportLayer`, `CimImportLayerFromFd`, `CimExportLayer`).
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use std::ptr;

use crate::error::{check, Result};
use crate::flags::{ImportFlags, MountFlags};
use crate::image_path::{ImagePath, RawImagePaths};
use crate::util::{path_cstr, str_cstr};
use opencim_sys as sys;

/// `CIM_LAYER_FORMAT_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LayerFormat {
    /// Windows if the tar has Files/ or Hives/ at its root, else Linux.
    #[default]
    Auto,
    /// Files/, Hives/, UtilityVM/; MSWINDOWS.* PAX records.
    Windows,
    /// POSIX metadata in WSL EAs and reparse points; case-sensitive image.
    Linux,
}

impl LayerFormat {
    fn raw(self) -> u32 {
        match self {
            LayerFormat::Auto => sys::CIM_LAYER_FORMAT_AUTO,
            LayerFormat::Windows => sys::CIM_LAYER_FORMAT_WINDOWS,
            LayerFormat::Linux => sys::CIM_LAYER_FORMAT_LINUX,
        }
    }
}

/// Options of [`import_layer`] (`CIMFS_IMPORT_OPTIONS`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub flags: ImportFlags,
    pub format: LayerFormat,
    /// Worker threads, 0 = number of CPUs (the output never depends on it).
    pub threads: u32,
    /// Refuse archives that expand beyond this many bytes, 0 = 1 TiB.
    pub max_uncompressed_bytes: u64,
    /// Parent layers, topmost first.
    pub parents: Vec<ImagePath>,
}

/// What an import reports (`CIMFS_IMPORT_RESULT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportResult {
    /// Tar entries applied.
    pub entries: u64,
    /// Bytes of regular file data (hcsshim's layer size).
    pub data_bytes: u64,
    /// The root hash when imported with [`ImportFlags::VERIFIED`].
    pub root_hash: Option<[u8; 32]>,
}

fn run_import(
    op: &str,
    block_path: &Path,
    cim_name: &str,
    options: &ImportOptions,
    call: impl FnOnce(
        *const std::os::raw::c_char,
        *const std::os::raw::c_char,
        *const sys::CIMFS_IMPORT_OPTIONS,
        *mut sys::CIMFS_IMPORT_RESULT,
    ) -> sys::HRESULT,
) -> Result<ImportResult> {
    let (b, n) = (path_cstr(op, block_path)?, str_cstr(op, cim_name)?);
    let parents = RawImagePaths::new(op, &options.parents)?;
    let raw_options = sys::CIMFS_IMPORT_OPTIONS {
        Size: std::mem::size_of::<sys::CIMFS_IMPORT_OPTIONS>() as u32,
        Flags: options.flags.bits(),
        LayerFormat: options.format.raw(),
        Threads: options.threads,
        MaxUncompressedBytes: options.max_uncompressed_bytes,
        NumParentLayers: parents.len_u32(),
        Reserved: 0,
        ParentLayers: if parents.raw.is_empty() { ptr::null() } else { parents.raw.as_ptr() },
    };
    let mut result =
        sys::CIMFS_IMPORT_RESULT { Size: std::mem::size_of::<sys::CIMFS_IMPORT_RESULT>() as u32, ..Default::default() };
    check(call(b.as_ptr(), n.as_ptr(), &raw_options, &mut result))?;
    Ok(ImportResult {
        entries: result.Entries,
        data_bytes: result.DataBytes,
        root_hash: options.flags.contains(ImportFlags::VERIFIED).then_some(result.RootHash),
    })
}

/// `CimImportLayer`: imports an OCI layer tar (plain, gzip, zstd or xz) into a new single-file
/// block CIM `cim_name` in `block_path`. Nothing is published unless the whole import succeeds.
pub fn import_layer(
    tar: impl AsRef<Path>,
    block_path: impl AsRef<Path>,
    cim_name: &str,
    options: &ImportOptions,
) -> Result<ImportResult> {
    let op = "CimImportLayer";
    let t = path_cstr(op, tar.as_ref())?;
    run_import(op, block_path.as_ref(), cim_name, options, |b, n, o, r| {
        // SAFETY: all pointers are valid for the call (built by run_import from live values).
        unsafe { sys::CimImportLayer(t.as_ptr(), b, n, o, r) }
    })
}

/// `CimImportLayerFromFd`: as [`import_layer`], reading the tar from `fd` (not closed).
pub fn import_layer_from_fd(
    fd: BorrowedFd<'_>,
    block_path: impl AsRef<Path>,
    cim_name: &str,
    options: &ImportOptions,
) -> Result<ImportResult> {
    run_import("CimImportLayerFromFd", block_path.as_ref(), cim_name, options, |b, n, o, r| {
        // SAFETY: `fd` is borrowed open for the call; other pointers as above.
        unsafe { sys::CimImportLayerFromFd(fd.as_raw_fd(), b, n, o, r) }
    })
}

/// `CimExportLayer`: writes a CIM back as a PAX tar (`tar_path` "-" = stdout). `flags` as for
/// [`crate::Reader::open_with_flags`] (NONE = standard CIM).
pub fn export_layer(
    dir: impl AsRef<Path>,
    name: &str,
    flags: MountFlags,
    format: LayerFormat,
    tar_path: impl AsRef<Path>,
) -> Result<()> {
    let op = "CimExportLayer";
    let (d, n, t) = (path_cstr(op, dir.as_ref())?, str_cstr(op, name)?, path_cstr(op, tar_path.as_ref())?);
    // SAFETY: valid strings.
    check(unsafe { sys::CimExportLayer(d.as_ptr(), n.as_ptr(), flags.bits(), format.raw(), t.as_ptr()) })
}
