//! Sealing verified block CIMs and reading their seal (`CimSealImage`,
//! `CimGetVerificationInformation`).
use std::path::Path;
use std::ptr;

use crate::error::{check, hr, Error, Result};
use crate::util::path_cstr;
use opencim_sys as sys;

/// The seal of a block file, as reported by [`verification_info`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationInfo {
    /// The SHA-256 dm-verity root hash, `None` while the file is not sealed.
    pub root_hash: Option<[u8; 32]>,
    /// Size of the block file's fixed header (4096).
    pub fixed_header_size: u64,
}

/// `CimSealImage`: seals a block file created with [`crate::CreateFlags::VERIFIED`] (appends the
/// hash tree and seal record) and returns its root hash. Sealing a sealed file returns its hash.
pub fn seal(block_path: impl AsRef<Path>) -> Result<[u8; 32]> {
    let p = path_cstr("CimSealImage", block_path.as_ref())?;
    let mut hash = [0u8; 32];
    let (mut hash_size, mut header_size) = (0u64, 0u64);
    // SAFETY: `hash` has the 32 bytes the contract specifies; other pointers are valid.
    check(unsafe { sys::CimSealImage(p.as_ptr(), &mut hash_size, &mut header_size, hash.as_mut_ptr()) })?;
    if hash_size != 32 {
        return Err(Error::new(hr::E_FAIL, format!("CimSealImage: unexpected hash size {hash_size}")));
    }
    Ok(hash)
}

/// `CimGetVerificationInformation`: whether the block file is sealed and its root hash.
pub fn verification_info(block_path: impl AsRef<Path>) -> Result<VerificationInfo> {
    let p = path_cstr("CimGetVerificationInformation", block_path.as_ref())?;
    let (mut sealed, mut hash_size, mut sig_size, mut header_size) = (0u32, 0u64, 0u64, 0u64);
    // Sizes first (hash NULL), so a hash larger than expected can never overrun the buffer.
    // SAFETY: out-pointers are valid; hash and signature may be NULL.
    check(unsafe {
        sys::CimGetVerificationInformation(
            p.as_ptr(),
            &mut sealed,
            &mut hash_size,
            &mut sig_size,
            &mut header_size,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    })?;
    if sealed == 0 {
        return Ok(VerificationInfo { root_hash: None, fixed_header_size: header_size });
    }
    if hash_size != 32 {
        return Err(Error::new(hr::E_FAIL, format!("CimGetVerificationInformation: unexpected hash size {hash_size}")));
    }
    let mut hash = [0u8; 32];
    // SAFETY: `hash` holds the 32 bytes reported; the signature is not requested.
    check(unsafe {
        sys::CimGetVerificationInformation(
            p.as_ptr(),
            &mut sealed,
            &mut hash_size,
            &mut sig_size,
            &mut header_size,
            hash.as_mut_ptr(),
            ptr::null_mut(),
        )
    })?;
    Ok(VerificationInfo { root_hash: Some(hash), fixed_header_size: header_size })
}

/// `CimAppendVhdFooter`: appends a 512-byte fixed-VHD footer (after sealing, like hcsshim's
/// WithVHDFooter) so the block file attaches as a fixed VHD. The root hash is unchanged and
/// readers ignore the footer; appending twice is a no-op.
pub fn append_vhd_footer(block_path: impl AsRef<Path>) -> Result<()> {
    let p = path_cstr("CimAppendVhdFooter", block_path.as_ref())?;
    // SAFETY: valid string.
    check(unsafe { sys::CimAppendVhdFooter(p.as_ptr()) })
}

/// Lowercase hex of a hash (the form of `integrity_checksum` files and the CLI).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
