//! Test helpers for qol's end-to-end tests: the real application on port 0 with a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database), one helper per endpoint,
//! and headless Chromium driven through chromedriver.
//!
//! Prerequisites that may be absent (PostgreSQL, chromedriver, a built `dist/`) are skipped with
//! a loud message, unless `QOL_REQUIRE_ALL=1` (CI), where their absence fails the test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use qol_server::config::ServeConfig;
use qol_server::startup::Application;
use qol_server::storage::Db;
use sqlx::Connection;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `on_both_backends!(name, body_fn)` makes a module
/// `name` with the tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                $body($crate::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                $body($crate::Backend::Postgres).await
            }
        }
    };
}

pub fn require_all() -> bool {
    std::env::var("QOL_REQUIRE_ALL").is_ok_and(|value| value == "1")
}

/// Skips the calling test loudly, or fails it under `QOL_REQUIRE_ALL=1`.
pub fn skip(what: &str, how_to_enable: &str) {
    assert!(!require_all(), "QOL_REQUIRE_ALL=1 but {what}; {how_to_enable}");
    eprintln!("\n*** SKIPPED: {what}\n*** to enable: {how_to_enable}\n");
}

/// Whether the slow tests run (`QOL_SLOW_TESTS=1`; CI sets it). Otherwise the test is skipped
/// loudly, or fails under `QOL_REQUIRE_ALL=1`.
pub fn slow_tests() -> bool {
    if std::env::var("QOL_SLOW_TESTS").is_ok_and(|value| value == "1") {
        return true;
    }
    skip("a slow test (crash durability, fuzzing)", "set QOL_SLOW_TESTS=1");
    false
}

