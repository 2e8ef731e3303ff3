//! The error type: the library's HRESULT, its message, and the matching `io::ErrorKind`.
use std::ffi::CStr;
use std::fmt;
use std::io;

use opencim_sys as sys;
pub use sys::hr;

/// A failed libopencim call.
///
/// `code` is the HRESULT the function returned (docs/errors.md lists them), `message` the
/// library's "Operation: image: path: reason" text, read on the failing thread right after the
/// call, before anything else could overwrite it.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
    kind: io::ErrorKind,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with an explicit code and message (used for arguments rejected before calling
    /// the library, such as a path with an interior NUL).
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), kind: kind_of(code) }
    }

    /// Builds the error for a failed call from this thread's last-error message. Must run right
    /// after the failing call on the same thread: the message is thread-local and the next call
    /// into the library clears it.
    pub(crate) fn last(code: i32) -> Self {
        // SAFETY: CimGetLastErrorMessage never returns NULL and the string stays valid until this
        // thread's next library call; it is copied before returning.
        let message = unsafe { CStr::from_ptr(sys::CimGetLastErrorMessage()) }.to_string_lossy().into_owned();
        let message = if message.is_empty() {
            format!("opencim call failed with HRESULT {:#010x}", code as u32)
        } else {
            message
        };
        Error::new(code, message)
    }

    /// The HRESULT, e.g. `0x80070002_u32 as i32` for "file not found".
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The library's message, "Operation: image: path: reason".
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `std::io::ErrorKind` the HRESULT corresponds to (`Other` when none fits).
    pub fn kind(&self) -> io::ErrorKind {
        self.kind
    }

    /// True for E_NOTIMPL (0x80004001): the function exists in the ABI but this build of the
    /// library does not implement it yet.
    pub fn is_not_implemented(&self) -> bool {
        self.code == hr::E_NOTIMPL
    }
}

/// HRESULT -> io::ErrorKind for the codes the contract fixes.
fn kind_of(code: i32) -> io::ErrorKind {
    use io::ErrorKind as K;
    match code {
        hr::FILE_NOT_FOUND | hr::PATH_NOT_FOUND => K::NotFound,
        hr::ALREADY_EXISTS | hr::FILE_EXISTS => K::AlreadyExists,
        hr::E_INVALIDARG => K::InvalidInput,
        hr::E_ACCESSDENIED => K::PermissionDenied,
        hr::INTEGRITY_VIOLATION => K::InvalidData,
        hr::E_OUTOFMEMORY => K::OutOfMemory,
        hr::NOT_SUPPORTED => K::Unsupported,
        _ => K::Other,
    }
}

/// Turns an HRESULT into a `Result`, reading the message on failure. Call it directly on the
/// value an FFI call returned.
pub(crate) fn check(code: sys::HRESULT) -> Result<()> {
    if code >= 0 {
        Ok(())
    } else {
        Err(Error::last(code))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HRESULT {:#010x})", self.message, self.code as u32)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &format_args!("{:#010x}", self.code as u32))
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    /// Keeps the kind for matching and the whole `Error` (code and message) as the source;
    /// `io::Error::get_ref()` plus `downcast_ref::<opencim::Error>()` recovers the HRESULT.
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |c: u32| Error::new(c as i32, "x").kind();
        assert_eq!(k(0x8007_0002), io::ErrorKind::NotFound);
        assert_eq!(k(0x8007_0003), io::ErrorKind::NotFound);
        assert_eq!(k(0x8007_00B7), io::ErrorKind::AlreadyExists);
        assert_eq!(k(0x8007_0050), io::ErrorKind::AlreadyExists);
        assert_eq!(k(0x8007_0057), io::ErrorKind::InvalidInput);
        assert_eq!(k(0x8007_0005), io::ErrorKind::PermissionDenied);
        assert_eq!(k(0x8007_0143), io::ErrorKind::InvalidData);
        assert_eq!(k(0x8007_000E), io::ErrorKind::OutOfMemory);
        assert_eq!(k(0x8007_0032), io::ErrorKind::Unsupported);
        assert_eq!(k(0x8007_0006), io::ErrorKind::Other);
        assert_eq!(k(0x8007_0570), io::ErrorKind::Other);
        assert_eq!(k(0x8000_4005), io::ErrorKind::Other);
    }

    #[test]
    fn into_io_error_keeps_code() {
        let e = Error::new(hr::FILE_NOT_FOUND, "CimOpenImage: x: not found");
        let io: io::Error = e.clone().into();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert_eq!(io.get_ref().unwrap().downcast_ref::<Error>(), Some(&e));
        assert!(io.to_string().contains("0x80070002"));
    }
}
