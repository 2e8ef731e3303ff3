//! The struct layouts Rust sees must equal C's (spec/c-abi.md, 64-bit little-endian targets).
//! bindgen's own layout tests (in src/bindings.rs) check the header as clang parsed it; these
//! pin the contract's numbers, so a header edit that moves a field fails here even after the
//! bindings are regenerated.
use opencim_sys::*;
use std::mem::{align_of, offset_of, size_of};

#[test]
fn file_metadata_is_96_bytes() {
    assert_eq!(size_of::<CIMFS_FILE_METADATA>(), 96);
    assert_eq!(align_of::<CIMFS_FILE_METADATA>(), 8);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, Attributes), 0);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, FileSize), 8);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, CreationTime), 16);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, LastWriteTime), 24);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, ChangeTime), 32);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, LastAccessTime), 40);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, SecurityDescriptorBuffer), 48);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, SecurityDescriptorSize), 56);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, ReparseDataBuffer), 64);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, ReparseDataSize), 72);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, ExtendedAttributes), 80);
    assert_eq!(offset_of!(CIMFS_FILE_METADATA, EACount), 88);
}

#[test]
fn file_info_is_64_bytes() {
    assert_eq!(size_of::<CIMFS_FILE_INFO>(), 64);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, Size), 0);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, Attributes), 4);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, FileId), 8);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, FileSize), 16);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, CreationTime), 24);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, LastWriteTime), 32);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, ChangeTime), 40);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, LastAccessTime), 48);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, LinkCount), 56);
    assert_eq!(offset_of!(CIMFS_FILE_INFO, ReparseTag), 60);
}

#[test]
fn import_options_is_40_bytes() {
    assert_eq!(size_of::<CIMFS_IMPORT_OPTIONS>(), 40);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, Size), 0);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, Flags), 4);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, LayerFormat), 8);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, Threads), 12);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, MaxUncompressedBytes), 16);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, NumParentLayers), 24);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, Reserved), 28);
    assert_eq!(offset_of!(CIMFS_IMPORT_OPTIONS, ParentLayers), 32);
}

#[test]
fn import_result_is_56_bytes() {
    assert_eq!(size_of::<CIMFS_IMPORT_RESULT>(), 56);
    assert_eq!(offset_of!(CIMFS_IMPORT_RESULT, Size), 0);
    assert_eq!(offset_of!(CIMFS_IMPORT_RESULT, Reserved), 4);
    assert_eq!(offset_of!(CIMFS_IMPORT_RESULT, Entries), 8);
    assert_eq!(offset_of!(CIMFS_IMPORT_RESULT, DataBytes), 16);
    assert_eq!(offset_of!(CIMFS_IMPORT_RESULT, RootHash), 24);
}

#[test]
fn guid_and_image_path() {
    assert_eq!(size_of::<CIMFS_GUID>(), 16);
    assert_eq!(offset_of!(CIMFS_GUID, Data2), 4);
    assert_eq!(offset_of!(CIMFS_GUID, Data3), 6);
    assert_eq!(offset_of!(CIMFS_GUID, Data4), 8);
    assert_eq!(size_of::<CIMFS_IMAGE_PATH>(), 16);
    assert_eq!(offset_of!(CIMFS_IMAGE_PATH, ImageName), 8);
}

#[test]
fn handles_are_pointers_and_hresult_is_i32() {
    assert_eq!(size_of::<CIMFS_IMAGE_HANDLE>(), size_of::<usize>());
    assert_eq!(size_of::<CIMFS_STREAM_HANDLE>(), size_of::<usize>());
    assert_eq!(size_of::<CIMFS_READER_HANDLE>(), size_of::<usize>());
    let hr: HRESULT = hr::E_HANDLE;
    assert_eq!(hr as u32, 0x8007_0006);
}

#[test]
fn flag_values_match_the_contract() {
    assert_eq!(
        [
            CIM_CREATE_IMAGE_DO_NOT_EXPAND_PE_IMAGES,
            CIM_CREATE_IMAGE_FIXED_SIZE_CHUNKS,
            CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM,
            CIM_CREATE_IMAGE_SINGLE_FILE_CIM,
            CIM_CREATE_IMAGE_CONSISTENT_CIM,
            CIM_CREATE_IMAGE_VERIFIED_CIM
        ],
        [0x1, 0x2, 0x4, 0x8, 0x10, 0x40]
    );
    assert_eq!(
        [
            CIM_MOUNT_CHILD_ONLY,
            CIM_MOUNT_ENABLE_DAX,
            CIM_MOUNT_BLOCK_DEVICE_CIM,
            CIM_MOUNT_SINGLE_FILE_CIM,
            CIM_MOUNT_VERIFIED_CIM
        ],
        [0x1, 0x2, 0x10, 0x20, 0x80]
    );
    assert_eq!([CIM_MERGE_SINGLE_FILE, CIM_MERGE_BLOCK_DEVICE, CIM_MERGE_VERIFIED_CIM], [0x1, 0x2, 0x4]);
}
