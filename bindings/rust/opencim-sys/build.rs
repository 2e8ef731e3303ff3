//! Build script of opencim-sys.
//!
//! 1. Finds libopencim: `OPENCIM_BUILD_DIR` (a CMake build directory, used by the repository's
//!    tests and samples) or, when that is unset, the installed `opencim.pc` through pkg-config
//!    with a version range matching the SONAME (1.x).
//! 2. Regenerates the bindings with bindgen from the C header into `$OUT_DIR/bindings.rs` and
//!    compares them with the committed `src/bindings.rs`, which is what the crate compiles. A
//!    difference fails the build: the header changed and the committed file is stale. Refresh it
//!    with `OPENCIM_UPDATE_BINDINGS=1 cargo build` and commit the result.
//!
//! The committed copy exists so that reviewers see the Rust ABI in diffs and so that a header
//! change cannot silently alter the bindings (zstd-sys keeps its bindings the same way).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Major version of the ABI these bindings are written for (the SONAME is libopencim.so.1).
const ABI_MAJOR: u32 = 1;

fn main() {
    for var in ["OPENCIM_BUILD_DIR", "OPENCIM_HEADER", "OPENCIM_UPDATE_BINDINGS", "LIBCLANG_PATH", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=src/bindings.rs");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    let found = find_library();
    let header = find_header(&manifest_dir, found.include_dir.as_deref());
    println!("cargo:rerun-if-changed={}", header.display());
    if let Some(dir) = header.parent().and_then(Path::parent) {
        // Dependents (the safe crate's build script) can find the header through DEP_OPENCIM_INCLUDE.
        println!("cargo:include={}", dir.display());
    }

    let fresh = generate(&header, &out_dir);
    fs::write(out_dir.join("bindings.rs"), &fresh).expect("write $OUT_DIR/bindings.rs");
    check_committed(&manifest_dir.join("src").join("bindings.rs"), &fresh);
}

struct Found {
    include_dir: Option<PathBuf>,
}

/// Emits the link directives for libopencim and returns where its header is, if known.
fn find_library() -> Found {
    if let Some(build_dir) = env::var_os("OPENCIM_BUILD_DIR").filter(|v| !v.is_empty()) {
        let build_dir = PathBuf::from(build_dir);
        let lib_dir = ["", "lib", "lib64", "src"]
            .iter()
            .map(|sub| build_dir.join(sub))
            .find(|d| d.join("libopencim.so").exists())
            .unwrap_or_else(|| {
                panic!(
                    "OPENCIM_BUILD_DIR={} holds no libopencim.so (build it: make -C {} opencim)",
                    build_dir.display(),
                    build_dir.display()
                )
            });
        let lib_dir = lib_dir.canonicalize().unwrap_or(lib_dir);
        println!("cargo:rerun-if-changed={}", lib_dir.join("libopencim.so").display());
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:rustc-link-lib=dylib=opencim");
        // This crate's own test binaries find an uninstalled library without LD_LIBRARY_PATH.
        // (rustc-link-arg does not propagate: dependents read DEP_OPENCIM_LIB_DIR instead.)
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
        println!("cargo:lib_dir={}", lib_dir.display());
        return Found { include_dir: None };
    }
    pkg_config()
}

/// `pkg-config opencim` restricted to the 1.x ABI. The pkg-config crate is not packaged in the
/// offline registry, so this runs the pkg-config tool directly and parses -L/-l/-I.
fn pkg_config() -> Found {
    let range = [format!("opencim >= {ABI_MAJOR}.0"), format!("opencim < {}", ABI_MAJOR + 1)];
    let output = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args(["--libs", "--cflags", "--print-errors"])
        .args(&range)
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "libopencim {ABI_MAJOR}.x not found: set OPENCIM_BUILD_DIR to a CMake build directory or \
             install opencim.pc (pkg-config said: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("libopencim not found: OPENCIM_BUILD_DIR is unset and pkg-config cannot run ({e})"),
    };
    let mut include_dir = None;
    let mut linked = false;
    for flag in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:lib_dir={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={lib}");
            linked |= lib == "opencim";
        } else if let Some(dir) = flag.strip_prefix("-I") {
            include_dir.get_or_insert_with(|| PathBuf::from(dir));
        }
    }
    if !linked {
        println!("cargo:rustc-link-lib=dylib=opencim");
    }
    if include_dir.is_none() {
        include_dir = Command::new("pkg-config")
            .args(["--variable=includedir", "opencim"])
            .output()
            .ok()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    }
    Found { include_dir }
}

