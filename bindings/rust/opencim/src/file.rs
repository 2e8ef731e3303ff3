//! A file inside an image read through `std::io::Read + Seek` (`CimReadFile` at a cursor).
use std::ffi::CString;
use std::io::{self, Read, Seek, SeekFrom};

use crate::error::{Error, Result};
use crate::reader::Reader;
use crate::util::str_cstr;
use crate::FileInfo;

/// An open file of a [`Reader`]: the path plus a cursor. Each read is one `CimReadFile`, so
/// files are cheap to open and independent of each other; several threads can each read their
/// own `File` of one shared reader.
#[derive(Debug)]
pub struct File<'r> {
    reader: &'r Reader,
    path: CString,
    info: FileInfo,
    pos: u64,
}

impl<'r> File<'r> {
    pub(crate) fn open(reader: &'r Reader, path: &str) -> Result<Self> {
        let cpath = str_cstr("CimReadFile", path)?;
        let info = reader.stat_c(&cpath)?;
        // An empty read validates the target with the library's own checks and message
        // (a directory fails with 0x80070005 "is a directory").
        reader.read_at_c(&cpath, 0, &mut [])?;
        Ok(File { reader, path: cpath, info, pos: 0 })
    }

    /// The size of the stream when it was opened (images are immutable).
    pub fn len(&self) -> u64 {
        self.info.size
    }

    pub fn is_empty(&self) -> bool {
        self.info.size == 0
    }

    /// The stat of the file (or of the alternate stream) taken when it was opened.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Reads at the cursor and advances it, returning this crate's error type.
    pub fn read_checked(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.reader.read_at_c(&self.path, self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads to the end of the file, returning this crate's error type.
    pub fn read_to_end_checked(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        let start = out.len();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = self.read_checked(&mut chunk)?;
            if n == 0 {
                return Ok(out.len() - start);
            }
            out.extend_from_slice(&chunk[..n]);
        }
    }
}

impl Read for File<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_checked(buf)?)
    }
}

impl Seek for File<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.info.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::from(Error::new(
                crate::hr::E_INVALIDARG,
                format!("seek: {}: position before the start of the file", self.path.to_string_lossy()),
            ))
        })?;
        self.pos = target;
        Ok(target)
    }
}
