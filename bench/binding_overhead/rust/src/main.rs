//! Times N calls of CimStatPath on one path through the Rust binding and prints one line:
//!   rust <ns_per_call>
//! Usage: opencim-stat-bench [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]
//!   --raw    call opencim_sys::CimStatPath with a prepared C string (no per-call conversion)
//!            instead of Reader::stat, the call an application makes
//!   --image  stat PATH in an existing single-file block CIM; by default a small one is created
//!            in a temporary directory and "dir/file" is stat'ed
//! Diagnostics go to stderr so stdout carries only the result line.
use std::ffi::CString;
use std::hint::black_box;
use std::time::Instant;

use opencim::{CreateFlags, ImageWriter, Metadata, MountFlags, Reader};
use opencim_sys as sys;

struct Args {
    iterations: u64,
    raw: bool,
    image: Option<(String, String, String)>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { iterations: 1_000_000, raw: false, image: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut next = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--iterations" => a.iterations = next()?.parse().map_err(|e| format!("--iterations: {e}"))?,
            "--raw" => a.raw = true,
            "--image" => a.image = Some((next()?, next()?, next()?)),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(a)
}

fn safe_loop(reader: &Reader, path: &str, n: u64) -> u64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(reader.stat(black_box(path)).expect("stat"));
    }
    start.elapsed().as_nanos() as u64
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("opencim-stat-bench: {e}");
        std::process::exit(2);
    });
    std::process::exit(run(args));
}

fn run(args: Args) -> i32 {
    let temp = std::env::temp_dir().join(format!("opencim-bench-rust-{}", std::process::id()));
    let (block, name, path) = match args.image {
        Some(i) => i,
        None => {
            std::fs::create_dir_all(&temp).expect("temp dir");
            let block = temp.join("bench.bcim").to_string_lossy().into_owned();
            let mut w = ImageWriter::create_block(&block, "layer.cim", CreateFlags::NONE).expect("create");
            w.create_directory("dir", &Metadata::directory()).expect("mkdir");
            w.write_file("dir/file", b"benchmark").expect("write");
            w.commit().expect("commit");
            (block, "layer.cim".to_string(), "dir/file".to_string())
        }
    };
    let reader = Reader::open_block(&block, &name, MountFlags::NONE).expect("open");
    let n = args.iterations.max(1);
    let cpath = CString::new(path.clone()).expect("path");
    // --raw uses its own reader handle: the safe Reader does not expose its handle.
    let mut raw: sys::CIMFS_READER_HANDLE = std::ptr::null_mut();
    if args.raw {
        let (b, c) = (CString::new(block.clone()).unwrap(), CString::new(name.clone()).unwrap());
        // SAFETY: valid strings and out-pointer; closed below.
        let hr = unsafe { sys::CimOpenImage(b.as_ptr(), c.as_ptr(), sys::CIM_MOUNT_SINGLE_FILE_CIM, &mut raw) };
        assert_eq!(hr, 0, "CimOpenImage");
    }
    let timed = |n: u64| if args.raw { raw_loop(raw, &cpath, n) } else { safe_loop(&reader, &path, n) };
    timed((n / 10).max(10_000)); // warm-up: caches, page faults, CPU frequency
    let best = (0..3).map(|_| timed(n)).min().unwrap();
    if args.raw {
        // SAFETY: opened above, closed once.
        unsafe { sys::CimCloseReader(raw) };
    }
    eprintln!(
        "rust: {n} x {}(\"{path}\"), best of 3",
        if args.raw { "opencim_sys::CimStatPath" } else { "Reader::stat" }
    );
    println!("rust {:.1}", best as f64 / n as f64);
    drop(reader);
    let _ = std::fs::remove_dir_all(&temp);
    0
}

fn raw_loop(handle: sys::CIMFS_READER_HANDLE, path: &CString, n: u64) -> u64 {
    let mut info =
        sys::CIMFS_FILE_INFO { Size: std::mem::size_of::<sys::CIMFS_FILE_INFO>() as u32, ..Default::default() };
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: live handle, NUL-terminated path, info with Size set.
        let hr = unsafe { sys::CimStatPath(handle, black_box(path.as_ptr()), &mut info) };
        assert_eq!(hr, 0);
        black_box(&info);
    }
    start.elapsed().as_nanos() as u64
}
