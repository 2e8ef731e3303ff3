//! Handle misuse through the raw ABI. The safe crate cannot express these (each handle has one
//! owner and is closed exactly once by Drop), so they are exercised here: NULL, forged, closed
//! and wrong-kind handles must return E_HANDLE (0x80070006) with a message, never crash.
use opencim_sys::*;
use std::ffi::{CStr, CString};
use std::ptr;

fn last_message() -> String {
    unsafe { CStr::from_ptr(CimGetLastErrorMessage()) }.to_string_lossy().into_owned()
}

#[test]
fn null_and_forged_handles_return_e_handle() {
    let forged_image = 0x1234_5678usize as CIMFS_IMAGE_HANDLE;
    let forged_reader = 0xdead_beefusize as CIMFS_READER_HANDLE;
    let forged_stream = 0x42usize as CIMFS_STREAM_HANDLE;
    let path = CString::new("a").unwrap();
    let mut info = CIMFS_FILE_INFO { Size: std::mem::size_of::<CIMFS_FILE_INFO>() as u32, ..Default::default() };
    unsafe {
        assert_eq!(CimCommitImage(ptr::null_mut()), hr::E_HANDLE);
        assert!(!last_message().is_empty());
        assert_eq!(CimCommitImage(forged_image), hr::E_HANDLE);
        assert_eq!(CimDeletePath(forged_image, path.as_ptr()), hr::E_HANDLE);
        assert_eq!(CimWriteStream(forged_stream, b"x".as_ptr().cast(), 1), hr::E_HANDLE);
        assert_eq!(CimCloseStream(forged_stream), hr::E_HANDLE);
        assert_eq!(CimStatPath(forged_reader, path.as_ptr(), &mut info), hr::E_HANDLE);
        assert_eq!(CimStatPath(ptr::null_mut(), path.as_ptr(), &mut info), hr::E_HANDLE);
        // Closing NULL or garbage is harmless (void functions).
        CimCloseImage(ptr::null_mut());
        CimCloseImage(forged_image);
        CimCloseReader(ptr::null_mut());
        CimCloseReader(forged_reader);
    }
}

#[test]
fn use_after_close_and_double_close() {
    let dir = std::env::temp_dir().join(format!("opencim-sys-raw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cdir = CString::new(dir.to_str().unwrap()).unwrap();
    let name = CString::new("raw.cim").unwrap();
    let file = CString::new("f").unwrap();
    unsafe {
        let mut image: CIMFS_IMAGE_HANDLE = ptr::null_mut();
        assert_eq!(CimCreateImage(cdir.as_ptr(), ptr::null(), name.as_ptr(), &mut image), 0, "{}", last_message());
        let md = CIMFS_FILE_METADATA { Attributes: 0x20, FileSize: 1, ..Default::default() };
        let mut stream: CIMFS_STREAM_HANDLE = ptr::null_mut();
        assert_eq!(CimCreateFile(image, file.as_ptr(), &md, &mut stream), 0, "{}", last_message());
        assert_eq!(CimWriteStream(stream, b"x".as_ptr().cast(), 1), 0);
        assert_eq!(CimCloseStream(stream), 0);
        // Stream: double close and use after close.
        assert_eq!(CimCloseStream(stream), hr::E_HANDLE);
        assert_eq!(CimWriteStream(stream, b"x".as_ptr().cast(), 1), hr::E_HANDLE);
        assert_eq!(CimCommitImage(image), 0, "{}", last_message());
        CimCloseImage(image);
        // Image: use after close, double close.
        assert_eq!(CimCommitImage(image), hr::E_HANDLE);
        assert!(last_message().contains("CimCommitImage"), "{}", last_message());
        CimCloseImage(image);

        let mut reader: CIMFS_READER_HANDLE = ptr::null_mut();
        assert_eq!(CimOpenImage(cdir.as_ptr(), name.as_ptr(), 0, &mut reader), 0, "{}", last_message());
        // A reader handle passed where an image handle is expected is a foreign handle.
        assert_eq!(CimCommitImage(reader as CIMFS_IMAGE_HANDLE), hr::E_HANDLE);
        let mut info = CIMFS_FILE_INFO { Size: std::mem::size_of::<CIMFS_FILE_INFO>() as u32, ..Default::default() };
        assert_eq!(CimStatPath(reader, file.as_ptr(), &mut info), 0);
        assert_eq!(info.FileSize, 1);
        CimCloseReader(reader);
        assert_eq!(CimStatPath(reader, file.as_ptr(), &mut info), hr::E_HANDLE);
        let mut buf = [0u8; 4];
        let mut n = 0u32;
        assert_eq!(CimReadFile(reader, file.as_ptr(), 0, buf.as_mut_ptr().cast(), 4, &mut n), hr::E_HANDLE);
        CimCloseReader(reader);
        // Handle values are never reused: a new reader gets a different value.
        let mut again: CIMFS_READER_HANDLE = ptr::null_mut();
        assert_eq!(CimOpenImage(cdir.as_ptr(), name.as_ptr(), 0, &mut again), 0);
        assert_ne!(again, reader);
        assert_eq!(CimStatPath(reader, file.as_ptr(), &mut info), hr::E_HANDLE);
        CimCloseReader(again);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stream_of_a_closed_image_is_invalid() {
    let dir = std::env::temp_dir().join(format!("opencim-sys-orphan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cdir = CString::new(dir.to_str().unwrap()).unwrap();
    let name = CString::new("orphan.cim").unwrap();
    let file = CString::new("f").unwrap();
    unsafe {
        let mut image: CIMFS_IMAGE_HANDLE = ptr::null_mut();
        assert_eq!(CimCreateImage(cdir.as_ptr(), ptr::null(), name.as_ptr(), &mut image), 0);
        let md = CIMFS_FILE_METADATA { Attributes: 0x20, FileSize: 4, ..Default::default() };
        let mut stream: CIMFS_STREAM_HANDLE = ptr::null_mut();
        assert_eq!(CimCreateFile(image, file.as_ptr(), &md, &mut stream), 0);
        CimCloseImage(image);
        assert_eq!(CimWriteStream(stream, b"abcd".as_ptr().cast(), 4), hr::E_HANDLE);
        // Closing the orphaned stream still releases it; after that it is stale.
        let _ = CimCloseStream(stream);
        assert_eq!(CimCloseStream(stream), hr::E_HANDLE);
    }
    // Nothing was committed: the image name does not exist.
    assert!(!dir.join("orphan.cim").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
