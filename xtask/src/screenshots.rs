//! `cargo xtask screenshots`: phone-size (390×844) PNGs of every screen, by the same browser
//! harness the tests use (`tests/tests/it/screenshots.rs`), into `docs/screenshots/`.

use anyhow::bail;

use crate::prerequisites::browser;
use crate::util::{cargo, root, run};

pub fn screenshots() -> anyhow::Result<()> {
    let Some((driver, chromium)) = browser() else {
        bail!(
            "screenshots need chromium and chromedriver: apt-get install chromium chromium-driver (and fonts-noto-cjk for the Chinese screens)"
        );
    };
    let dist = crate::dist::dist()?;
    let folder = root().join("docs/screenshots");
    run(cargo()
        .args([
            "test",
            "--package",
            "qol-tests",
            "--test",
            "it",
            "screenshots::every_screen",
            "--",
            "--ignored",
            "--exact",
        ])
        .env("QOL_SCREENSHOTS_DIR", &folder)
        .env("QOL_DIST_DIR", &dist.dir)
        .env("QOL_CHROMEDRIVER", driver)
        .env("QOL_CHROMIUM", chromium))?;
    println!("xtask: screenshots in {}", folder.display());
    Ok(())
}