/// A database made for one test, removed when the test ends.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Folder(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh database, or `None` when the backend is unavailable (after [`skip`]).
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let folder = std::env::temp_dir().join(format!("qol-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&folder).unwrap();
                Some(TestDatabase {
                    url: format!("sqlite://{}/qol.db", folder.display()),
                    cleanup: Cleanup::Folder(folder),
                })
            }
            Backend::Postgres => {
                let admin_url =
                    std::env::var("QOL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
                let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
                    Ok(connection) => connection,
                    Err(error) => {
                        skip(
                            &format!("PostgreSQL at {admin_url} is not reachable ({error})"),
                            "start PostgreSQL or set QOL_TEST_POSTGRES_URL",
                        );
                        return None;
                    }
                };
                let name = format!("qol_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let (base, _) = admin_url.rsplit_once('/').expect("a PostgreSQL URL names a database");
                Some(TestDatabase {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime, so the clean-up gets a thread of its own.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    runtime.block_on(async {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The real application, serving on a free port of 127.0.0.1.
#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub backend: Backend,
    config: ServeConfig,
    server: Option<Running>,
    // Last: the database goes after the server.
    _database: TestDatabase,
}

/// A server running in this process: its stop switch and its task.
pub type Running = (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>);

/// Builds and runs the application (`TestApp` does; a test starts a second server on the same
/// database with it): its database handle, its address, and how to stop it.
pub async fn start_server(config: &ServeConfig) -> (Db, std::net::SocketAddr, Running) {
    let application = Application::build(config).await.expect("the application builds");
    let address = application.local_addr();
    let db = application.db().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        application
            .run_until(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (db, address, (stop, server))
}

impl TestApp {
    /// Starts the app on `backend` with the demo study, or `None` when the backend is skipped.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut ServeConfig)) -> Option<TestApp> {
        let database = TestDatabase::create(backend).await?;
        let mut config = ServeConfig::for_tests(&database.url);
        configure(&mut config);
        let (db, bound, server) = start_server(&config).await;
        config.bind = bound;
        Some(TestApp {
            address: format!("http://{bound}"),
            client: reqwest::Client::new(),
            db,
            backend,
            config,
            server: Some(server),
            _database: database,
        })
    }

    /// A server on a study without the demo patients (only the demo staff accounts, so
    /// [`TestApp::staff_token`] works): for tests that count every patient.
    pub async fn spawn_without_demo_patients(backend: Backend) -> Option<TestApp> {
        Self::spawn_without_demo_patients_with(backend, |_| {}).await
    }

    /// [`TestApp::spawn_without_demo_patients`] with more of the configuration set.
    pub async fn spawn_without_demo_patients_with(
        backend: Backend,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Option<TestApp> {
        let app = Self::spawn_with(backend, |config| {
            configure(config);
            config.demo = false;
        })
        .await?;
        let (clinic, _) = qol_server::clinic::Clinic::open(&app.db, false).await.unwrap();
        for (username, role, password) in qol_server::clinic::demo::DEMO_STAFF {
            let hash = qol_server::auth::hash_secret(password);
            clinic
                .create_staff(&qol_server::storage::Actor::system(), username, role.as_str(), &hash)
                .await
                .unwrap();
        }
        Some(app)
    }

    /// Stops the server (as SIGTERM would): it refuses connections until [`TestApp::restart`].
    pub async fn stop(&mut self) {
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            let _ = server.await;
        }
    }

    /// Starts the server again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (db, _, server) = start_server(&self.config).await;
        self.db = db;
        self.server = Some(server);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("the server answers")
    }

    pub async fn get_json(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.json().await.expect("the body is JSON"))
    }

    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// A direct connection to the app's database, for checking what was (not) stored.
    pub async fn sql(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(self.database_url()).await.expect("the test database accepts connections")
    }

    /// `SELECT COUNT(*) …` on the app's database.
    pub async fn count(&self, sql: &'static str) -> i64 {
        use sqlx::Row;
        let pool = self.sql().await;
        let count = sqlx::query(sql).fetch_one(&pool).await.unwrap().try_get(0).unwrap();
        pool.close().await;
        count
    }

    /// `SELECT COUNT(*) …` built at run time (test code only: never from outside input).
    pub async fn count_dynamic(&self, sql: String) -> i64 {
        use sqlx::Row;
        let pool = self.sql().await;
        let count = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap().try_get(0).unwrap();
        pool.close().await;
        count
    }

    /// GET with an optional bearer token; the status and the JSON body (Null when empty).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> (reqwest::StatusCode, serde_json::Value) {
        Self::send(self.client.get(self.url(path)), token).await
    }

    /// POST JSON with an optional bearer token.
    pub async fn post_as(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        Self::send(self.client.post(self.url(path)).json(body), token).await
    }

    async fn send(
        mut request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Signs in a demo staff account (`admin`, `nurse` or `researcher`) and returns its token.
    pub async fn staff_token(&self, username: &str) -> String {
        let password = format!("demo-{username}-password");
        let (status, body) = self
            .post_as(
                "/api/v1/auth/staff/sign-in",
                None,
                &serde_json::json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Signs in an activated demo patient (`IVB-001`, `IVB-003`, `IVB-004`) and returns the token.
    pub async fn patient_token(&self, study_id: &str) -> String {
        let (status, body) = self
            .post_as(
                "/api/v1/auth/patient/sign-in",
                None,
                &serde_json::json!({ "study_id": study_id, "pin": qol_server::clinic::demo::DEMO_PIN }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Enrols a patient enrolled `days_ago` days ago; returns the study id and activation code.
    pub async fn enrol(&self, nurse: &str, stratum: &str, days_ago: i64) -> (String, String) {
        let enrolled_on = chrono_today_minus(days_ago);
        let (status, body) = self
            .post_as(
                "/api/v1/patients",
                Some(nurse),
                &serde_json::json!({
                    "stratum": stratum, "language": "en", "enrolled_on": enrolled_on,
                    "identity": { "full_name": "Test Person", "phone": "+00 555 0100", "hospital_number": "H-TEST-1" },
                }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        (
            body["patient"]["study_id"].as_str().unwrap().to_owned(),
            body["activation"]["activation_code"].as_str().unwrap().to_owned(),
        )
    }

    /// Activates with `code` and `pin`; returns the patient's token.
    pub async fn activate(&self, code: &str, pin: &str) -> String {
        let (status, body) = self
            .post_as(
                "/api/v1/auth/patient/activate",
                None,
                &serde_json::json!({ "activation_code": code, "pin": pin }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Records an event `days_ago` days ago.
    pub async fn record_event(
        &self,
        nurse: &str,
        study_id: &str,
        mut event: serde_json::Value,
        days_ago: i64,
        reason: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        event["date"] = chrono_today_minus(days_ago).into();
        self.post_as(
            &format!("/api/v1/patients/{study_id}/events"),
            Some(nurse),
            &serde_json::json!({ "event": event, "reason": reason }),
        )
        .await
    }

    /// The patient's assessment with `key`, from `GET /me/assessments` (due, upcoming or sent).
    pub async fn my_assessment(&self, patient: &str, key: &str) -> serde_json::Value {
        let (status, body) = self.get_as("/api/v1/me/assessments", Some(patient)).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        ["due", "upcoming", "completed"]
            .iter()
            .flat_map(|list| body[list].as_array().cloned().unwrap_or_default())
            .find(|assessment| assessment["key"] == key)
            .unwrap_or_else(|| panic!("no assessment {key} in {body}"))
    }

    /// Any assessment of a patient with `key`, as staff see it (missed and not applicable too).
    pub async fn assessment(&self, staff: &str, study_id: &str, key: &str) -> serde_json::Value {
        let (status, body) =
            self.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(staff)).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body.as_array()
            .and_then(|list| list.iter().find(|assessment| assessment["key"] == key).cloned())
            .unwrap_or_else(|| panic!("no assessment {key} in {body}"))
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((_, server)) = &self.server {
            server.abort();
        }
    }
}

/// The study's today: the date in the shipped protocol's time zone, as the server counts days.
pub fn study_today() -> chrono::NaiveDate {
    qol_shared::schedule::Protocol::default_protocol().local_date(chrono::Utc::now())
}

/// A completion time on the study's day `days` ago, as an RFC 3339 text: noon at the site, or
/// now when that is still to come (a phone's clock never runs ahead).
pub fn completed_at(days: i64) -> String {
    use chrono::TimeZone;
    let zone = qol_shared::schedule::Protocol::default_protocol().time_zone;
    let day = study_today() - chrono::Duration::days(days);
    let noon = zone.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap()).earliest().unwrap().to_utc();
    noon.min(chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339()
}

/// The study's today minus `days` as `YYYY-MM-DD`.
pub fn chrono_today_minus(days: i64) -> String {
    (study_today() - chrono::Duration::days(days)).to_string()
}

/// The built app (`cargo xtask dist`), if there is one.
pub fn dist_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("QOL_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    dir.join("index.html").is_file().then_some(dir)
}

/// A chromedriver process on a free port, killed on drop.
#[derive(Debug)]
pub struct ChromeDriver {
    process: Child,
    pub url: String,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// Starts chromedriver, or `None` (after [`skip`]) when it or Chromium is missing.
pub async fn chromedriver() -> Option<(ChromeDriver, PathBuf)> {
    let driver =
        std::env::var_os("QOL_CHROMEDRIVER").map(PathBuf::from).or_else(|| find_on_path("chromedriver"));
    let chromium = std::env::var_os("QOL_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(find_on_path));
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        skip("chromium or chromedriver is not installed", "apt-get install chromium chromium-driver");
        return None;
    };
    // On a loaded machine chromedriver can take seconds to listen, and the port picked here can
    // be taken by someone else before it binds: wait long, and start again on a new port when it
    // exits. What it printed goes to a file, shown if it never comes up.
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("qol-chromedriver-{}-{port}.log", std::process::id()));
        let output = std::fs::File::create(&log).expect("a log file for chromedriver");
        let process = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(output.try_clone().expect("the log file again"))
            .stderr(output)
            .spawn()
            .expect("chromedriver starts");
        let mut running = ChromeDriver { process, url: format!("http://127.0.0.1:{port}") };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let exited = loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                let _ = std::fs::remove_file(&log);
                return Some((running, chromium));
            }
            if let Ok(Some(status)) = running.process.try_wait() {
                break format!("exited with {status}");
            }
            if tokio::time::Instant::now() >= deadline {
                break "was not listening after 30 s".to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let printed = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        failures.push(format!("on port {port} it {exited}; it printed: {printed:?}"));
        drop(running);
    }
    panic!("chromedriver did not start listening: {}", failures.join(" | "));
}

/// A headless Chromium window of a phone's size (390×844 CSS pixels).
pub async fn phone_browser(driver: &ChromeDriver, chromium: &std::path::Path) -> fantoccini::Client {
    browser(driver, chromium, (390, 844), true, None).await
}

/// A headless Chromium window of a clinic desktop's size (1280×900), for the staff console.
pub async fn desktop_browser(driver: &ChromeDriver, chromium: &std::path::Path) -> fantoccini::Client {
    browser(driver, chromium, (1280, 900), false, None).await
}

/// A desktop window whose downloads land in `downloads` without asking, as a browser set to
/// save files does.
pub async fn desktop_browser_saving_to(
    driver: &ChromeDriver,
    chromium: &std::path::Path,
    downloads: &std::path::Path,
) -> fantoccini::Client {
    browser(driver, chromium, (1280, 900), false, Some(downloads)).await
}

async fn browser(
    driver: &ChromeDriver,
    chromium: &std::path::Path,
    (width, height): (u32, u32),
    phone: bool,
    downloads: Option<&std::path::Path>,
) -> fantoccini::Client {
    let mut options = serde_json::json!({
        "binary": chromium,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", format!("--window-size={width},{height}"),
        ],
    });
    if phone {
        options["mobileEmulation"] =
            serde_json::json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0 } });
    }
    if let Some(folder) = downloads {
        options["prefs"] = serde_json::json!({
            "download.default_directory": folder,
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
            "safebrowsing.enabled": false,
        });
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("chromedriver starts a session")
}

/// The `qol` binary that `cargo test --workspace` builds beside the test binaries.
pub fn qol_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let binary = dir.join("qol");
    assert!(binary.is_file(), "{} is missing: build it with `cargo build -p qol-server`", binary.display());
    binary
}

/// Runs `qol ARGS…` to completion: (success, stdout, stderr).
pub fn run_qol(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(qol_binary()).args(args).env("QOL_LOG", "warn").output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `qol serve` as a child process on a free port: for tests that kill the process, and for
/// benchmarks of the release binary.
#[derive(Debug)]
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts `binary` on `database_url`, with the demo study or a new plain one (`--init`; an
    /// existing study is opened as it is); waits for its address.
    pub fn start(binary: &std::path::Path, database_url: &str, demo: bool) -> ServerProcess {
        use std::io::BufRead;
        let mut command = Command::new(binary);
        command.args(["serve", "--bind", "127.0.0.1:0", "--database-url", database_url]);
        command.arg(if demo { "--demo" } else { "--init" });
        let mut child =
            command.env("QOL_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("qol is listening on ").unwrap_or_else(|| panic!("{line}")).to_owned();
        ServerProcess { child, url }
    }

    /// Sends `signal` (`KILL`, `TERM`) and waits for the process to end.
    pub fn signal(&mut self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([format!("-{signal}").as_str(), &pid]).status().unwrap().success());
        self.child.wait().unwrap();
    }
}

/// Signs the demo nurse in on the server at `url`, enrols `count` patients (named `name` and a
/// number) and activates each; returns the patients' tokens.
pub async fn remote_patients(client: &reqwest::Client, url: &str, count: usize, name: &str) -> Vec<String> {
    let nurse: serde_json::Value = client
        .post(format!("{url}/api/v1/auth/staff/sign-in"))
        .json(&serde_json::json!({ "username": "nurse", "password": "demo-nurse-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nurse = nurse["token"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for n in 0..count {
        let enrolled: serde_json::Value = client
            .post(format!("{url}/api/v1/patients"))
            .bearer_auth(&nurse)
            .json(&serde_json::json!({
                "stratum": "nodal", "language": "en", "enrolled_on": chrono_today_minus(1),
                "identity": { "full_name": format!("{name} {n}"), "phone": "+86 138 0013 8000", "hospital_number": format!("{name}-{n}") },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session: serde_json::Value = client
            .post(format!("{url}/api/v1/auth/patient/activate"))
            .json(&serde_json::json!({ "activation_code": enrolled["activation"]["activation_code"], "pin": "2580" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(session["token"].as_str().unwrap().to_owned());
    }
    tokens
}

/// An unscheduled QLQ-C30 report ("I feel worse") with items 1–28 at `code` and the global items
/// at 5.
pub fn c30_report(client_id: &str, code: i64) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id,
        "completed_at": chrono::Utc::now().to_rfc3339(),
        "language": "en",
        "answers": (1..=30)
            .map(|item| serde_json::json!({ "item": item, "response": if item >= 29 { 5 } else { code } }))
            .collect::<Vec<_>>(),
    })
}

/// The Python of the system's packages: Debian's `python3-aiosmtpd` is installed for it (a
/// `python3` first on `PATH`, e.g. pyenv's, may not have it).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// An SMTP server that keeps every message it takes: Debian's aiosmtpd writing a maildir, as a
/// child process, killed (and its maildir removed) on drop.
#[derive(Debug)]
pub struct SmtpSink {
    process: Child,
    pub port: u16,
    folder: PathBuf,
}

impl SmtpSink {
    /// Whether aiosmtpd can be started; otherwise skips loudly (or fails under
    /// `QOL_REQUIRE_ALL=1`).
    pub fn available() -> bool {
        let found = Command::new(SYSTEM_PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            skip("aiosmtpd is not installed", "apt-get install python3-aiosmtpd");
        }
        found
    }

    /// A port of 127.0.0.1 that nothing listens on (free when this returns).
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// Starts on a free port, or `None` (after [`skip`]) when aiosmtpd is missing.
    pub async fn start() -> Option<SmtpSink> {
        if !Self::available() {
            return None;
        }
        Some(Self::start_on(Self::free_port()).await)
    }

    /// Starts on `port` (check [`SmtpSink::available`] first) and waits until it takes
    /// connections.
    pub async fn start_on(port: u16) -> SmtpSink {
        let folder = std::env::temp_dir().join(format!("qol-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).unwrap();
        let log = folder.join("aiosmtpd.log");
        let output = std::fs::File::create(&log).expect("a log file for aiosmtpd");
        let process = Command::new(SYSTEM_PYTHON)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(folder.join("maildir"))
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("the log file again"))
            .stderr(output)
            .spawn()
            .expect("aiosmtpd starts");
        let mut sink = SmtpSink { process, port, folder };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return sink;
            }
            let exited = sink.process.try_wait().ok().flatten();
            if exited.is_some() || tokio::time::Instant::now() >= deadline {
                let printed = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("aiosmtpd did not listen on port {port} ({exited:?}); it printed: {printed}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every message received so far (RFC 822 text), in the order of their files' names.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.folder.join("maildir").join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> =
            entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
        files.sort();
        files.iter().filter_map(|file| std::fs::read_to_string(file).ok()).collect()
    }

    /// The messages once there are at least `count` (polling every 200 ms), or whatever arrived
    /// within `within`.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let messages = self.messages();
            if messages.len() >= count || tokio::time::Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The value of a message's header `name` (case-insensitive; folded lines joined), if present.
pub fn mail_header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\n\n").next().unwrap_or_default().replace("\r\n", "\n");
    let mut value: Option<String> = None;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = value.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((key, rest)) = line.split_once(':')
            && key.eq_ignore_ascii_case(name)
        {
            value = Some(rest.trim().to_owned());
        }
    }
    value
}

/// A message's body: everything after its header, decoded when it is quoted-printable.
pub fn mail_body(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    let body = message.split_once("\n\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    let encoding = mail_header(&message, "Content-Transfer-Encoding").unwrap_or_default();
    if encoding.eq_ignore_ascii_case("quoted-printable") { quoted_printable(&body) } else { body }
}

/// Decodes quoted-printable text (RFC 2045): `=` at a line's end joins it to the next, `=XX` is
/// a byte.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
