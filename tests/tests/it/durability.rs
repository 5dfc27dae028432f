//! Crash durability (slow: `QOL_SLOW_TESTS=1`): patients submit in a loop while the server
//! process is killed with SIGKILL at random moments and restarted on the same database. Every
//! submission the server acknowledged (2xx) must be stored exactly once, complete with its
//! answers and scores; a retry of one whose answer was lost must be taken as the same
//! submission, never refused. On both databases.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qol_tests::{
    Backend, ServerProcess, TestDatabase, c30_report, on_both_backends, qol_binary, remote_patients,
    slow_tests,
};
use serde_json::Value;

/// What the patients' phones know: acknowledged ids, and what was sent without an answer (the
/// patient, and the exact request, as the phone's outbox keeps it).
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<String>,
    unknown: Vec<(usize, String, Value)>,
}

async fn post(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Option<u16> {
    client
        .post(format!("{url}/api/v1/me/submissions"))
        .bearer_auth(token)
        .json(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

async fn acknowledged_submissions_survive_sigkill(backend: Backend) {
    if !slow_tests() {
        return;
    }
    let Some(database) = TestDatabase::create(backend).await else { return };
    let client = reqwest::Client::new();
    let mut server = ServerProcess::start(&qol_binary(), &database.url, true);

    // Four patients, signed in (sessions live in the database, so they survive restarts).
    let tokens = remote_patients(&client, &server.url, 4, "Crash").await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    const ROUNDS: usize = 6;
    for round in 0..ROUNDS {
        // The patients send as fast as the server answers, until it dies.
        let url = server.url.clone();
        let mut senders = Vec::new();
        for (p, token) in tokens.iter().enumerate() {
            let (client, url, token, ledger) = (client.clone(), url.clone(), token.clone(), ledger.clone());
            senders.push(tokio::spawn(async move {
                for k in 0.. {
                    let id = uuid::Uuid::new_v4().to_string();
                    let body = c30_report(&id, 1 + ((p + k) % 4) as i64);
                    match post(&client, &url, &token, &body).await {
                        Some(200 | 201) => ledger.lock().unwrap().acknowledged.push(id),
                        Some(status) => panic!("round {round}: the server refused a valid report: {status}"),
                        None => {
                            ledger.lock().unwrap().unknown.push((p, id, body));
                            return;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(150 + next(600))).await;
        server.signal("KILL");
        for sender in senders {
            sender.await.unwrap();
        }
        server = ServerProcess::start(&qol_binary(), &database.url, true);
    }

    // The unanswered ones, sent again with the same id after the restart: stored once, or now.
    let (acknowledged, unknown) = {
        let ledger = ledger.lock().unwrap();
        (ledger.acknowledged.clone(), ledger.unknown.clone())
    };
    assert!(acknowledged.len() >= ROUNDS * 4, "only {} reports were acknowledged", acknowledged.len());
    let mut stored_before_the_kill = 0;
    for (patient, id, body) in &unknown {
        match post(&client, &server.url, &tokens[*patient], body).await {
            // 200: the first attempt was stored before the kill; 201: it was not, and is now.
            Some(200) => stored_before_the_kill += 1,
            Some(201) => {}
            other => panic!("the retry of {id} was not taken: {other:?}"),
        }
    }

    server.signal("KILL");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database.url).await.unwrap();
    use sqlx::Row;
    for id in &acknowledged {
        let rows = sqlx::query(
            "SELECT s.id, (SELECT COUNT(*) FROM item_answers a WHERE a.submission_id = s.id) AS answers, \
             (SELECT COUNT(*) FROM scores c WHERE c.submission_id = s.id) AS scores \
             FROM submissions s WHERE s.client_id = $1",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), 1, "acknowledged submission {id} is stored {} times", rows.len());
        let answers: i64 = rows[0].try_get("answers").unwrap();
        let scores: i64 = rows[0].try_get("scores").unwrap();
        assert_eq!((answers, scores), (30, 16), "submission {id} is incomplete");
    }
    let stored: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE timeliness = 'unscheduled'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(
        stored as usize,
        acknowledged.len() + unknown.len(),
        "every acknowledged report and every retried one, each once"
    );
    let unknown_ids: Vec<&String> = unknown.iter().map(|(_, id, _)| id).collect();
    for id in unknown_ids {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE client_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(count, 1, "{id}");
    }
    pool.close().await;
    eprintln!(
        "durability ({backend:?}): {ROUNDS} SIGKILLs; {} acknowledged, all stored once; {} in flight at a kill \
         ({stored_before_the_kill} of them had been stored), each stored once after the retry",
        acknowledged.len(),
        unknown.len()
    );
}

on_both_backends!(acknowledged_submissions_survive_sigkill, super::acknowledged_submissions_survive_sigkill);
