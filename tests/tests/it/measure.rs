//! Not a test: `cargo xtask bench` runs this (it is ignored otherwise) to measure the app's time
//! to interactive on a first visit over an emulated slow mobile network, and writes the figures
//! as JSON to `QOL_MEASURE_OUT`.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::wd::WebDriverCompatibleCommand;
use qol_tests::{Backend, TestApp, chromedriver, dist_dir, phone_browser};

/// Chrome DevTools' "Slow 4G" preset (Chromium devtools-frontend, `NetworkManager.ts`:
/// 1.6 Mbit/s down and 750 kbit/s up at 90 %, 150 ms × 3.75 latency).
const DOWNLOAD_BYTES_PER_SECOND: f64 = 1.6 * 1000.0 * 1000.0 / 8.0 * 0.9;
const UPLOAD_BYTES_PER_SECOND: f64 = 750.0 * 1000.0 / 8.0 * 0.9;
const LATENCY_MS: f64 = 150.0 * 3.75;

#[derive(Debug)]
struct NetworkConditions;

impl WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/chromium/network_conditions", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "network_conditions": {
            "offline": false,
            "latency": LATENCY_MS,
            "download_throughput": DOWNLOAD_BYTES_PER_SECOND,
            "upload_throughput": UPLOAD_BYTES_PER_SECOND,
        }});
        (http::Method::POST, Some(body.to_string()))
    }
}

#[tokio::test]
#[ignore = "run by cargo xtask bench"]
async fn time_to_interactive_on_slow_4g() {
    let out = std::env::var("QOL_MEASURE_OUT").expect("QOL_MEASURE_OUT names the output file");
    let dist = dist_dir().expect("run cargo xtask dist first");
    let (driver, chromium) = chromedriver().await.expect("chromium and chromedriver");
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist).await.unwrap();
    let mut runs = Vec::new();
    for _ in 0..5 {
        // A new browser each time: an empty cache and no service worker, as on a first visit.
        let browser = phone_browser(&driver, &chromium).await;
        browser.issue_cmd(NetworkConditions).await.expect("chromedriver emulates the network");
        browser.goto(&app.url("/")).await.unwrap();
        browser
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css("#screen-heading"))
            .await
            .unwrap();
        // Interactive: the app has rendered its first screen, whose controls now respond.
        let ms = browser.execute("return performance.now()", vec![]).await.unwrap().as_f64().unwrap();
        let transferred = browser
            .execute(
                "return performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))\
                 .reduce((sum, entry) => sum + (entry.transferSize || 0), 0)",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        runs.push((ms, transferred));
        browser.close().await.unwrap();
    }
    let mut times: Vec<f64> = runs.iter().map(|(ms, _)| *ms).collect();
    times.sort_by(f64::total_cmp);
    let result = serde_json::json!({
        "runs": times,
        "median_ms": times[times.len() / 2],
        "transferred_bytes": runs[0].1,
        "download_bytes_per_second": DOWNLOAD_BYTES_PER_SECOND,
        "latency_ms": LATENCY_MS,
    });
    std::fs::write(out, result.to_string()).unwrap();
}