/// The header bindgen reads: `OPENCIM_HEADER`, else the repository's copy (this crate lives in
/// bindings/rust/opencim-sys), else the installed one.
fn find_header(manifest_dir: &Path, include_dir: Option<&Path>) -> PathBuf {
    if let Some(h) = env::var_os("OPENCIM_HEADER").filter(|v| !v.is_empty()) {
        return PathBuf::from(h);
    }
    let in_tree = manifest_dir.join("../../../include/opencim/cimfs.h");
    if in_tree.exists() {
        return in_tree.canonicalize().unwrap_or(in_tree);
    }
    if let Some(h) = include_dir.map(|d| d.join("opencim/cimfs.h")).filter(|h| h.exists()) {
        return h;
    }
    panic!("opencim/cimfs.h not found: set OPENCIM_HEADER or install the opencim headers");
}

fn generate(header: &Path, out_dir: &Path) -> String {
    // rustfmt with its default style, whatever rustfmt.toml the surrounding tree has, so that the
    // output (and the staleness check) does not depend on where the crate is built from.
    let rustfmt_config = out_dir.join("bindgen-rustfmt.toml");
    fs::write(&rustfmt_config, "# defaults\n").expect("write rustfmt config");
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        // Only the library's own names; HRESULT and the stdint types come in as dependencies.
        .allowlist_function("Cim.*")
        .allowlist_type("Cim.*|CIMFS_.*|CIM_.*")
        .allowlist_var("CIMFS_.*|CIM_.*|OPENCIM_.*")
        // glibc's __uintN_t typedefs behind <stdint.h>: unused (uintN_t maps to Rust's uN) and
        // platform-specific, so they stay out of the committed file.
        .blocklist_type("__u?int(8|16|32|64)_t")
        // The header has no C enums; should one appear, an unknown value in a Rust enum is UB, so
        // enums become plain integer constants.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .layout_tests(true)
        .derive_default(true)
        .derive_debug(true)
        .derive_copy(true)
        .size_t_is_usize(true)
        .generate_comments(true)
        .rustfmt_bindings(true)
        .rustfmt_configuration_file(Some(rustfmt_config))
        .generate()
        .expect("bindgen failed on opencim/cimfs.h (is libclang installed? set LIBCLANG_PATH)");
    let mut out = Vec::new();
    bindings.write(Box::new(&mut out)).expect("render bindings");
    String::from_utf8(out).expect("bindgen produced UTF-8")
}

fn check_committed(committed_path: &Path, fresh: &str) {
    let update = env::var("OPENCIM_UPDATE_BINDINGS").map(|v| !v.is_empty() && v != "0").unwrap_or(false);
    let committed = fs::read_to_string(committed_path).unwrap_or_default();
    if update {
        if committed != fresh {
            fs::write(committed_path, fresh).expect("write src/bindings.rs");
            println!("cargo:warning=opencim-sys: src/bindings.rs regenerated from the header");
        }
        return;
    }
    if committed == fresh {
        return;
    }
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    if squash(&committed) == squash(fresh) {
        // Same tokens, different layout: another rustfmt version formatted one of them.
        println!(
            "cargo:warning=opencim-sys: src/bindings.rs differs from bindgen's output only in \
             formatting (rustfmt version?); refresh with OPENCIM_UPDATE_BINDINGS=1 cargo build"
        );
        return;
    }
    let first_diff = committed
        .lines()
        .zip(fresh.lines())
        .position(|(a, b)| a != b)
        .map(|i| i + 1)
        .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()) + 1);
    panic!(
        "opencim-sys: the committed src/bindings.rs is stale (first difference at line {first_diff}); \
         the header changed. Regenerate with `OPENCIM_UPDATE_BINDINGS=1 cargo build` in bindings/rust, \
         review the diff and commit it. Fresh output: {}",
        env::var("OUT_DIR").unwrap_or_default() + "/bindings.rs"
    );
}
