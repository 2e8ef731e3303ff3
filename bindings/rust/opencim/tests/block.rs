//! Single-file block CIMs (hcsshim's BlockCIM of type BlockCIMTypeSingleFile).
mod common;

use common::*;
use opencim::{CreateFlags, ImageWriter, MountFlags, Reader};

#[test]
fn single_file_block_cim_round_trip() {
    let d = TempDir::new("block");
    let big = pattern(70_000, 3);
    let layer = block_layer(&d, "layer", CreateFlags::NONE, |w| {
        file(w, "foobar.txt", "foobar test data");
        mkdir(w, "foo");
        w.write_file("foo/bar.bin", &big).unwrap();
    });
    assert!(layer.dir.is_file(), "a block CIM is one file");
    let r = Reader::open_block(&layer.dir, &layer.name, MountFlags::NONE).unwrap();
    assert_eq!(r.read("foobar.txt").unwrap(), b"foobar test data");
    assert_eq!(r.read("foo\\bar.bin").unwrap(), big);
    // Explicit SINGLE_FILE is the same as the default.
    let r2 = Reader::open_block(&layer.dir, &layer.name, MountFlags::SINGLE_FILE).unwrap();
    assert_eq!(r2.stat("foo").unwrap(), r.stat("foo").unwrap());
    // Opening the block file as a standard CIM directory fails, as does an unknown CIM name.
    assert!(Reader::open(&layer.dir, &layer.name).is_err());
    let e = Reader::open_block(&layer.dir, "other.cim", MountFlags::NONE).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
}

#[test]
fn two_cims_in_one_block_file() {
    let d = TempDir::new("multi");
    let path = d.join("multi.bcim");
    for (name, content) in [("first.cim", "one"), ("second.cim", "two")] {
        let mut w = ImageWriter::create_block(&path, name, CreateFlags::SINGLE_FILE).unwrap();
        file(&mut w, "x", content);
        w.commit().unwrap();
    }
    let first = Reader::open_block(&path, "first.cim", MountFlags::NONE).unwrap();
    let second = Reader::open_block(&path, "second.cim", MountFlags::NONE).unwrap();
    assert_eq!(first.read("x").unwrap(), b"one");
    assert_eq!(second.read("x").unwrap(), b"two");
    // A name already in the block file.
    let e = ImageWriter::create_block(&path, "first.cim", CreateFlags::NONE).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
}

#[test]
fn consistent_block_cims_are_byte_identical() {
    let d = TempDir::new("consistent");
    let mk = |name: &str| {
        block_layer(&d, name, CreateFlags::CONSISTENT, |w| {
            mkdir(w, "dir");
            w.write_file("dir/f", &pattern(5000, 9)).unwrap();
            file(w, "g", "small");
        })
    };
    let (a, b) = (mk("a"), mk("b"));
    assert_eq!(std::fs::read(a.dir).unwrap(), std::fs::read(b.dir).unwrap());
}

#[test]
fn tombstones_and_merge_links_are_invisible_alone() {
    let d = TempDir::new("alone");
    let top = block_layer(&d, "top", CreateFlags::NONE, |w| {
        file(w, "real", "r");
        w.tombstone("hidden").unwrap();
        w.merge_link("ml", "elsewhere").unwrap();
    });
    let r = Reader::open_block(&top.dir, &top.name, MountFlags::NONE).unwrap();
    let names: Vec<_> = r.read_dir("").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["real"]);
    assert!(!r.exists("hidden").unwrap());
    assert!(!r.exists("ml").unwrap());
}
