//! Standard CIMs written with ImageWriter and read back with Reader (hcsshim-style write/read).
mod common;

use std::io::{Read, Seek, SeekFrom, Write};

use common::*;
use opencim::{attributes, ImageWriter, Metadata, Reader};

#[test]
fn write_and_read_back() {
    let d = TempDir::new("wr");
    let big = pattern(300_000, 1);
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    {
        let mut w = ImageWriter::create(d.path(), "test.cim").unwrap();
        w.create_directory("Files", &Metadata::directory().with_times(t)).unwrap();
        w.create_directory("Files\\dir", &Metadata::directory()).unwrap();
        let mut s = w.create_file("Files/foo.txt", &Metadata::file(11).with_times(t)).unwrap();
        s.write_all(b"hello ").unwrap();
        s.write_all(b"world").unwrap();
        s.close().unwrap();
        let mut s = w.create_file("Files/dir/big.bin", &Metadata::file(big.len() as u64)).unwrap();
        for chunk in big.chunks(7_000) {
            s.write_all(chunk).unwrap();
        }
        s.close().unwrap();
        file(&mut w, "Files/empty", "");
        w.create_hard_link("Files/link.txt", "Files/foo.txt").unwrap();
        let mut s = w.create_alternate_stream("Files/foo.txt:meta", 3).unwrap();
        s.write_data(b"ads").unwrap();
        s.close().unwrap();
        file(&mut w, "Files/deleted", "gone");
        w.delete("Files/deleted").unwrap();
        w.commit().unwrap();
    }
    assert!(d.join("test.cim").exists());

    let r = Reader::open(d.path(), "test.cim").unwrap();
    let root = r.read_dir("").unwrap();
    assert_eq!(root.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["Files"]);
    assert!(root[0].info.is_dir());
    let mut names: Vec<_> = r.read_dir("Files").unwrap().into_iter().map(|e| e.name).collect();
    names.sort();
    assert_eq!(names, ["dir", "empty", "foo.txt", "link.txt"]);

    let foo = r.stat("Files/foo.txt").unwrap();
    assert_eq!(foo.size, 11);
    assert_eq!(foo.attributes & attributes::DIRECTORY, 0);
    assert_eq!(foo.link_count, 2);
    assert_eq!(foo.modified(), t);
    assert_eq!(r.stat("Files/link.txt").unwrap().file_id, foo.file_id);
    assert_eq!(r.read("Files/link.txt").unwrap(), b"hello world");
    assert_eq!(r.read("Files/dir/big.bin").unwrap(), big);
    assert_eq!(r.read("Files/empty").unwrap(), b"");
    assert!(!r.exists("Files/deleted").unwrap());
    assert!(r.exists("files/FOO.TXT").unwrap(), "Windows images are case-insensitive");

    let streams = r.streams("Files/foo.txt").unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!((streams[0].name.as_str(), streams[0].size), ("meta", 3));
    assert_eq!(r.stat("Files/foo.txt:meta").unwrap().size, 3);
    assert_eq!(r.read("Files/foo.txt:meta").unwrap(), b"ads");
    assert!(r.streams("Files/link.txt").unwrap().len() == 1, "hard links share streams");
}

#[test]
fn file_is_read_and_seek() {
    let d = TempDir::new("seek");
    let data = pattern(100_000, 7);
    {
        let mut w = ImageWriter::create(d.path(), "s.cim").unwrap();
        w.write_file("data", &data).unwrap();
        w.commit().unwrap();
    }
    let r = Reader::open(d.path(), "s.cim").unwrap();
    let mut f = r.open_file("data").unwrap();
    assert_eq!(f.len(), data.len() as u64);
    let mut buf = [0u8; 10];
    f.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, &data[..10]);
    assert_eq!(f.seek(SeekFrom::Current(90)).unwrap(), 100);
    f.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, &data[100..110]);
    assert_eq!(f.seek(SeekFrom::End(-5)).unwrap(), data.len() as u64 - 5);
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, &data[data.len() - 5..]);
    assert_eq!(f.read(&mut buf).unwrap(), 0, "EOF");
    // Past the end: reads return 0, as for std::fs::File.
    f.seek(SeekFrom::Start(data.len() as u64 + 1000)).unwrap();
    assert_eq!(f.read(&mut buf).unwrap(), 0);
    let err = f.seek(SeekFrom::Current(-(data.len() as i64) - 2000)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    f.rewind().unwrap();
    let mut all = Vec::new();
    f.read_to_end(&mut all).unwrap();
    assert_eq!(all, data);
    // Positional reads without a cursor.
    let mut mid = [0u8; 4];
    assert_eq!(r.read_at("data", 50_000, &mut mid).unwrap(), 4);
    assert_eq!(&mid, &data[50_000..50_004]);
}

