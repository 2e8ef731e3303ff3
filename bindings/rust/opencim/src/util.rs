//! Conversions at the FFI boundary: Rust strings and paths to NUL-terminated C strings, and
//! caller-allocated buffers grown on 0x8007007A (buffer too small).
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{hr, Error, Result};
use opencim_sys as sys;

/// A host path (image directory, block file, tar file) as a C string. Paths are bytes on Unix and
/// passed through unchanged; the library expects UTF-8 and reports anything else itself.
pub(crate) fn path_cstr(what: &str, p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::new(hr::E_INVALIDARG, format!("{what}: {}: contains a NUL byte", p.display())))
}

/// A name or a path inside an image as a C string.
pub(crate) fn str_cstr(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(hr::E_INVALIDARG, format!("{what}: {s:?}: contains a NUL byte")))
}

pub(crate) fn opt_str_cstr(what: &str, s: Option<&str>) -> Result<Option<CString>> {
    s.map(|s| str_cstr(what, s)).transpose()
}

pub(crate) fn opt_ptr(s: &Option<CString>) -> *const std::os::raw::c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Calls `f(buffer, &mut size)` with a growing buffer until it fits, for the functions that
/// report the size they need with 0x8007007A. Returns the filled bytes (without trailing NUL
/// handling; callers of name functions strip it).
pub(crate) fn with_growing_buffer(
    initial: usize,
    mut f: impl FnMut(*mut u8, &mut u32) -> sys::HRESULT,
) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; initial];
    loop {
        let cap = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let mut size = cap;
        let ptr = if buf.is_empty() { std::ptr::null_mut() } else { buf.as_mut_ptr() };
        let code = f(ptr, &mut size);
        if code == hr::INSUFFICIENT_BUFFER && size > cap {
            buf.resize(size as usize, 0);
            continue;
        }
        crate::error::check(code)?;
        buf.truncate(size as usize);
        return Ok(buf);
    }
}

/// A NUL-terminated name the library wrote into a buffer, as a String (lossy: names are UTF-8
/// converted from the image's UTF-16, so a lone surrogate cannot reach here in practice).
pub(crate) fn name_from(buf: &[u8]) -> String {
    match CStr::from_bytes_until_nul(buf) {
        Ok(c) => c.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(buf).into_owned(),
    }
}
