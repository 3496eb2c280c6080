//! The `concord` binary, built inside this package so that end-to-end tests can start it as a
//! separate process (`CARGO_BIN_EXE_concord-under-test`) and kill it.
fn main() -> anyhow::Result<()> {
    concord_server::cli::main()
}
