//! Layer import/export. Another part of the project implements CimImportLayer; until it lands
//! the functions return E_NOTIMPL (0x80004001) and these tests check only that.
mod common;

use std::os::fd::AsFd;

use common::*;
use opencim::{hr, import_layer, import_layer_from_fd, ImportFlags, ImportOptions, LayerFormat, MountFlags, Reader};

/// A minimal ustar archive (the tar crate is not in the offline registry).
fn tar(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let (mode, size, kind) = match data {
            Some(d) => (0o644, d.len(), b'0'),
            None => (0o755, 0, b'5'),
        };
        h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(format!("{:011o}\0", 1_700_000_000u64).as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        if let Some(d) = data {
            out.extend_from_slice(d);
            out.resize(out.len().next_multiple_of(512), 0);
        }
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn sample_tar(d: &TempDir) -> std::path::PathBuf {
    let path = d.join("layer.tar");
    std::fs::write(&path, tar(&[("hello.txt", Some(b"hello layer")), ("d/", None), ("d/x", Some(b"x data"))])).unwrap();
    path
}

#[test]
fn import_layer_from_path_and_fd() {
    let d = TempDir::new("import");
    let tar_path = sample_tar(&d);
    let opts = ImportOptions { format: LayerFormat::Linux, ..Default::default() };
    let result = match import_layer(&tar_path, d.join("layer.bcim"), "layer.cim", &opts) {
        Err(e) if e.code() == hr::E_NOTIMPL => {
            eprintln!("skipping: CimImportLayer not implemented yet: {e}");
            return;
        }
        r => r.unwrap(),
    };
    assert_eq!(result.entries, 3);
    assert_eq!(result.data_bytes, 17);
    assert_eq!(result.root_hash, None);
    let r = Reader::open_block(d.join("layer.bcim"), "layer.cim", MountFlags::NONE).unwrap();
    assert_eq!(r.read("hello.txt").unwrap(), b"hello layer");
    assert_eq!(r.read("d/x").unwrap(), b"x data");

    // From a file descriptor, verified: the root hash matches the seal.
    let f = std::fs::File::open(&tar_path).unwrap();
    let opts = ImportOptions { flags: ImportFlags::VERIFIED, format: LayerFormat::Linux, ..Default::default() };
    let result = import_layer_from_fd(f.as_fd(), d.join("v.bcim"), "layer.cim", &opts).unwrap();
    let hash = result.root_hash.expect("verified import reports its root hash");
    assert_eq!(opencim::verification_info(d.join("v.bcim")).unwrap().root_hash, Some(hash));
    let r = Reader::open_verified(d.join("v.bcim"), "layer.cim", MountFlags::NONE, &hash).unwrap();
    assert_eq!(r.read("hello.txt").unwrap(), b"hello layer");

    // The block file exists now.
    let e = import_layer(&tar_path, d.join("layer.bcim"), "layer.cim", &Default::default()).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
}

#[test]
fn import_errors() {
    let d = TempDir::new("import-err");
    let e = import_layer(d.join("missing.tar"), d.join("l.bcim"), "l.cim", &Default::default()).unwrap_err();
    if e.code() == hr::E_NOTIMPL {
        eprintln!("skipping: CimImportLayer not implemented yet: {e}");
        return;
    }
    assert_eq!(e.code(), hr::FILE_NOT_FOUND, "{e}");
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    // A hostile archive: a path escaping the root.
    let bad = d.join("bad.tar");
    std::fs::write(&bad, tar(&[("../escape", Some(b"x"))])).unwrap();
    let e = import_layer(&bad, d.join("b.bcim"), "b.cim", &Default::default()).unwrap_err();
    assert_eq!(e.code(), hr::INVALID_DATA, "{e}");
    assert!(e.message().contains("escape"), "{e}");
    assert!(!d.join("b.bcim").exists(), "nothing published on failure");
}

#[test]
fn export_round_trip() {
    let d = TempDir::new("export");
    let layer = block_layer(&d, "l", opencim::CreateFlags::NONE, |w| file(w, "a.txt", "exported"));
    let out = d.join("out.tar");
    match opencim::export_layer(&layer.dir, &layer.name, MountFlags::SINGLE_FILE, LayerFormat::Auto, &out) {
        Err(e) if e.code() == hr::E_NOTIMPL => eprintln!("skipping: CimExportLayer not implemented yet: {e}"),
        r => {
            r.unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert!(bytes.windows(8).any(|w| w == b"exported"), "file data in the tar");
        }
    }
}
