//! Verified block CIMs: seal, verification info, verified open with the right and a wrong hash,
//! tampering, and verified merges.
mod common;

use std::io::ErrorKind;

use common::*;
use opencim::{
    append_vhd_footer, hr, merge_block_cims, seal, verification_info, CreateFlags, ImagePath, MountFlags, Reader,
};

fn sealed_layer(d: &TempDir, name: &str, fill: impl FnOnce(&mut opencim::ImageWriter)) -> (ImagePath, [u8; 32]) {
    let layer = block_layer(d, name, CreateFlags::VERIFIED, fill);
    let info = verification_info(&layer.dir).unwrap();
    assert_eq!(info.root_hash, None, "not sealed before CimSealImage");
    let hash = seal(&layer.dir).unwrap();
    (layer, hash)
}

#[test]
fn seal_and_open_verified() {
    let d = TempDir::new("seal");
    let data = pattern(200_000, 11);
    let (layer, hash) = sealed_layer(&d, "v", |w| {
        file(w, "hello.txt", "verified hello");
        w.write_file("big", &data).unwrap();
    });
    assert_ne!(hash, [0u8; 32]);
    let info = verification_info(&layer.dir).unwrap();
    assert_eq!(info.root_hash, Some(hash));
    assert_eq!(info.fixed_header_size, 4096);
    assert_eq!(seal(&layer.dir).unwrap(), hash, "sealing again returns the same hash");

    let r = Reader::open_verified(&layer.dir, &layer.name, MountFlags::NONE, &hash).unwrap();
    assert_eq!(r.read("hello.txt").unwrap(), b"verified hello");
    assert_eq!(r.read("big").unwrap(), data);
    // A sealed CIM opened without a hash reads unverified.
    let plain = Reader::open_block(&layer.dir, &layer.name, MountFlags::NONE).unwrap();
    assert_eq!(plain.read("hello.txt").unwrap(), b"verified hello");
}

#[test]
fn wrong_hash_is_an_integrity_violation() {
    let d = TempDir::new("wrong");
    let (layer, mut hash) = sealed_layer(&d, "v", |w| file(w, "a", "a"));
    hash[0] ^= 0xff;
    let e = Reader::open_verified(&layer.dir, &layer.name, MountFlags::NONE, &hash).unwrap_err();
    assert_eq!(e.code(), hr::INTEGRITY_VIOLATION, "{e}");
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert!(e.message().contains("integrity violation"), "{e}");
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), ErrorKind::InvalidData);
}

#[test]
fn tampered_data_fails_verified_reads() {
    let d = TempDir::new("tamper");
    let data = pattern(64 * 1024, 12);
    let (layer, hash) = sealed_layer(&d, "v", |w| w.write_file("data", &data).unwrap());
    // Flip one byte of the file data: find it in the block file (it is stored uncompressed).
    let mut bytes = std::fs::read(&layer.dir).unwrap();
    let at = bytes.windows(64).position(|w| w == &data[1000..1064]).expect("data stored in the block file");
    bytes[at + 10] ^= 0x01;
    std::fs::write(&layer.dir, &bytes).unwrap();
    let r = Reader::open_verified(&layer.dir, &layer.name, MountFlags::NONE, &hash).unwrap();
    let e = r.read("data").unwrap_err();
    assert_eq!(e.code(), hr::INTEGRITY_VIOLATION, "{e}");
    assert!(e.message().contains("integrity violation"), "{e}");
    // Unverified, the same read "succeeds" with the flipped byte.
    let plain = Reader::open_block(&layer.dir, &layer.name, MountFlags::NONE).unwrap();
    assert_ne!(plain.read("data").unwrap(), data);
}

#[test]
fn unverified_block_cim_cannot_be_sealed() {
    let d = TempDir::new("noseal");
    let layer = block_layer(&d, "plain", CreateFlags::NONE, |w| file(w, "a", "a"));
    let e = seal(&layer.dir).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = seal(d.join("missing.bcim")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
fn verified_merge() {
    let d = TempDir::new("vmerge");
    let (top, _) = sealed_layer(&d, "top", |w| {
        file(w, "f", "top");
        w.tombstone("gone").unwrap();
    });
    let (base, _) = sealed_layer(&d, "base", |w| {
        file(w, "f", "base");
        file(w, "gone", "gone");
        file(w, "b", "base only");
    });
    let merged = ImagePath::new(d.join("merged.bcim"), "merged.cim");
    merge_block_cims(&merged, &[top.clone(), base.clone()], CreateFlags::VERIFIED).unwrap();
    let hash = seal(&merged.dir).unwrap();
    let paths = [merged, top, base];
    let r = Reader::open_merged_verified(&paths, MountFlags::NONE, &hash).unwrap();
    assert_eq!(r.read("f").unwrap(), b"top");
    assert_eq!(r.read("b").unwrap(), b"base only");
    assert!(!r.exists("gone").unwrap());
    let mut wrong = hash;
    wrong[31] ^= 1;
    let e = Reader::open_merged_verified(&paths, MountFlags::NONE, &wrong).unwrap_err();
    assert_eq!(e.code(), hr::INTEGRITY_VIOLATION, "{e}");
    assert!(e.message().contains("integrity violation"), "{e}");
}

#[test]
fn vhd_footer_keeps_the_seal() {
    let d = TempDir::new("vhd");
    let (layer, hash) = sealed_layer(&d, "v", |w| file(w, "a", "vhd"));
    append_vhd_footer(&layer.dir).unwrap();
    let bytes = std::fs::read(&layer.dir).unwrap();
    assert_eq!(bytes.len() % 512, 0);
    assert_eq!(&bytes[bytes.len() - 512..bytes.len() - 504], b"conectix", "fixed VHD footer cookie");
    append_vhd_footer(&layer.dir).unwrap();
    assert_eq!(std::fs::metadata(&layer.dir).unwrap().len() as usize, bytes.len(), "appending twice is a no-op");
    assert_eq!(verification_info(&layer.dir).unwrap().root_hash, Some(hash));
    let r = Reader::open_verified(&layer.dir, &layer.name, MountFlags::NONE, &hash).unwrap();
    assert_eq!(r.read("a").unwrap(), b"vhd");
    let e = append_vhd_footer(d.join("missing.bcim")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
