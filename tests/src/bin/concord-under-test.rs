//! The `concord` binary, built inside this package so that end-to-end tests can start it as a
//! separate process (`CARGO_BIN_EXE_concord-under-test`) and kill it. With
//! `CONCORD_TEST_FAULTS` set, its storage takes fault orders on stdin (`concord_tests::faults`).
fn main() -> anyhow::Result<()> {
    if std::env::var_os("CONCORD_TEST_FAULTS").is_some() {
        concord_server::cli::main_with(concord_tests::faults::FaultyLog::controlled_by_stdin)
    } else {
        concord_server::cli::main()
    }
}
