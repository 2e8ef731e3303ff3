//! 8 threads reading one image concurrently through one Arc<Reader> (Reader is Send + Sync).
mod common;

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use common::*;
use opencim::{CreateFlags, MountFlags, Reader};

const FILES: usize = 24;

#[test]
fn eight_threads_read_one_image() {
    let d = TempDir::new("stress");
    let contents: Vec<Vec<u8>> = (0..FILES).map(|i| pattern(1000 + i * 7919, i as u32)).collect();
    let layer = block_layer(&d, "stress", CreateFlags::NONE, |w| {
        mkdir(w, "d");
        for (i, c) in contents.iter().enumerate() {
            w.write_file(&format!("d/f{i:02}"), c).unwrap();
        }
    });
    let reader = Arc::new(Reader::open_block(&layer.dir, &layer.name, MountFlags::NONE).unwrap());
    let contents = Arc::new(contents);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (reader, contents) = (Arc::clone(&reader), Arc::clone(&contents));
            std::thread::spawn(move || {
                let mut checked = 0usize;
                for round in 0..40 {
                    let i = (t * 5 + round * 3) % FILES;
                    let path = format!("d/f{i:02}");
                    // Whole-file read, seeks and partial reads, stat and enumeration interleaved.
                    assert_eq!(reader.read(&path).unwrap(), contents[i], "thread {t} {path}");
                    let mut f = reader.open_file(&path).unwrap();
                    let mid = contents[i].len() as u64 / 2;
                    f.seek(SeekFrom::Start(mid)).unwrap();
                    let mut buf = vec![0u8; 100];
                    f.read_exact(&mut buf).unwrap();
                    assert_eq!(buf, contents[i][mid as usize..mid as usize + 100]);
                    assert_eq!(reader.stat(&path).unwrap().size, contents[i].len() as u64);
                    if round % 8 == 0 {
                        assert_eq!(reader.read_dir("d").unwrap().len(), FILES);
                    }
                    assert!(reader.stat(&format!("d/missing{t}")).is_err());
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().expect("reader thread panicked")).sum();
    assert_eq!(total, 8 * 40);
    // The last owner closes the reader; all clones are gone.
    assert_eq!(Arc::strong_count(&reader), 1);
}

#[test]
fn reader_moves_between_threads() {
    let d = TempDir::new("move");
    let layer = block_layer(&d, "m", CreateFlags::NONE, |w| file(w, "x", "moved"));
    let reader = Reader::open_block(&layer.dir, &layer.name, MountFlags::NONE).unwrap();
    let data = std::thread::spawn(move || reader.read("x").unwrap()).join().unwrap();
    assert_eq!(data, b"moved");
    // Writers are Send too: build an image on another thread.
    let path = d.join("w.bcim");
    let p2 = path.clone();
    let w = opencim::ImageWriter::create_block(&path, "w.cim", CreateFlags::NONE).unwrap();
    std::thread::spawn(move || {
        let mut w = w;
        file(&mut w, "y", "from thread");
        w.commit().unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(Reader::open_block(&p2, "w.cim", MountFlags::NONE).unwrap().read("y").unwrap(), b"from thread");
}
