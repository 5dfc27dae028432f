//! The release tarball (`cargo xtask release`; `cargo xtask test` builds it and names it in
//! `QOL_RELEASE_TARBALL`), as a site gets it: unpacked in an empty folder, the binary linked to
//! nothing but the C library, started with no environment at all, serving the app, the console
//! and the API from its own files.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The libraries every Debian machine has; the binary may need these and nothing more.
const SYSTEM_LIBRARIES: [&str; 8] =
    ["linux-vdso", "libgcc_s", "libm", "libc", "ld-linux", "libpthread", "libdl", "librt"];

#[tokio::test]
async fn the_release_unpacks_in_an_empty_folder_and_serves() {
    let Some(tarball) = std::env::var_os("QOL_RELEASE_TARBALL").map(PathBuf::from) else {
        qol_tests::skip("no release tarball (QOL_RELEASE_TARBALL)", "cargo xtask test builds one");
        return;
    };
    let folder = std::env::temp_dir().join(format!("qol-release-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(&folder).status().unwrap();
    assert!(status.success());
    let unpacked: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(unpacked.len(), 1, "one top folder: {unpacked:?}");
    let top = &unpacked[0];
    for file in [
        "qol",
        "dist/index.html",
        "dist/staff.html",
        "protocol/default.json",
        "README.md",
        "docs/research.md",
        "deploy/qol.service",
        "deploy/qol-backup.timer",
        "deploy/nginx.conf",
        "deploy/Containerfile",
    ] {
        assert!(top.join(file).is_file(), "the release has no {file}");
    }

    // Linked to the C library alone: no OpenSSL, no libsqlite3, no libpq to install.
    let ldd = Command::new("ldd").arg(top.join("qol")).output().unwrap();
    let libraries = String::from_utf8_lossy(&ldd.stdout).into_owned();
    for line in libraries.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let name = line.split_whitespace().next().unwrap_or_default();
        let name = name.rsplit('/').next().unwrap_or(name);
        assert!(
            SYSTEM_LIBRARIES.iter().any(|system| name.starts_with(system)),
            "the binary needs {name}, which a clean machine lacks:\n{libraries}"
        );
    }

    // Served from the folder with nothing in the environment: a demo study in ./data.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut server = Command::new(top.join("qol"))
        .args(["serve", "--demo", "--database-url", "sqlite://data/qol.db", "--dist-dir", "dist"])
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(top)
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            ready = true;
            break;
        }
        if let Ok(Some(status)) = server.try_wait() {
            let mut log = String::new();
            use std::io::Read;
            server.stderr.take().unwrap().read_to_string(&mut log).unwrap();
            panic!("the released qol exited ({status}):\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the released qol never became ready");
    let page = |path: &'static str| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, index) = page("/").await;
    assert!(status.is_success() && index.contains("<html"), "{status}: {index}");
    let (status, staff) = page("/staff").await;
    assert!(status.is_success() && staff.contains("<html"), "{status}");
    let (status, study) = page("/api/v1/study").await;
    assert!(status.is_success() && study.contains("IVB"), "{status}: {study}");
    assert!(top.join("data/qol.db").is_file(), "the database is in the folder it was started in");
    // SIGTERM: it stops by itself.
    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    let mut stopped = false;
    for _ in 0..100 {
        if server.try_wait().unwrap().is_some() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !stopped {
        server.kill().unwrap();
    }
    assert!(stopped, "the released qol did not stop on SIGTERM");
    let _ = std::fs::remove_dir_all(&folder);
}
