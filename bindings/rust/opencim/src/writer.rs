//! Writing images: [`ImageWriter`] (an open `CIMFS_IMAGE_HANDLE`) and [`StreamWriter`] (an open
//! `CIMFS_STREAM_HANDLE`).
use std::io;
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, hr, Error, Result};
use crate::flags::{CreateFlags, MergeFlags};
use crate::image_path::ImagePath;
use crate::metadata::Metadata;
use crate::util::{opt_ptr, opt_str_cstr, path_cstr, str_cstr};
use opencim_sys as sys;

/// An image being written. Nothing is visible until [`commit`](Self::commit); dropping the
/// writer closes the handle (`CimCloseImage`) and discards whatever was not committed.
///
/// Methods mirror the C functions one to one; paths inside the image accept `/` and `\`.
#[derive(Debug)]
pub struct ImageWriter {
    handle: NonNull<sys::CIMFS_IMAGE_HANDLE__>,
}

// SAFETY (Send): the handle is an opaque token the library validates on every call; it carries no
// thread affinity, and the thread-local error message is read on whichever thread made the call.
// Not Sync: the header says image handles are not meant for concurrent use (the library would
// serialise, but sharing &ImageWriter across threads has no use), and every method takes &mut self.
unsafe impl Send for ImageWriter {}

impl ImageWriter {
    fn from_call(f: impl FnOnce(*mut sys::CIMFS_IMAGE_HANDLE) -> sys::HRESULT) -> Result<Self> {
        let mut handle = ptr::null_mut();
        check(f(&mut handle))?;
        let handle =
            NonNull::new(handle).ok_or_else(|| Error::new(hr::E_FAIL, "opencim returned a NULL image handle"))?;
        Ok(ImageWriter { handle })
    }

    /// `CimCreateImage(dir, NULL, name)`: a new standard CIM `name` in directory `dir`.
    /// Fails with 0x80070050 (AlreadyExists) if it exists, 0x80070003 if `dir` is missing.
    pub fn create(dir: impl AsRef<Path>, name: &str) -> Result<Self> {
        Self::create2(dir, CreateFlags::NONE, None, name)
    }

    /// `CimCreateImage(dir, existing, new)`: a fork: `new` starts with `existing`'s content.
    /// `new == existing` rewrites the image in place.
    pub fn fork(dir: impl AsRef<Path>, existing: &str, new: &str) -> Result<Self> {
        Self::create2(dir, CreateFlags::NONE, Some(existing), new)
    }

    /// `CimCreateImage2(path, flags, NULL, name)` for a block CIM: `path` is the block file (or
    /// device with [`CreateFlags::BLOCK_DEVICE`]) and `name` the CIM's name inside it.
    /// [`CreateFlags::SINGLE_FILE`] is added when no block type is given.
    pub fn create_block(path: impl AsRef<Path>, name: &str, flags: CreateFlags) -> Result<Self> {
        Self::create2(path, flags.with_block_default(), None, name)
    }

    /// `CimCreateImage2` with every argument explicit.
    pub fn create2(path: impl AsRef<Path>, flags: CreateFlags, existing: Option<&str>, name: &str) -> Result<Self> {
        let op = "CimCreateImage2";
        let path = path_cstr(op, path.as_ref())?;
        let existing = opt_str_cstr(op, existing)?;
        let name = str_cstr(op, name)?;
        // SAFETY: all strings are NUL-terminated and outlive the call; the out-pointer is valid.
        Self::from_call(|out| unsafe {
            sys::CimCreateImage2(path.as_ptr(), flags.bits(), opt_ptr(&existing), name.as_ptr(), out)
        })
    }

    fn raw(&self) -> sys::CIMFS_IMAGE_HANDLE {
        self.handle.as_ptr()
    }

