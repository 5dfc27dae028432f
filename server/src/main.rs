fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tune_malloc();
    qol_server::cli::main()
}

/// glibc's malloc as a long-running server needs it, set before anything is allocated by
/// starting this program again with `GLIBC_TUNABLES` (the same process: `exec` keeps the pid):
/// - `mmap_threshold=1 MiB`, fixed: a block that large (argon2's 7 MiB working memory, big
///   response buffers) is mapped on its own and given back to the system when freed. By default
///   glibc raises the threshold after the first such free, after which those megabytes stay in
///   the heap for good;
/// - `arena_max=2`: freed memory is kept in at most two arenas rather than one per busy thread.
///
/// Issue 20 measured it (`cargo xtask bench`, SQLite, 200 activations then 3 s idle): 40.8 MB
/// idle and 59 MB at peak untuned, 19.3 MB and 33.5 MB tuned, the same reports per second.
/// A `GLIBC_TUNABLES` already set (by whoever runs qol) is kept as it is; if the restart fails,
/// qol runs untuned.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    use std::os::unix::process::CommandExt;
    const TUNABLES: &str = "glibc.malloc.mmap_threshold=1048576:glibc.malloc.arena_max=2";
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let Ok(program) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let name = args.next().unwrap_or_else(|| program.clone().into_os_string());
    // `exec` returns only when it failed.
    let _failed =
        std::process::Command::new(&program).arg0(name).args(args).env("GLIBC_TUNABLES", TUNABLES).exec();
}
