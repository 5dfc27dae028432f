//! Finding (and where it is cheap, installing) what the build and the tests need.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::util::{root, run, which};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The npm package that ships a working wasm-opt. Debian's binaryen (wasm-opt 108) produces a
/// build that fails in the browser ("WebAssembly.Table.set(): Argument 1 is invalid for table"),
/// so versions below 116 are refused.
pub const BINARYEN_NPM: &str = "binaryen@132.0.0";
const MIN_WASM_OPT_VERSION: u32 = 116;
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Adds the wasm32 target when the pinned toolchain lacks it. On these machines
/// `RUSTUP_AUTO_INSTALL=0`, so rustup will not do it on its own.
pub fn ensure_wasm_target() -> anyhow::Result<()> {
    let output = Command::new("rustc")
        .current_dir(root())
        .args(["--print", "sysroot"])
        .output()
        .context("could not run rustc")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        eprintln!("xtask: the {WASM_TARGET} target is missing from the toolchain; adding it with rustup");
        run(Command::new("rustup").current_dir(root()).args(["target", "add", WASM_TARGET]))
            .context("could not add the wasm32 target; run `rustup target add wasm32-unknown-unknown`")?;
    }
    // dist rebuilds the standard library for the bundles (see dist.rs, `SIZE_BUILD_STD`).
    if !sysroot.join("lib/rustlib/src/rust/library/std").is_dir() {
        eprintln!("xtask: the standard library's source (rust-src) is missing; adding it with rustup");
        run(Command::new("rustup").current_dir(root()).args(["component", "add", "rust-src"]))
            .context("could not add rust-src; run `rustup component add rust-src`")?;
    }
    Ok(())
}

/// A wasm-opt of version 116 or later: `QOL_WASM_OPT`, then the npm-installed one under
/// `.tools/`, then PATH. When none is found and npm is available, installs binaryen from npm
/// into `.tools/` (about a second).
pub fn wasm_opt() -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = std::env::var_os("QOL_WASM_OPT") {
        let path = PathBuf::from(path);
        return match wasm_opt_version(&path) {
            Some(version) if version >= MIN_WASM_OPT_VERSION => Ok(Some(path)),
            Some(version) => bail!(
                "QOL_WASM_OPT points to wasm-opt {version}; version {MIN_WASM_OPT_VERSION} or later is needed"
            ),
            None => bail!("QOL_WASM_OPT points to {}, which does not run as wasm-opt", path.display()),
        };
    }
    let local = root().join(".tools/node_modules/.bin/wasm-opt");
    let candidates = [Some(local.clone()), which("wasm-opt")];
    for candidate in candidates.into_iter().flatten() {
        match wasm_opt_version(&candidate) {
            Some(version) if version >= MIN_WASM_OPT_VERSION => return Ok(Some(candidate)),
            Some(version) => eprintln!(
                "xtask: ignoring {} (version {version}): it is known to break the app; version {MIN_WASM_OPT_VERSION} or later is needed",
                candidate.display()
            ),
            None => {}
        }
    }
    if which("npm").is_some() {
        eprintln!("xtask: installing wasm-opt from npm ({BINARYEN_NPM}) into .tools/");
        std::fs::create_dir_all(root().join(".tools"))?;
        run(Command::new("npm").current_dir(root()).args([
            "install",
            "--prefix",
            ".tools",
            "--no-audit",
            "--no-fund",
            "--no-save",
            BINARYEN_NPM,
        ]))?;
        if wasm_opt_version(&local).is_some_and(|v| v >= MIN_WASM_OPT_VERSION) {
            return Ok(Some(local));
        }
    }
    Ok(None)
}

fn wasm_opt_version(path: &std::path::Path) -> Option<u32> {
    let output = Command::new(path).arg("--version").output().ok()?;
    // "wasm-opt version 132 (version_132)"
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().skip_while(|word| *word != "version").nth(1)?.parse().ok()
}

/// chromedriver and a Chromium to drive, when both are installed.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver = which("chromedriver")?;
    let chromium = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(which)?;
    Some((driver, chromium))
}

/// The PostgreSQL URL the tests use, and whether something answers at its address.
pub fn postgres() -> (String, bool) {
    let url = std::env::var("QOL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let reachable = host_and_port(&url)
        .and_then(|address| address.to_socket_addrs().ok())
        .into_iter()
        .flatten()
        .any(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok());
    (url, reachable)
}

fn host_and_port(url: &str) -> Option<String> {
    let rest = url.split("://").nth(1)?;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") })
}

#[cfg(test)]
mod tests {
    use super::host_and_port;

    #[test]
    fn postgres_addresses_are_read_from_urls() {
        assert_eq!(host_and_port("postgres://postgres@127.0.0.1:5432/test").unwrap(), "127.0.0.1:5432");
        assert_eq!(host_and_port("postgres://u:p@db/qol").unwrap(), "db:5432");
    }
}
