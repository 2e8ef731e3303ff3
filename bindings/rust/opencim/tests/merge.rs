//! Merged block CIMs: topmost wins, tombstones, opaque directories, merge-link chains.
mod common;

use common::*;
use opencim::{merge_block_cims, CreateFlags, ImagePath, ImageWriter, MergeFlags, MountFlags, Reader};

/// base <- mid <- top, merged into merged.bcim; returns [merged, top, mid, base].
fn three_layers(d: &TempDir) -> Vec<ImagePath> {
    let base = block_layer(d, "base", CreateFlags::NONE, |w| {
        file(w, "foo.txt", "foo base");
        file(w, "foobar.txt", "foobar test data");
        mkdir(w, "dir");
        file(w, "dir/old.txt", "old");
        mkdir(w, "gone");
        file(w, "gone/x", "x");
        file(w, "single", "base single");
        mkdir(w, "opaque");
        file(w, "opaque/lower", "lower");
    });
    let mid = block_layer(d, "mid", CreateFlags::NONE, |w| {
        file(w, "foo.txt", "foo mid");
        file(w, "bar.txt", "bar");
        mkdir(w, "dir");
        file(w, "dir/new.txt", "new");
        // A link chain: mid_link -> foobar.txt (in base).
        w.merge_link("mid_link.txt", "foobar.txt").unwrap();
    });
    let top = block_layer(d, "top", CreateFlags::NONE, |w| {
        file(w, "foo.txt", "foo top");
        w.tombstone("gone").unwrap();
        w.tombstone("single").unwrap();
        w.tombstone("opaque").unwrap();
        mkdir(w, "opaque");
        file(w, "opaque/upper", "upper");
        // top_link -> mid_link (in mid) -> foobar.txt (in base).
        w.merge_link("top_link.txt", "mid_link.txt").unwrap();
    });
    let merged = ImagePath::new(d.join("merged.bcim"), "merged.cim");
    merge_block_cims(&merged, &[top.clone(), mid.clone(), base.clone()], CreateFlags::NONE).unwrap();
    vec![merged, top, mid, base]
}

#[test]
fn merge_of_three_topmost_wins() {
    let d = TempDir::new("merge3");
    let paths = three_layers(&d);
    let r = Reader::open_merged(&paths, MountFlags::NONE).unwrap();
    assert_eq!(r.read("foo.txt").unwrap(), b"foo top");
    assert_eq!(r.read("bar.txt").unwrap(), b"bar");
    assert_eq!(r.read("foobar.txt").unwrap(), b"foobar test data");
    // Directories merge: entries of both layers.
    let mut dir: Vec<_> = r.read_dir("dir").unwrap().into_iter().map(|e| e.name).collect();
    dir.sort();
    assert_eq!(dir, ["new.txt", "old.txt"]);
    // Each layer alone still has its own version.
    let mid = Reader::open_block(&paths[2].dir, &paths[2].name, MountFlags::NONE).unwrap();
    assert_eq!(mid.read("foo.txt").unwrap(), b"foo mid");
}

#[test]
fn tombstones_hide_lower_layers() {
    let d = TempDir::new("tomb");
    let r = Reader::open_merged(&three_layers(&d), MountFlags::NONE).unwrap();
    assert!(!r.exists("gone").unwrap());
    assert!(!r.exists("single").unwrap());
    let e = r.stat("gone/x").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    // A directory tombstoned and recreated in the same layer is opaque.
    let names: Vec<_> = r.read_dir("opaque").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["upper"]);
    assert!(!r.exists("opaque/lower").unwrap());
}

#[test]
fn merge_link_chain_resolves_across_layers() {
    let d = TempDir::new("links");
    let r = Reader::open_merged(&three_layers(&d), MountFlags::NONE).unwrap();
    let target = r.stat("foobar.txt").unwrap();
    for link in ["top_link.txt", "mid_link.txt"] {
        assert_eq!(r.read(link).unwrap(), b"foobar test data", "{link}");
        assert_eq!(r.stat(link).unwrap().file_id, target.file_id, "{link} is a hard link");
    }
    assert_eq!(r.stat("foobar.txt").unwrap().link_count, 3);
}

#[test]
fn wrong_source_order_and_missing_sources_are_detected() {
    let d = TempDir::new("order");
    let p = three_layers(&d);
    let wrong = [p[0].clone(), p[2].clone(), p[1].clone(), p[3].clone()];
    assert!(Reader::open_merged(&wrong, MountFlags::NONE).is_err());
    let e = Reader::open_merged(&p[..1], MountFlags::NONE).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
}

#[test]
fn unresolvable_merge_link_fails_the_merge() {
    let d = TempDir::new("badlink");
    let top = block_layer(&d, "top", CreateFlags::NONE, |w| w.merge_link("l", "missing_target").unwrap());
    let base = block_layer(&d, "base", CreateFlags::NONE, |w| file(w, "x", "x"));
    let merged = ImagePath::new(d.join("merged.bcim"), "merged.cim");
    let mut w = ImageWriter::create_block(&merged.dir, &merged.name, CreateFlags::NONE).unwrap();
    w.add_merge_source(&top, MergeFlags::SINGLE_FILE).unwrap();
    w.add_merge_source(&base, MergeFlags::NONE).unwrap();
    let e = w.commit().unwrap_err();
    assert!(e.message().contains("missing_target"), "{e}");
    drop(w);
    assert!(!merged.dir.exists(), "a failed merge publishes nothing");
}

#[test]
fn merge_needs_two_sources() {
    let d = TempDir::new("one");
    let only = block_layer(&d, "only", CreateFlags::NONE, |w| file(w, "x", "x"));
    let merged = ImagePath::new(d.join("merged.bcim"), "merged.cim");
    let e = merge_block_cims(&merged, &[only], CreateFlags::NONE).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
}
