//! The web page's files are embedded in the binary (`include_dir!` in `src/web.rs`): rebuild
//! when any of them changes, including the wasm build `scripts/build-web.sh` writes into
//! `pkg/`.
fn main() {
    println!("cargo:rerun-if-changed=../client-wasm/web");
}