#[test]
fn security_descriptor_eas_and_reparse_data_round_trip() {
    let d = TempDir::new("md");
    let sd = vec![1u8, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    // One FILE_FULL_EA_INFORMATION entry: next=0, flags=0, name len 4, value len 2, "USER\0", "hi".
    let mut ea = vec![0u8, 0, 0, 0, 0, 4, 2, 0];
    ea.extend_from_slice(b"USER\0hi");
    ea.resize(ea.len().next_multiple_of(4), 0);
    // A symlink reparse buffer (IO_REPARSE_TAG_SYMLINK) with minimal data.
    let mut reparse = 0xA000_000Cu32.to_le_bytes().to_vec();
    reparse.extend_from_slice(&4u16.to_le_bytes());
    reparse.extend_from_slice(&[0, 0, 1, 2, 3, 4]);
    {
        let mut w = ImageWriter::create(d.path(), "md.cim").unwrap();
        let md = Metadata { security_descriptor: sd.clone(), extended_attributes: ea.clone(), ..Metadata::file(0) };
        w.create_file("withsd", &md).unwrap().close().unwrap();
        let md = Metadata {
            attributes: attributes::REPARSE_POINT | attributes::ARCHIVE,
            reparse_data: reparse.clone(),
            ..Metadata::file(0)
        };
        w.create_file("link", &md).unwrap().close().unwrap();
        w.commit().unwrap();
    }
    let r = Reader::open(d.path(), "md.cim").unwrap();
    assert_eq!(r.security_descriptor("withsd").unwrap(), sd);
    assert_eq!(r.extended_attributes("withsd").unwrap(), ea);
    assert_eq!(r.reparse_data("withsd").unwrap(), b"");
    assert_eq!(r.reparse_data("link").unwrap(), reparse);
    let info = r.stat("link").unwrap();
    assert!(info.is_reparse_point());
    assert_eq!(info.reparse_tag, 0xA000_000C);
}

#[test]
fn uncommitted_image_is_discarded() {
    let d = TempDir::new("discard");
    {
        let mut w = ImageWriter::create(d.path(), "never.cim").unwrap();
        file(&mut w, "x", "data");
        // dropped without commit
    }
    assert!(!d.join("never.cim").exists());
    let e = Reader::open(d.path(), "never.cim").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    // Nothing half-written remains in the directory.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn fork_inherits_and_overrides() {
    let d = TempDir::new("fork");
    {
        let mut w = ImageWriter::create(d.path(), "base.cim").unwrap();
        file(&mut w, "keep", "base keep");
        file(&mut w, "replace", "base replace");
        file(&mut w, "remove", "base remove");
        w.commit().unwrap();
    }
    {
        let mut w = ImageWriter::fork(d.path(), "base.cim", "child.cim").unwrap();
        file(&mut w, "replace", "child replace");
        w.delete("remove").unwrap();
        file(&mut w, "new", "child new");
        w.commit().unwrap();
    }
    let base = Reader::open(d.path(), "base.cim").unwrap();
    let child = Reader::open(d.path(), "child.cim").unwrap();
    assert_eq!(base.read("replace").unwrap(), b"base replace");
    assert!(base.exists("remove").unwrap());
    assert_eq!(child.read("keep").unwrap(), b"base keep");
    assert_eq!(child.read("replace").unwrap(), b"child replace");
    assert_eq!(child.read("new").unwrap(), b"child new");
    assert!(!child.exists("remove").unwrap());
}

#[test]
fn long_unicode_names_grow_the_name_buffer() {
    // 200 three-byte characters: 600 UTF-8 bytes, more than the first 256-byte buffer.
    let name = "€".repeat(200);
    let d = TempDir::new("names");
    {
        let mut w = ImageWriter::create(d.path(), "n.cim").unwrap();
        file(&mut w, &name, "euro");
        let mut s = w.create_alternate_stream(&format!("{name}:{name}"), 1).unwrap();
        s.write_data(b"!").unwrap();
        s.close().unwrap();
        w.commit().unwrap();
    }
    let r = Reader::open(d.path(), "n.cim").unwrap();
    let entries = r.read_dir("").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, name);
    assert_eq!(r.read(&name).unwrap(), b"euro");
    assert_eq!(r.streams(&name).unwrap()[0].name, name);
}
