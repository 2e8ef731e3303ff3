//! Reading images in process: [`Reader`] (an open `CIMFS_READER_HANDLE`).
use std::ffi::CString;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, hr, Error, Result};
use crate::file::File;
use crate::flags::MountFlags;
use crate::image_path::{ImagePath, RawImagePaths};
use crate::metadata::FileInfo;
use crate::util::{name_from, path_cstr, str_cstr, with_growing_buffer};
use opencim_sys as sys;

/// An open image (standard, block, merged, optionally verified). Closed on Drop
/// (`CimCloseReader`). Share it between threads with `Arc<Reader>`: every method takes `&self`.
#[derive(Debug)]
pub struct Reader {
    handle: NonNull<sys::CIMFS_READER_HANDLE__>,
}

// SAFETY: the header documents reader handles as fully thread-safe (the library locks what it
// shares internally), the handle is an opaque token validated per call, and Reader holds no other
// state. Error messages are thread-local and read on the calling thread.
unsafe impl Send for Reader {}
unsafe impl Sync for Reader {}

/// One entry of [`Reader::read_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub info: FileInfo,
}

/// One alternate stream of [`Reader::streams`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// The name without `:` and `:$DATA`; open it as `"file:name"`.
    pub name: String,
    pub size: u64,
}

const HASH_SIZE: u16 = 32;

impl Reader {
    fn from_call(f: impl FnOnce(*mut sys::CIMFS_READER_HANDLE) -> sys::HRESULT) -> Result<Self> {
        let mut handle = ptr::null_mut();
        check(f(&mut handle))?;
        let handle =
            NonNull::new(handle).ok_or_else(|| Error::new(hr::E_FAIL, "opencim returned a NULL reader handle"))?;
        Ok(Reader { handle })
    }

    /// Opens a standard CIM: `dir` holds `name` (the .cim file) and its region files.
    pub fn open(dir: impl AsRef<Path>, name: &str) -> Result<Self> {
        Self::open_with_flags(dir, name, MountFlags::NONE)
    }

    /// Opens a block CIM `name` in block file `path` ([`MountFlags::SINGLE_FILE`] is added unless
    /// `flags` has a block type). A sealed CIM opened this way is read unverified.
    pub fn open_block(path: impl AsRef<Path>, name: &str, flags: MountFlags) -> Result<Self> {
        Self::open_with_flags(path, name, flags.with_block_default())
    }

    /// `CimOpenImage` with explicit flags (NONE = standard CIM).
    pub fn open_with_flags(path: impl AsRef<Path>, name: &str, flags: MountFlags) -> Result<Self> {
        let op = "CimOpenImage";
        let (p, n) = (path_cstr(op, path.as_ref())?, str_cstr(op, name)?);
        // SAFETY: valid strings and out-pointer.
        Self::from_call(|out| unsafe { sys::CimOpenImage(p.as_ptr(), n.as_ptr(), flags.bits(), out) })
    }

    /// `CimOpenVerifiedImage`: a sealed block CIM whose every read is checked against root hash
    /// `hash`. A wrong hash fails with 0x80070143 (`ErrorKind::InvalidData`, "integrity violation").
    pub fn open_verified(path: impl AsRef<Path>, name: &str, flags: MountFlags, hash: &[u8; 32]) -> Result<Self> {
        let op = "CimOpenVerifiedImage";
        let (p, n) = (path_cstr(op, path.as_ref())?, str_cstr(op, name)?);
        let flags = flags.with_block_default();
        // SAFETY: valid strings, 32-byte hash and out-pointer.
        Self::from_call(|out| unsafe {
            sys::CimOpenVerifiedImage(p.as_ptr(), n.as_ptr(), flags.bits(), HASH_SIZE, hash.as_ptr(), out)
        })
    }

    /// `CimOpenMergedImage`: `paths` = [merged, topmost source, ..., base source], as for
    /// `CimMergeMountImage`. SINGLE_FILE is added unless `flags` has a block type.
    pub fn open_merged(paths: &[ImagePath], flags: MountFlags) -> Result<Self> {
        let raw = RawImagePaths::new("CimOpenMergedImage", paths)?;
        let flags = flags.with_block_default();
        // SAFETY: `raw` keeps the strings and the array alive for the call.
        Self::from_call(|out| unsafe { sys::CimOpenMergedImage(raw.len_u32(), raw.raw.as_ptr(), flags.bits(), out) })
    }

    /// `CimOpenMergedVerifiedImage`: `hash` is the merged CIM's root hash; every source must be
    /// sealed and is checked against the hash the merged CIM recorded for it.
    pub fn open_merged_verified(paths: &[ImagePath], flags: MountFlags, hash: &[u8; 32]) -> Result<Self> {
        let raw = RawImagePaths::new("CimOpenMergedVerifiedImage", paths)?;
        let flags = flags.with_block_default();
        // SAFETY: as above, plus a 32-byte hash.
        Self::from_call(|out| unsafe {
            sys::CimOpenMergedVerifiedImage(
                raw.len_u32(),
                raw.raw.as_ptr(),
                flags.bits(),
                HASH_SIZE,
                hash.as_ptr(),
                out,
            )
        })
    }

    pub(crate) fn raw(&self) -> sys::CIMFS_READER_HANDLE {
        self.handle.as_ptr()
    }

