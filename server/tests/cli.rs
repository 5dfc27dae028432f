//! The `qol` binary as a person or a script runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn qol() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qol"));
    command.env_remove("DATABASE_URL").env_remove("QOL_BIND");
    command
}

#[test]
fn help_explains_every_serve_setting_and_its_environment_variable() {
    let output = qol().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in [
        "--bind",
        "[env: QOL_BIND=]",
        "--database-url",
        "[env: DATABASE_URL=]",
        "--dist-dir",
        "--wording-pack",
        "--demo",
        "--log-format",
        "--max-body-bytes",
        "--max-connections",
        "[env: QOL_MAX_CONNECTIONS=]",
        "--header-timeout",
        "--body-timeout",
        "--trusted-proxy",
        "[env: QOL_TRUSTED_PROXIES=]",
    ] {
        assert!(help.contains(setting), "help lacks {setting}:\n{help}");
    }
    let top = String::from_utf8(qol().arg("--help").output().unwrap().stdout).unwrap();
    assert!(top.contains("serve") && top.contains("score"), "{top}");
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let folder = std::env::temp_dir().join(format!("qol-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let mut child = qol()
        .args(["serve", "--bind", "127.0.0.1:0", "--demo", "--database-url"])
        .arg(format!("sqlite://{}/qol.db", folder.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("qol is listening on http://127.0.0.1:"), "{line}");
    let address = line.trim().trim_start_matches("qol is listening on http://").to_owned();
    assert!(std::net::TcpStream::connect(&address).is_ok());

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "qol did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("SIGTERM received") && logs.contains("qol stopped"), "{logs}");
    assert!(folder.join("qol.db").is_file(), "the SQLite file was created on first run");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn serve_refuses_an_unsupported_database_url_with_a_clear_message() {
    let output = qol().args(["serve", "--database-url", "mysql://root@localhost/qol"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("qol: error: database url \"mysql://root@localhost/qol\" is not supported"),
        "{stderr}"
    );
}

fn score(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = qol()
        .arg("score")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn score_reads_stdin_and_writes_scores_to_stdout() {
    let header = (31..=54).map(|n| format!("q{n}")).collect::<Vec<_>>().join(",");
    let input = format!("visit,{header}\nbaseline,2,1,1,3,1,2,1,2,3,1,1,2,1,4,2,3,2,3,2,3,2,1,3,2\n");
    let output = score(&["--instrument", "qlq-cx24", "-"], &input);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "visit,CXSE,CXBI,CXSV,CXLY,CXPN,CXMS,CXSXW,CXSXA,CXSXE");
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[0], "baseline");
    assert_eq!(row[6], "100"); // CXMS
    assert!((row[1].parse::<f64>().unwrap() - 21.2121).abs() < 1e-4);
}

#[test]
fn score_stops_at_a_bad_value_with_a_message_and_a_failing_exit_code() {
    let header = (1..=30).map(|n| format!("q{n}")).collect::<Vec<_>>().join(",");
    let mut cells = vec!["1"; 30];
    cells[4] = "5";
    let output = score(&["--instrument", "qlq-c30", "-"], &format!("{header}\n{}\n", cells.join(",")));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "line 2, column q5: 5 is not an allowed code; allowed: 1–4, or blank for a skipped item"
        ),
        "{stderr}"
    );
    let missing = qol().args(["score", "--instrument", "qlq-c30", "/no/such/file.csv"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8(missing.stderr).unwrap().contains("could not open /no/such/file.csv"));
    let wrong = qol().args(["score", "--instrument", "qlq-br23", "-"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(2), "clap refuses an unknown instrument as a usage error");
}

fn with_stdin(mut command: Command, input: &str) -> std::process::Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_create_user_reads_the_password_from_stdin_and_audit_verify_checks_the_chain() {
    let folder = std::env::temp_dir().join(format!("qol-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let url = format!("sqlite://{}/qol.db", folder.display());
    let create = |username: &str, password: &str| {
        let mut command = qol();
        command
            .args(["admin", "create-user", "--username", username, "--role", "admin"])
            .env("DATABASE_URL", &url);
        with_stdin(command, &format!("{password}\n"))
    };
    // A database that holds no study is refused, and not created.
    let refused = create("first.admin", "a long enough password");
    assert_eq!(refused.status.code(), Some(1));
    let refusal = String::from_utf8(refused.stderr).unwrap();
    assert!(refusal.contains("holds no qol study") && refusal.contains("qol serve --init"), "{refusal}");
    assert!(!folder.join("qol.db").exists(), "a mistyped path must not become an empty study");
    init_study(&url);

    let output = create("First.Admin", "a long enough password");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "created admin \"first.admin\"\n");

    let again = create("first.admin", "another long password");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8(again.stderr).unwrap().contains("a user named \"first.admin\" already exists"));
    let short = create("second", "short");
    assert_eq!(short.status.code(), Some(1));
    assert!(
        String::from_utf8(short.stderr)
            .unwrap()
            .contains("the password is too short: use at least 12 characters")
    );

    let verify = qol().args(["audit", "verify", "--database-url", &url]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert_eq!(
        String::from_utf8(verify.stdout).unwrap(),
        "the audit trail is intact: 2 entries, every hash matches\n"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn export_writes_a_pseudonymised_file_and_is_audited() {
    let folder = std::env::temp_dir().join(format!("qol-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let url = format!("sqlite://{}/qol.db", folder.display());

    // A database without a study: a clear refusal.
    let empty = qol().args(["export", "scores_long.csv", "--database-url", &url]).output().unwrap();
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8(empty.stderr).unwrap().contains("holds no qol study"));

    // The demo study, then stopped.
    let mut child = qol()
        .args(["serve", "--bind", "127.0.0.1:0", "--demo", "--database-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("qol is listening"), "{line}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success());

    let file = folder.join("scores_wide.csv");
    let output = qol()
        .args(["export", "scores_wide.csv", "--database-url", &url, "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("study_id,stratum,assessment,assessment_code,"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().any(|row| row.starts_with("IVB-001,nodal,baseline,baseline,")), "{text}");
    assert!(!text.contains("Demo Patient"), "no names in an export");

    let dictionary = qol().args(["export", "dictionary.csv", "--database-url", &url]).output().unwrap();
    assert!(
        String::from_utf8(dictionary.stdout).unwrap().starts_with("file,column,type,description,values\n")
    );

    // Both exports are in the audit trail, which is intact.
    let verify = qol().args(["audit", "verify", "--database-url", &url]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert_eq!(export_entries(&url), 2);
    std::fs::remove_dir_all(&folder).unwrap();
}

/// The number of export entries in the audit trail of the database at `url`.
fn export_entries(url: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        pool.close().await;
        count
    })
}

/// Creates a new plain study at `url` as a site does: `qol serve --init`, then SIGTERM.
fn init_study(url: &str) {
    let mut child = qol()
        .args(["serve", "--bind", "127.0.0.1:0", "--init", "--database-url", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    assert!(line.starts_with("qol is listening on"), "{line}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
}
