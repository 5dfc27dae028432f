//! `cargo xtask release`: a versioned tarball a site installs on a clean Debian machine with
//! nothing else: `qol-VERSION-ARCH-linux.tar.gz` in `target/release-artifacts/`, holding the
//! `qol` binary built for release, the built web app (`dist/`), the default protocol, the docs,
//! and `deploy/` (a systemd unit, a nightly backup timer, an nginx TLS proxy example, a
//! Containerfile). `cargo xtask test` builds it and `tests/tests/it/release.rs` unpacks it in an
//! empty folder and serves from it.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use sha2::{Digest, Sha256};

use crate::dist::Dist;
use crate::util::{cargo, root, run, target_dir};

/// The tarball written and the folder it was made from.
#[derive(Debug)]
pub struct Release {
    pub tarball: PathBuf,
}

/// `cargo xtask release`.
pub fn release() -> anyhow::Result<()> {
    let dist = crate::dist::dist()?;
    let made = release_with(&dist)?;
    println!("{}", made.tarball.display());
    Ok(())
}

/// The release around an already built `dist/`.
pub fn release_with(dist: &Dist) -> anyhow::Result<Release> {
    ensure!(dist.optimised, "the web app was not optimised (wasm-opt missing): not a release");
    run(cargo().args(["build", "--release", "--package", "qol-server", "--bin", "qol"]))?;
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("qol-{version}-{}-linux", std::env::consts::ARCH);
    let out = target_dir().join("release-artifacts");
    let staging = out.join(&name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("could not clear {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)?;
    let repo = root();
    copy(&target_dir().join("release/qol"), &staging.join("qol"))?;
    copy_tree(&dist.dir, &staging.join("dist"))?;
    copy(&repo.join("shared/protocol/default.json"), &staging.join("protocol/default.json"))?;
    for file in ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"] {
        if repo.join(file).is_file() {
            copy(&repo.join(file), &staging.join(file))?;
        }
    }
    for entry in std::fs::read_dir(repo.join("docs"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "md") {
            copy(&path, &staging.join("docs").join(path.file_name().unwrap_or_default()))?;
        }
    }
    copy_tree(&repo.join("deploy"), &staging.join("deploy"))?;
    let tarball = out.join(format!("{name}.tar.gz"));
    run(std::process::Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-czf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&out)
        .arg(&name))?;
    let bytes = std::fs::read(&tarball)?;
    let sum: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(out.join(format!("{name}.tar.gz.sha256")), format!("{sum}  {name}.tar.gz\n"))?;
    eprintln!("xtask: release {} ({:.1} MB, sha256 {sum})", tarball.display(), bytes.len() as f64 / 1e6);
    Ok(Release { tarball })
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("could not copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("could not read {}", from.display()))? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}