    /// `CimStatPath` of a file, directory or `file:stream`. Missing: 0x80070002 / 0x80070003.
    pub fn stat(&self, path: &str) -> Result<FileInfo> {
        let p = str_cstr("CimStatPath", path)?;
        self.stat_c(&p)
    }

    pub(crate) fn stat_c(&self, path: &CString) -> Result<FileInfo> {
        let mut info = FileInfo::raw_for_call();
        // SAFETY: valid handle, string and struct with Size set.
        check(unsafe { sys::CimStatPath(self.raw(), path.as_ptr(), &mut info) })?;
        Ok(FileInfo::from_raw(&info))
    }

    /// True if `path` exists; errors other than "not found" are returned.
    pub fn exists(&self, path: &str) -> Result<bool> {
        match self.stat(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The entries of a directory (`CimEnumerateDirectory`), in stored order.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let p = str_cstr("CimEnumerateDirectory", path)?;
        let mut entries = Vec::new();
        for index in 0u32.. {
            let mut info = FileInfo::raw_for_call();
            let name = with_growing_buffer(256, |buf, size| {
                // SAFETY: `buf` has `*size` writable bytes; handle, string and struct are valid.
                unsafe { sys::CimEnumerateDirectory(self.raw(), p.as_ptr(), index, buf.cast(), size, &mut info) }
            });
            match name {
                Ok(name) => entries.push(DirEntry { name: name_from(&name), info: FileInfo::from_raw(&info) }),
                Err(e) if e.code() == hr::NO_MORE_FILES => break,
                Err(e) => return Err(e),
            }
        }
        Ok(entries)
    }

    /// The alternate streams of a file (`CimEnumerateAlternateStreams`).
    pub fn streams(&self, path: &str) -> Result<Vec<StreamInfo>> {
        let p = str_cstr("CimEnumerateAlternateStreams", path)?;
        let mut streams = Vec::new();
        for index in 0u32.. {
            let mut size = 0u64;
            let name = with_growing_buffer(256, |buf, cap| {
                // SAFETY: `buf` has `*cap` writable bytes; other pointers are valid.
                unsafe { sys::CimEnumerateAlternateStreams(self.raw(), p.as_ptr(), index, buf.cast(), cap, &mut size) }
            });
            match name {
                Ok(name) => streams.push(StreamInfo { name: name_from(&name), size }),
                Err(e) if e.code() == hr::NO_MORE_FILES => break,
                Err(e) => return Err(e),
            }
        }
        Ok(streams)
    }

    /// Opens a file's primary stream (or `file:stream`) for reading with `Read + Seek`.
    /// Directories fail with 0x80070005 (`PermissionDenied`).
    pub fn open_file(&self, path: &str) -> Result<File<'_>> {
        File::open(self, path)
    }

    /// The whole content of a file, like `std::fs::read`.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let mut f = self.open_file(path)?;
        let mut out = Vec::with_capacity(usize::try_from(f.len()).unwrap_or(0));
        f.read_to_end_checked(&mut out)?;
        Ok(out)
    }

    /// `CimReadFile`: up to `buf.len()` bytes at `offset`; fewer only at end of file.
    pub fn read_at(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let p = str_cstr("CimReadFile", path)?;
        self.read_at_c(&p, offset, buf)
    }

    pub(crate) fn read_at_c(&self, path: &CString, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let len = buf.len().min(u32::MAX as usize) as u32;
        let mut read = 0u32;
        // SAFETY: `buf` is writable for `len` bytes; handle, string and out-pointer are valid.
        check(unsafe { sys::CimReadFile(self.raw(), path.as_ptr(), offset, buf.as_mut_ptr().cast(), len, &mut read) })?;
        Ok(read as usize)
    }

    /// The self-relative security descriptor (empty if none).
    pub fn security_descriptor(&self, path: &str) -> Result<Vec<u8>> {
        self.blob("CimGetSecurityDescriptor", path, sys::CimGetSecurityDescriptor)
    }

    /// The FILE_FULL_EA_INFORMATION chain (empty if none).
    pub fn extended_attributes(&self, path: &str) -> Result<Vec<u8>> {
        self.blob("CimGetExtendedAttributes", path, sys::CimGetExtendedAttributes)
    }

    /// The REPARSE_DATA_BUFFER (empty if not a reparse point).
    pub fn reparse_data(&self, path: &str) -> Result<Vec<u8>> {
        self.blob("CimGetReparseData", path, sys::CimGetReparseData)
    }

    fn blob(
        &self,
        op: &str,
        path: &str,
        f: unsafe extern "C" fn(
            sys::CIMFS_READER_HANDLE,
            *const std::os::raw::c_char,
            *mut std::os::raw::c_void,
            *mut u32,
        ) -> sys::HRESULT,
    ) -> Result<Vec<u8>> {
        let p = str_cstr(op, path)?;
        // Starts with a size query (NULL buffer, capacity 0), then allocates what it reported.
        // SAFETY: `buf` is NULL with capacity 0 or writable for `*size` bytes.
        with_growing_buffer(0, |buf, size| unsafe { f(self.raw(), p.as_ptr(), buf.cast(), size) })
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: this reader owns the handle and closes it exactly once; File borrows the reader,
        // so none can outlive it.
        unsafe { sys::CimCloseReader(self.handle.as_ptr()) }
    }
}
