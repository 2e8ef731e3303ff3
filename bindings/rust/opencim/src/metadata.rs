//! File metadata written with [`crate::ImageWriter::create_file`] and read back with
//! [`crate::Reader::stat`]. Times are Windows FILETIMEs (100 ns ticks since 1601-01-01 UTC).
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opencim_sys as sys;

/// `FILE_ATTRIBUTE_*` values stored in an image.
pub mod attributes {
    pub const READONLY: u32 = 0x1;
    pub const HIDDEN: u32 = 0x2;
    pub const SYSTEM: u32 = 0x4;
    pub const DIRECTORY: u32 = 0x10;
    pub const ARCHIVE: u32 = 0x20;
    pub const NORMAL: u32 = 0x80;
    pub const SPARSE_FILE: u32 = 0x200;
    pub const REPARSE_POINT: u32 = 0x400;
}

/// FILETIME ticks between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_FILETIME: i64 = 116_444_736_000_000_000;

/// Converts a `SystemTime` to a FILETIME (saturating at the ends of the i64 range).
pub fn filetime_from_system_time(t: SystemTime) -> i64 {
    let ticks = |d: Duration| i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX);
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => UNIX_EPOCH_FILETIME.saturating_add(ticks(after)),
        Err(before) => UNIX_EPOCH_FILETIME.saturating_sub(ticks(before.duration())),
    }
}

/// Converts a FILETIME to a `SystemTime`.
pub fn system_time_from_filetime(ft: i64) -> SystemTime {
    let delta = ft as i128 - UNIX_EPOCH_FILETIME as i128;
    let d = Duration::from_nanos((delta.unsigned_abs() * 100).min(u64::MAX as u128) as u64);
    if delta >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// What `CimCreateFile` stores for a file or directory (`CIMFS_FILE_METADATA`, owned).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `FILE_ATTRIBUTE_*`; [`attributes::DIRECTORY`] makes a directory.
    pub attributes: u32,
    /// Size of the primary stream: exactly this many bytes must be written.
    pub file_size: u64,
    pub creation_time: i64,
    pub last_write_time: i64,
    pub change_time: i64,
    pub last_access_time: i64,
    /// Self-relative security descriptor, empty for none.
    pub security_descriptor: Vec<u8>,
    /// Full REPARSE_DATA_BUFFER (tag, length, data), empty for none.
    pub reparse_data: Vec<u8>,
    /// FILE_FULL_EA_INFORMATION chain, empty for none.
    pub extended_attributes: Vec<u8>,
}

impl Metadata {
    /// A regular file of `size` bytes (ARCHIVE attribute, times zero).
    pub fn file(size: u64) -> Self {
        Metadata { attributes: attributes::ARCHIVE, file_size: size, ..Default::default() }
    }

    /// A directory.
    pub fn directory() -> Self {
        Metadata { attributes: attributes::DIRECTORY, ..Default::default() }
    }

    /// Sets all four times to `t`.
    pub fn with_times(mut self, t: SystemTime) -> Self {
        let ft = filetime_from_system_time(t);
        self.creation_time = ft;
        self.last_write_time = ft;
        self.change_time = ft;
        self.last_access_time = ft;
        self
    }

    /// The C struct pointing into this value's buffers; valid while `self` is borrowed.
    /// Sizes that do not fit the C fields come back as `None` (rejected by the caller).
    pub(crate) fn as_raw(&self) -> Option<sys::CIMFS_FILE_METADATA> {
        let ptr = |v: &Vec<u8>| if v.is_empty() { std::ptr::null() } else { v.as_ptr().cast() };
        Some(sys::CIMFS_FILE_METADATA {
            Attributes: self.attributes,
            FileSize: i64::try_from(self.file_size).ok()?,
            CreationTime: self.creation_time,
            LastWriteTime: self.last_write_time,
            ChangeTime: self.change_time,
            LastAccessTime: self.last_access_time,
            SecurityDescriptorBuffer: ptr(&self.security_descriptor),
            SecurityDescriptorSize: u32::try_from(self.security_descriptor.len()).ok()?,
            ReparseDataBuffer: ptr(&self.reparse_data),
            ReparseDataSize: u32::try_from(self.reparse_data.len()).ok()?,
            ExtendedAttributes: ptr(&self.extended_attributes),
            EACount: u32::try_from(self.extended_attributes.len()).ok()?,
        })
    }
}

/// What [`crate::Reader::stat`] and [`crate::Reader::read_dir`] report (`CIMFS_FILE_INFO`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileInfo {
    /// `FILE_ATTRIBUTE_*` as stored.
    pub attributes: u32,
    /// Same for every hard link of a file.
    pub file_id: u64,
    /// Primary stream size (0 for directories), or the stream's size for `file:stream`.
    pub size: u64,
    pub creation_time: i64,
    pub last_write_time: i64,
    pub change_time: i64,
    pub last_access_time: i64,
    /// Number of names of this file in the image.
    pub link_count: u32,
    /// 0 when not a reparse point.
    pub reparse_tag: u32,
}

impl FileInfo {
    pub fn is_dir(&self) -> bool {
        self.attributes & attributes::DIRECTORY != 0
    }

    pub fn is_reparse_point(&self) -> bool {
        self.attributes & attributes::REPARSE_POINT != 0
    }

    /// Last write time as a `SystemTime`.
    pub fn modified(&self) -> SystemTime {
        system_time_from_filetime(self.last_write_time)
    }

    pub(crate) fn raw_for_call() -> sys::CIMFS_FILE_INFO {
        sys::CIMFS_FILE_INFO { Size: std::mem::size_of::<sys::CIMFS_FILE_INFO>() as u32, ..Default::default() }
    }

    pub(crate) fn from_raw(r: &sys::CIMFS_FILE_INFO) -> Self {
        FileInfo {
            attributes: r.Attributes,
            file_id: r.FileId,
            size: u64::try_from(r.FileSize).unwrap_or(0),
            creation_time: r.CreationTime,
            last_write_time: r.LastWriteTime,
            change_time: r.ChangeTime,
            last_access_time: r.LastAccessTime,
            link_count: r.LinkCount,
            reparse_tag: r.ReparseTag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_round_trip() {
        assert_eq!(filetime_from_system_time(UNIX_EPOCH), UNIX_EPOCH_FILETIME);
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_nanos(123_456_700);
        assert_eq!(system_time_from_filetime(filetime_from_system_time(t)), t);
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(system_time_from_filetime(filetime_from_system_time(before)), before);
    }
}