    /// `CimCreateFile`: adds a file (or a directory when `metadata.attributes` has DIRECTORY) and
    /// returns the stream to write exactly `metadata.file_size` bytes into. An existing file at
    /// the path is replaced. The stream borrows the writer: one stream at a time, as in the ABI.
    pub fn create_file(&mut self, path: &str, metadata: &Metadata) -> Result<StreamWriter<'_>> {
        let op = "CimCreateFile";
        let cpath = str_cstr(op, path)?;
        let md = metadata.as_raw().ok_or_else(|| {
            Error::new(hr::E_INVALIDARG, format!("{op}: {path}: a metadata size does not fit the C struct"))
        })?;
        let mut stream = ptr::null_mut();
        // SAFETY: `md` points into `metadata`, borrowed for the call; handle and strings are valid.
        check(unsafe { sys::CimCreateFile(self.raw(), cpath.as_ptr(), &md, &mut stream) })?;
        StreamWriter::new(stream, metadata.file_size)
    }

    /// `CimCreateFile` for a directory (no stream handle).
    pub fn create_directory(&mut self, path: &str, metadata: &Metadata) -> Result<()> {
        let op = "CimCreateFile";
        let cpath = str_cstr(op, path)?;
        let mut md = metadata.clone();
        md.attributes |= crate::metadata::attributes::DIRECTORY;
        md.file_size = 0;
        let raw = md.as_raw().ok_or_else(|| {
            Error::new(hr::E_INVALIDARG, format!("{op}: {path}: a metadata size does not fit the C struct"))
        })?;
        // SAFETY: as in create_file; a NULL stream out-pointer is allowed.
        check(unsafe { sys::CimCreateFile(self.raw(), cpath.as_ptr(), &raw, ptr::null_mut()) })
    }

    /// Convenience: a regular file with `data` as its content ([`Metadata::file`] of its length).
    pub fn write_file(&mut self, path: &str, data: &[u8]) -> Result<()> {
        let mut stream = self.create_file(path, &Metadata::file(data.len() as u64))?;
        stream.write_data(data)?;
        stream.close()
    }

    /// `CimCreateAlternateStream`: alternate stream `file:stream` of `size` bytes.
    pub fn create_alternate_stream(&mut self, path: &str, size: u64) -> Result<StreamWriter<'_>> {
        let cpath = str_cstr("CimCreateAlternateStream", path)?;
        let mut stream = ptr::null_mut();
        // SAFETY: valid handle, string and out-pointer.
        check(unsafe { sys::CimCreateAlternateStream(self.raw(), cpath.as_ptr(), size, &mut stream) })?;
        StreamWriter::new(stream, size)
    }

    /// `CimCreateHardLink`: new name `path` for the existing file `existing`.
    pub fn create_hard_link(&mut self, path: &str, existing: &str) -> Result<()> {
        let op = "CimCreateHardLink";
        let (p, e) = (str_cstr(op, path)?, str_cstr(op, existing)?);
        // SAFETY: valid handle and strings.
        check(unsafe { sys::CimCreateHardLink(self.raw(), p.as_ptr(), e.as_ptr()) })
    }

    /// `CimDeletePath`: removes a file, link, `file:stream` or a directory with its subtree.
    pub fn delete(&mut self, path: &str) -> Result<()> {
        let p = str_cstr("CimDeletePath", path)?;
        // SAFETY: valid handle and string.
        check(unsafe { sys::CimDeletePath(self.raw(), p.as_ptr()) })
    }

    /// `CimTombstoneFile` (block CIMs): hides `path` in every layer below this one when merged.
    pub fn tombstone(&mut self, path: &str) -> Result<()> {
        let p = str_cstr("CimTombstoneFile", path)?;
        // SAFETY: valid handle and string.
        check(unsafe { sys::CimTombstoneFile(self.raw(), p.as_ptr()) })
    }

    /// `CimCreateMergeLink` (block CIMs): a hard link resolved against the merged view at merge
    /// time; `existing` may live in any layer and may itself be a merge link.
    pub fn merge_link(&mut self, path: &str, existing: &str) -> Result<()> {
        let op = "CimCreateMergeLink";
        let (p, e) = (str_cstr(op, path)?, str_cstr(op, existing)?);
        // SAFETY: valid handle and strings.
        check(unsafe { sys::CimCreateMergeLink(self.raw(), p.as_ptr(), e.as_ptr()) })
    }

    /// Adds a source to a merged CIM (a new, empty block CIM); call topmost first, commit merges.
    /// With `MergeFlags::NONE` this is `CimAddFsToMergedImage` (the merged CIM's own block type),
    /// otherwise `CimAddFsToMergedImage2(.., flags)`.
    pub fn add_merge_source(&mut self, source: &ImagePath, flags: MergeFlags) -> Result<()> {
        let fs_path = path_cstr("CimAddFsToMergedImage", &source.fs_path())?;
        // SAFETY: valid handle and string.
        check(unsafe {
            if flags.is_empty() {
                sys::CimAddFsToMergedImage(self.raw(), fs_path.as_ptr())
            } else {
                sys::CimAddFsToMergedImage2(self.raw(), fs_path.as_ptr(), flags.bits())
            }
        })
    }

    /// `CimCommitImage`: makes the image durable and visible. The writer accepts no more changes
    /// afterwards; drop it to close the handle.
    pub fn commit(&mut self) -> Result<()> {
        // SAFETY: valid handle.
        check(unsafe { sys::CimCommitImage(self.raw()) })
    }

    /// Closes the handle now (same as dropping the writer).
    pub fn close(self) {}
}

