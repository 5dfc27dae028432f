//! `cargo xtask screenshots`: phone-size (390×844) PNGs of every screen, by the same browser
//! harness the tests use (`tests/tests/it/screenshots.rs`), into `docs/screenshots/`.

use anyhow::bail;

use crate::prerequisites::browser;
use crate::util::{root, run_browser_harness};

pub fn screenshots() -> anyhow::Result<()> {
    let Some(browser) = browser() else {
        bail!(
            "screenshots need chromium and chromedriver: apt-get install chromium chromium-driver (and fonts-noto-cjk for the Chinese screens)"
        );
    };
    let dist = crate::dist::dist()?;
    let folder = root().join("docs/screenshots");
    run_browser_harness("screenshots::every_screen", &dist.dir, browser, ("QOL_SCREENSHOTS_DIR", &folder))?;
    println!("xtask: screenshots in {}", folder.display());
    Ok(())
}
