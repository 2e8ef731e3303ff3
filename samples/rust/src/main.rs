//! opencim sample (Rust): builds two container-image layers as block CIMs, merges them, reads the
//! merged view back through the reader API, then seals a verified layer and opens it verified.
//!
//! Usage: opencim-sample [work dir]   (default: a new directory under the system temp dir)
use std::error::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

use opencim::{hex, merge_block_cims, seal, CreateFlags, ImagePath, ImageWriter, Metadata, MountFlags, Reader};

fn main() -> Result<(), Box<dyn Error>> {
    let work = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("opencim-sample-rust-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work)?;
    let result = run(&work);
    if std::env::args_os().nth(1).is_none() {
        std::fs::remove_dir_all(&work)?;
    }
    result
}

/// Adds `path` with `content` to the image being written.
fn add_file(w: &mut ImageWriter, path: &str, content: &str) -> opencim::Result<()> {
    let mut stream = w.create_file(path, &Metadata::file(content.len() as u64))?;
    stream.write_data(content.as_bytes())?; // StreamWriter also implements std::io::Write
    stream.close()
}

/// Writes one layer: a single-file block CIM `<work>/<name>.bcim` holding `layer.cim`.
fn write_layer(
    work: &Path,
    name: &str,
    flags: CreateFlags,
    fill: impl FnOnce(&mut ImageWriter) -> opencim::Result<()>,
) -> opencim::Result<ImagePath> {
    let layer = ImagePath::new(work.join(format!("{name}.bcim")), "layer.cim");
    let mut w = ImageWriter::create_block(&layer.dir, &layer.name, flags)?;
    fill(&mut w)?;
    w.commit()?;
    Ok(layer) // the writer is dropped here: CimCloseImage
}

fn run(work: &Path) -> Result<(), Box<dyn Error>> {
    // 1. Two layers: a base and an update that changes, adds and deletes files.
    let base = write_layer(work, "base", CreateFlags::NONE, |w| {
        w.create_directory("Files", &Metadata::directory())?;
        add_file(w, "Files/hello.txt", "hello from the base layer")?;
        add_file(w, "Files/config.ini", "version=1")?;
        add_file(w, "Files/obsolete.txt", "to be deleted by the update")
    })?;
    let update = write_layer(work, "update", CreateFlags::NONE, |w| {
        w.create_directory("Files", &Metadata::directory())?;
        add_file(w, "Files/config.ini", "version=2")?;
        add_file(w, "Files/new.txt", "added by the update")?;
        w.tombstone("Files/obsolete.txt") // hides the base layer's file in the merged view
    })?;
    println!("wrote layers {} and {}", base.dir.display(), update.dir.display());

    // 2. Merge them (topmost first).
    let merged = ImagePath::new(work.join("merged.bcim"), "merged.cim");
    merge_block_cims(&merged, &[update.clone(), base.clone()], CreateFlags::NONE)?;
    println!("merged into {}", merged.dir.display());

    // 3. Read the merged view: [merged, topmost, ..., base].
    let reader = Reader::open_merged(&[merged, update, base], MountFlags::NONE)?;
    for entry in reader.read_dir("Files")? {
        let mut text = String::new();
        reader.open_file(&format!("Files/{}", entry.name))?.read_to_string(&mut text)?;
        println!("merged Files/{} ({} bytes): {}", entry.name, entry.info.size, text);
    }
    println!("obsolete.txt visible: {}", reader.exists("Files/obsolete.txt")?);

    // 4. A verified layer: seal it, then open it checking every read against the root hash.
    let verified = write_layer(work, "verified", CreateFlags::VERIFIED, |w| {
        add_file(w, "payload.txt", "integrity-protected data")
    })?;
    let root_hash = seal(&verified.dir)?;
    println!("sealed {} root hash {}", verified.dir.display(), hex(&root_hash));
    let checked = Reader::open_verified(&verified.dir, &verified.name, MountFlags::NONE, &root_hash)?;
    println!("verified read: {}", String::from_utf8_lossy(&checked.read("payload.txt")?));

    let mut wrong = root_hash;
    wrong[0] ^= 0xff;
    match Reader::open_verified(&verified.dir, &verified.name, MountFlags::NONE, &wrong) {
        Ok(_) => return Err("a wrong root hash was accepted".into()),
        Err(e) => println!("wrong hash rejected: {:?} {:#010x}: {}", e.kind(), e.code() as u32, e.message()),
    }
    Ok(())
}
