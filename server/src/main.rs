fn main() -> std::process::ExitCode {
    qol_server::cli::main()
}
