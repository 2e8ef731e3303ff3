//! Safe Rust API for libopencim, a portable implementation of Microsoft's CimFS.
//!
//! The types mirror the C ABI (`include/opencim/cimfs.h`) one function at a time:
//!
//! | C | Rust |
//! |---|---|
//! | `CimCreateImage`, `CimCreateImage2` | [`ImageWriter::create`], [`ImageWriter::fork`], [`ImageWriter::create_block`] |
//! | `CimCreateFile` + `CimWriteStream` + `CimCloseStream` | [`ImageWriter::create_file`] → [`StreamWriter`] (`io::Write`) |
//! | `CimCreateAlternateStream`, `CimCreateHardLink`, `CimDeletePath` | same-named methods of [`ImageWriter`] |
//! | `CimTombstoneFile`, `CimCreateMergeLink`, `CimAddFsToMergedImage(2)` | [`ImageWriter::tombstone`], [`ImageWriter::merge_link`], [`ImageWriter::add_merge_source`] |
//! | `CimCommitImage`, `CimCloseImage` | [`ImageWriter::commit`], `Drop` |
//! | `CimSealImage`, `CimGetVerificationInformation`, `CimAppendVhdFooter` | [`seal`], [`verification_info`], [`append_vhd_footer`] |
//! | `CimOpen*Image`, `CimCloseReader` | [`Reader::open`] and friends, `Drop` |
//! | `CimStatPath`, `CimEnumerate*`, `CimReadFile`, `CimGet*` | [`Reader`] methods, [`File`] (`Read + Seek`) |
//! | `Cim*Mount*`, `CimDismountImage` | [`mount_image`] and friends, [`dismount_image`] |
//! | `CimImportLayer(FromFd)`, `CimExportLayer` | [`import_layer`], [`import_layer_from_fd`], [`export_layer`] |
//!
//! Every fallible call returns [`Result`]; [`Error`] carries the HRESULT, the library's message
//! and an [`std::io::ErrorKind`], and converts into `std::io::Error`.
//!
//! Each handle has exactly one owner that closes it on `Drop`. A [`StreamWriter`] borrows its
//! image writer mutably and a [`File`] borrows its reader, so use after close cannot be written
//! in safe Rust:
//!
//! ```compile_fail
//! # fn f() -> opencim::Result<()> {
//! let mut w = opencim::ImageWriter::create("/tmp", "x.cim")?;
//! let mut s = w.create_file("a", &opencim::Metadata::file(1))?;
//! drop(w); // error: `w` is borrowed by the stream
//! s.write_data(b"x")?;
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! # fn f() -> opencim::Result<()> {
//! let r = opencim::Reader::open("/tmp", "x.cim")?;
//! let file = r.open_file("a")?;
//! drop(r); // error: `r` is borrowed by the file
//! # drop(file); Ok(()) }
//! ```
//!
//! Example: write a block CIM and read it back.
//!
//! ```no_run
//! use opencim::{CreateFlags, ImageWriter, Metadata, MountFlags, Reader};
//! use std::io::{Read, Write};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut w = ImageWriter::create_block("/tmp/layer.bcim", "layer.cim", CreateFlags::NONE)?;
//!     w.create_directory("dir", &Metadata::directory())?;
//!     let mut s = w.create_file("dir/hello.txt", &Metadata::file(5))?;
//!     s.write_all(b"hello")?;
//!     s.close()?;
//!     w.commit()?;
//!     drop(w);
//!
//!     let r = Reader::open_block("/tmp/layer.bcim", "layer.cim", MountFlags::NONE)?;
//!     let mut text = String::new();
//!     r.open_file("dir/hello.txt")?.read_to_string(&mut text)?;
//!     assert_eq!(text, "hello");
//!     Ok(())
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

mod error;
mod file;
mod flags;
mod image_path;
mod layer;
mod metadata;
mod mount;
mod reader;
mod util;
mod verify;
mod writer;

pub use error::{hr, Error, Result};
pub use file::File;
pub use flags::{CreateFlags, ImportFlags, MergeFlags, MountFlags};
pub use image_path::ImagePath;
pub use layer::{export_layer, import_layer, import_layer_from_fd, ImportOptions, ImportResult, LayerFormat};
pub use metadata::{attributes, filetime_from_system_time, system_time_from_filetime, FileInfo, Metadata};
pub use mount::{
    dismount_image, merge_mount_image, merge_mount_verified_image, mount_image, mount_verified_image,
    volume_mount_path, Guid,
};
pub use reader::{DirEntry, Reader, StreamInfo};
pub use verify::{append_vhd_footer, hex, seal, verification_info, VerificationInfo};
pub use writer::{merge_block_cims, ImageWriter, StreamWriter};

/// The raw bindings, for what the safe API does not cover.
pub use opencim_sys as sys;

/// Version of the C header these bindings were generated from (major.minor.patch).
pub const HEADER_VERSION: (u32, u32, u32) =
    (sys::OPENCIM_VERSION_MAJOR, sys::OPENCIM_VERSION_MINOR, sys::OPENCIM_VERSION_PATCH);
