//! `cargo run` finds an uninstalled libopencim without LD_LIBRARY_PATH: opencim-sys exports the
//! directory it linked against (from OPENCIM_BUILD_DIR) as DEP_OPENCIM_LIB_DIR.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_OPENCIM_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_OPENCIM_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