impl Drop for ImageWriter {
    fn drop(&mut self) {
        // SAFETY: this writer owns the handle and closes it exactly once.
        unsafe { sys::CimCloseImage(self.handle.as_ptr()) }
    }
}

/// Merges block CIMs like hcsshim's `MergeBlockCIMs`: creates `merged` with `flags`, adds
/// `sources` (topmost first) with the matching merge flags and commits. Sources must be of the
/// block type of `flags` (SINGLE_FILE by default) and, with [`CreateFlags::VERIFIED`], sealed.
pub fn merge_block_cims(merged: &ImagePath, sources: &[ImagePath], flags: CreateFlags) -> Result<()> {
    let flags = flags.with_block_default();
    let mut merge_flags =
        if flags.contains(CreateFlags::BLOCK_DEVICE) { MergeFlags::BLOCK_DEVICE } else { MergeFlags::SINGLE_FILE };
    if flags.contains(CreateFlags::VERIFIED) {
        merge_flags |= MergeFlags::VERIFIED;
    }
    let mut w = ImageWriter::create_block(&merged.dir, &merged.name, flags)?;
    for s in sources {
        w.add_merge_source(s, merge_flags)?;
    }
    w.commit()
}

/// One stream of an image being written, borrowed from its [`ImageWriter`] (so the image cannot
/// be closed or used while the stream is open). Write with [`std::io::Write`] or
/// [`write_data`](Self::write_data); [`close`](Self::close) reports an incomplete write, Drop
/// closes silently.
#[derive(Debug)]
pub struct StreamWriter<'a> {
    handle: Option<NonNull<sys::CIMFS_STREAM_HANDLE__>>,
    /// Bytes still accepted (declared size minus bytes written), so that `io::Write::write` can
    /// report a short write instead of an error that hides how much was stored.
    remaining: u64,
    _image: PhantomData<&'a mut ImageWriter>,
}

// SAFETY (Send): like ImageWriter, the stream handle is a validated token with no thread
// affinity, and the image it writes to is exclusively borrowed. Not Sync: all methods take &mut.
unsafe impl Send for StreamWriter<'_> {}

impl StreamWriter<'_> {
    fn new(handle: sys::CIMFS_STREAM_HANDLE, size: u64) -> Result<Self> {
        let handle =
            NonNull::new(handle).ok_or_else(|| Error::new(hr::E_FAIL, "opencim returned a NULL stream handle"))?;
        Ok(StreamWriter { handle: Some(handle), remaining: size, _image: PhantomData })
    }

    /// Bytes the stream still expects (declared size minus bytes written).
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// `CimWriteStream` of all of `data` (in chunks of at most 4 GiB - 1). Bytes past the size
    /// declared at creation are refused with 0x80070026; the bytes up to the size are stored.
    pub fn write_data(&mut self, data: &[u8]) -> Result<()> {
        let handle = self.handle.expect("stream is open until close() consumes it");
        for chunk in data.chunks(u32::MAX as usize) {
            // The library stores what fits and refuses the excess, so on failure too the stream
            // is full up to min(len, remaining).
            self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
            // SAFETY: valid handle; `chunk` is readable for its length.
            check(unsafe { sys::CimWriteStream(handle.as_ptr(), chunk.as_ptr().cast(), chunk.len() as u32) })?;
        }
        Ok(())
    }

    /// `CimCloseStream`: fails with 0x80070026 ("incomplete write") if fewer bytes than declared
    /// were written (the handle is closed either way).
    pub fn close(mut self) -> Result<()> {
        let handle = self.handle.take().expect("stream is open until close() consumes it");
        // SAFETY: this value owns the handle; taking it prevents the second close in Drop.
        check(unsafe { sys::CimCloseStream(handle.as_ptr()) })
    }
}

impl io::Write for StreamWriter<'_> {
    /// Writes what fits in the declared size (a short write); once the stream is full, a
    /// non-empty write returns the library's 0x80070026 error.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let fits = usize::try_from(self.remaining).unwrap_or(usize::MAX).min(u32::MAX as usize);
        if buf.is_empty() || fits == 0 {
            self.write_data(buf)?;
            return Ok(0);
        }
        let n = buf.len().min(fits);
        self.write_data(&buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for StreamWriter<'_> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // SAFETY: owned handle, closed once. The result is dropped: Drop cannot report it, and
            // an incomplete stream also fails the image's commit with a message naming its path.
            let _ = unsafe { sys::CimCloseStream(handle.as_ptr()) };
        }
    }
}
