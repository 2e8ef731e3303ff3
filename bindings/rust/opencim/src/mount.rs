//! FUSE mounts of images (`CimMountImage` and friends) and volume GUIDs.
use std::fmt;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{check, hr, Error, Result};
use crate::flags::MountFlags;
use crate::image_path::{ImagePath, RawImagePaths};
use crate::util::{path_cstr, str_cstr, with_growing_buffer};
use opencim_sys as sys;

/// A volume GUID (`CIMFS_GUID`, Windows GUID layout). Displays as lowercase
/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; parses that form with or without braces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Guid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

impl Guid {
    /// A random (version 4) GUID from the OS random source.
    pub fn random() -> std::io::Result<Self> {
        let mut b = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
        b[7] = (b[7] & 0x0f) | 0x40; // version 4 (high nibble of data3, stored little-endian)
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        Ok(Guid {
            data1: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_le_bytes([b[4], b[5]]),
            data3: u16::from_le_bytes([b[6], b[7]]),
            data4: [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]],
        })
    }

    fn raw(&self) -> sys::CIMFS_GUID {
        sys::CIMFS_GUID { Data1: self.data1, Data2: self.data2, Data3: self.data3, Data4: self.data4 }
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

impl FromStr for Guid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad =
            || Error::new(hr::E_INVALIDARG, format!("{s:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"));
        let t = s.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(s);
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() != 5
            || [8, 4, 4, 4, 12]
                .iter()
                .zip(&parts)
                .any(|(n, p)| p.len() != *n || !p.bytes().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(bad());
        }
        let tail = format!("{}{}", parts[3], parts[4]);
        let mut data4 = [0u8; 8];
        for (i, b) in data4.iter_mut().enumerate() {
            *b = u8::from_str_radix(&tail[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Guid {
            data1: u32::from_str_radix(parts[0], 16).map_err(|_| bad())?,
            data2: u16::from_str_radix(parts[1], 16).map_err(|_| bad())?,
            data3: u16::from_str_radix(parts[2], 16).map_err(|_| bad())?,
            data4,
        })
    }
}

/// `CimGetVolumeMountPath`: where a volume is (or would be) mounted:
/// `$OPENCIM_MOUNT_ROOT/<guid>` (default root /run/opencim/volumes).
pub fn volume_mount_path(volume: &Guid) -> Result<PathBuf> {
    let id = volume.raw();
    let bytes = with_growing_buffer(128, |buf, size| {
        // SAFETY: `buf` is writable for `*size` bytes; `id` is a valid GUID.
        unsafe { sys::CimGetVolumeMountPath(&id, buf.cast(), size) }
    })?;
    let without_nul = bytes.split(|b| *b == 0).next().unwrap_or(&[]).to_vec();
    Ok(PathBuf::from(std::ffi::OsString::from_vec(without_nul)))
}

/// `CimMountImage`: mounts an image read-only through FUSE and returns the mount path.
/// Without FUSE: 0x80070032 (`Unsupported`).
pub fn mount_image(dir: impl AsRef<Path>, name: &str, flags: MountFlags, volume: &Guid) -> Result<PathBuf> {
    let op = "CimMountImage";
    let (d, n) = (path_cstr(op, dir.as_ref())?, str_cstr(op, name)?);
    let id = volume.raw();
    // SAFETY: valid strings and GUID.
    check(unsafe { sys::CimMountImage(d.as_ptr(), n.as_ptr(), flags.bits(), &id) })?;
    volume_mount_path(volume)
}

/// `CimMountVerifiedImage`: a sealed block CIM, every read checked against `hash`.
pub fn mount_verified_image(
    dir: impl AsRef<Path>,
    name: &str,
    flags: MountFlags,
    volume: &Guid,
    hash: &[u8; 32],
) -> Result<PathBuf> {
    let op = "CimMountVerifiedImage";
    let (d, n) = (path_cstr(op, dir.as_ref())?, str_cstr(op, name)?);
    let id = volume.raw();
    // SAFETY: valid strings, GUID and 32-byte hash.
    check(unsafe { sys::CimMountVerifiedImage(d.as_ptr(), n.as_ptr(), flags.bits(), &id, 32, hash.as_ptr()) })?;
    volume_mount_path(volume)
}

/// `CimMergeMountImage`: `paths` = [merged, topmost, ..., base].
pub fn merge_mount_image(paths: &[ImagePath], flags: MountFlags, volume: &Guid) -> Result<PathBuf> {
    let raw = RawImagePaths::new("CimMergeMountImage", paths)?;
    let id = volume.raw();
    // SAFETY: `raw` keeps the array and its strings alive for the call.
    check(unsafe { sys::CimMergeMountImage(raw.len_u32(), raw.raw.as_ptr(), flags.bits(), &id) })?;
    volume_mount_path(volume)
}

/// `CimMergeMountVerifiedImage`: `hash` is the merged CIM's root hash.
pub fn merge_mount_verified_image(
    paths: &[ImagePath],
    flags: MountFlags,
    volume: &Guid,
    hash: &[u8; 32],
) -> Result<PathBuf> {
    let raw = RawImagePaths::new("CimMergeMountVerifiedImage", paths)?;
    let id = volume.raw();
    // SAFETY: as above, plus a 32-byte hash.
    check(unsafe {
        sys::CimMergeMountVerifiedImage(raw.len_u32(), raw.raw.as_ptr(), flags.bits(), &id, 32, hash.as_ptr())
    })?;
    volume_mount_path(volume)
}

/// `CimDismountImage`: 0x80070002 (`NotFound`) if nothing is mounted under the GUID.
pub fn dismount_image(volume: &Guid) -> Result<()> {
    let id = volume.raw();
    // SAFETY: valid GUID.
    check(unsafe { sys::CimDismountImage(&id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_text_round_trip() {
        let g: Guid = "{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}".parse().unwrap();
        assert_eq!(g.data1, 0x0a1b2c3d);
        assert_eq!(g.data4, [0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9]);
        assert_eq!(g.to_string(), "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
        assert_eq!(g.to_string().parse::<Guid>().unwrap(), g);
        assert!("0a1b2c3d-4e5f-6071-8293".parse::<Guid>().is_err());
        assert!("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fg".parse::<Guid>().is_err());
        let r = Guid::random().unwrap();
        assert_eq!(r.to_string().as_bytes()[14], b'4');
        assert_ne!(r, Guid::random().unwrap());
    }
}
