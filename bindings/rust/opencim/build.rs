//! Lets this crate's tests, examples and benches find an uninstalled libopencim without
//! LD_LIBRARY_PATH: opencim-sys (links = "opencim") exports the library directory it linked
//! against as DEP_OPENCIM_LIB_DIR, and rustc-link-arg only applies to this package's own targets.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_OPENCIM_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_OPENCIM_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
