fn main() -> anyhow::Result<()> {
    concord_server::cli::main()
}
