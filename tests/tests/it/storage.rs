//! Storage on both backends: migrations, the study set-up, and reopening an existing database.

use qol_server::clinic::Clinic;
use qol_server::clinic::demo::DEMO_STUDY_CODE;
use qol_server::storage::{Backend as DbBackend, CardFilter, Db, OpenMode, float_param};
use qol_tests::{Backend, TestDatabase, on_both_backends};

async fn migrations_apply_once_and_the_demo_seed_runs_only_on_a_new_database(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else { return };
    let db = Db::open(&database.url, OpenMode::CreateIfEmpty).await.unwrap();
    assert_eq!(
        db.backend(),
        match backend {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
        }
    );
    assert!(db.study().await.unwrap().is_none());
    let (clinic, seeded) = Clinic::open(&db, true).await.unwrap();
    assert!(seeded);
    assert_eq!(clinic.protocol().patient_id_prefix, "IVB");
    let patients = db.patients().await.unwrap().len();
    assert_eq!(patients, 4);
    let (_, seeded_again) = Clinic::open(&db, true).await.unwrap();
    assert!(!seeded_again);
    assert_eq!(db.patients().await.unwrap().len(), patients);
    db.close().await;

    let reopened = Db::open(&database.url, OpenMode::Existing).await.unwrap();
    let study = reopened.study().await.unwrap().unwrap();
    assert_eq!(study.code, DEMO_STUDY_CODE);
    assert!(study.is_demo);
    assert!(study.protocol_json.contains("qol-protocol/1"), "the protocol is stored with the study");
    if backend == Backend::Sqlite {
        assert_eq!(reopened.describe().await.unwrap(), "wal");
    } else {
        let version = reopened.describe().await.unwrap();
        assert!(version.chars().next().is_some_and(|c| c.is_ascii_digit()), "{version}");
    }
    assert!(matches!(
        reopened.verify_audit_chain(None).await.unwrap(),
        qol_server::storage::AuditVerification::Intact { .. }
    ));
    reopened.close().await;
}
on_both_backends!(
    migrations_apply_once_and_the_demo_seed_runs_only_on_a_new_database,
    super::migrations_apply_once_and_the_demo_seed_runs_only_on_a_new_database
);

/// Alerts raised before cards existed (one row per scale) are kept and gathered by migration
/// 0006: a resolved alert becomes a resolved card of its own, a patient's open alerts of one kind
/// gather on one open card at their highest tier (new if any was new), and every alert row
/// points at its card.
async fn alerts_from_before_cards_are_gathered_on_cards_by_the_migration(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else { return };
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    // The schema as it was before cards: migrations 0001 to 0005 only.
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(folder);
    let staged = std::env::temp_dir().join(format!("qol-migrations-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&staged).unwrap();
    for entry in std::fs::read_dir(&all).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.as_str() < "0006" {
            std::fs::copy(entry.path(), staged.join(&name)).unwrap();
        }
    }
    sqlx::any::install_default_drivers();
    let url = match backend {
        Backend::Sqlite => format!("{}?mode=rwc", database.url),
        Backend::Postgres => database.url.clone(),
    };
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(staged.as_path()).await.unwrap().run(&pool).await.unwrap();
    std::fs::remove_dir_all(&staged).unwrap();
    let at = |day: u32| format!("2026-01-{day:02}T08:00:00.000000Z");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO studies (id, code, title, strata, created_at) VALUES (1, 'S', 'S', '[]', '{a}');
         INSERT INTO patients (id, study_id, study_code, stratum, language, created_at)
             VALUES (1, 1, 'P-1', 'nodal', 'en', '{a}'), (2, 1, 'P-2', 'nodal', 'en', '{a}');
         INSERT INTO alerts (patient_id, scale, tier, rule, state, value, created_at, updated_at, source) VALUES
             (1, 'NV', 'info', 'above_threshold', 'resolved', 10, '{a}', '{a}', 's'),
             (1, 'FA', 'amber', 'worse_than_baseline', 'acknowledged', 50, '{b}', '{b}', 's'),
             (1, 'PA', 'red', 'worse_than_baseline', 'new', 100, '{c}', '{c}', 's'),
             (1, 'CALL', 'red', 'call_me', 'new', NULL, '{c}', '{c}', 's'),
             (2, 'DY', 'amber', 'worse_than_baseline', 'acknowledged', 33.3, '{d}', '{d}', 's');",
        a = at(1),
        b = at(2),
        c = at(3),
        d = at(4)
    )))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let db = Db::open(&database.url, OpenMode::Existing).await.unwrap();
    let cards = db.cards(CardFilter { state: None, all_states: true, patient_id: None }).await.unwrap();
    let mut summary: Vec<(String, &str, &str, &str, String)> = cards
        .iter()
        .map(|card| {
            (
                card.study_code.clone(),
                card.kind.as_str(),
                card.tier.as_str(),
                card.state.as_str(),
                card.opened_at.text(),
            )
        })
        .collect();
    summary.sort();
    let mut expected = vec![
        ("P-1".to_owned(), "symptoms", "info", "resolved", at(1)),
        ("P-1".to_owned(), "symptoms", "red", "new", at(2)),
        ("P-1".to_owned(), "call_request", "red", "new", at(3)),
        ("P-2".to_owned(), "symptoms", "amber", "acknowledged", at(4)),
    ];
    expected.sort();
    assert_eq!(summary, expected);
    let open_symptoms = cards.iter().find(|card| {
        card.study_code == "P-1" && card.kind.as_str() == "symptoms" && card.state.as_str() == "new"
    });
    let signals = db.card_signals(&[open_symptoms.unwrap().id]).await.unwrap();
    let subjects: Vec<(&str, &str, Option<f64>)> = signals
        .iter()
        .map(|(_, signal)| (signal.subject.as_str(), signal.tier.as_str(), signal.latest_value))
        .collect();
    assert_eq!(subjects, [("PA", "red", Some(100.0)), ("FA", "amber", Some(50.0))]);
    let unlinked: i64 = {
        let rows = db.card_signals(&cards.iter().map(|card| card.id).collect::<Vec<_>>()).await.unwrap();
        5 - i64::try_from(rows.len()).unwrap()
    };
    assert_eq!(unlinked, 0, "every alert row is on a card");
    db.close().await;
}
on_both_backends!(
    alerts_from_before_cards_are_gathered_on_cards_by_the_migration,
    super::alerts_from_before_cards_are_gathered_on_cards_by_the_migration
);

/// Scores are read back exactly as stored, bit for bit, by the one-submission read and by the
/// batched read exports use. Both read a submission's scores joined into one text by the database
/// (`storage::submissions::joined_scores_sql`), so each number passes through text: PostgreSQL
/// writes its bytes, SQLite 20 significant digits. Random numbers of every magnitude, numbers a
/// scale can score, missing scores and a second algorithm version are stored and read back.
async fn scores_read_back_bit_for_bit(backend: Backend) {
    use qol_shared::scoring::Outcome;

    let Some(database) = TestDatabase::create(backend).await else { return };
    let db = Db::open(&database.url, OpenMode::CreateIfEmpty).await.unwrap();
    Clinic::open(&db, true).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&database.url).await.unwrap();
    let (submission, patient): (i64, i64) =
        sqlx::query_as("SELECT id, patient_id FROM submissions ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("DELETE FROM scores WHERE submission_id = $1").bind(submission).execute(&pool).await.unwrap();

    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state
    };
    // (scale, score, raw score, missing reason, version)
    type Stored = (String, Option<f64>, Option<f64>, Option<&'static str>, &'static str);
    let mut stored: Vec<Stored> = Vec::new();
    for n in 0..6000 {
        let score = match n % 7 {
            // A missing score.
            6 => None,
            // Any finite number, of any magnitude (subnormals included). Negative zero is left
            // out: SQLite writes it as 0, and no score is ever -0 (every formula adds or scales
            // from a positive zero).
            // Any number of the magnitudes SQLite converts exactly (see joined_scores_sql),
            // bound as a number.
            0 | 3 => Some(loop {
                let value = f64::from_bits(next());
                if (1e-81..9e18).contains(&value.abs()) {
                    break value;
                }
            }),
            // A number between 0 and 100, as scores are.
            1 | 2 => Some((next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0),
            // A mean of codes on a scale's range, as scales score.
            _ => {
                let answered = 1 + next() % 13;
                let sum = answered + next() % (answered * 6 + 1);
                let range = [3.0, 6.0][(next() % 2) as usize];
                Some((1.0 - (sum as f64 / answered as f64 - 1.0) / range) * 100.0)
            }
        };
        let raw = score.map(|score| score / 7.0);
        let reason = score.is_none().then_some("too_few_items_answered");
        let version = if n % 50 == 0 {
            "older-algorithm/0.9"
        } else {
            qol_shared::instrument::SCORING_ALGORITHM_VERSION
        };
        stored.push((format!("T{n:05}"), score, raw, reason, version));
    }
    for (first, chunk) in (0..).step_by(400).zip(stored.chunks(400)) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 5;
                format!(
                    "($1, 'qlq-c30', ${}, CAST(${} AS DOUBLE PRECISION), CAST(${} AS DOUBLE PRECISION), 3, 4, ${}, ${})",
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO scores (submission_id, instrument, scale, score, raw_score, items_answered, items_in_scale, missing_reason, algorithm_version) VALUES {}",
            rows.join(", ")
        );
        // Numbers are bound as numbers, so they are stored bit for bit, and NULL as a NULL text
        // (the Any driver's NULL float is mistyped on PostgreSQL; see storage::optional_float).
        // Not cached: the bound types differ from one chunk to the next.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).bind(submission);
        for (n, (scale, score, raw, reason, version)) in chunk.iter().enumerate() {
            query = query.bind(scale.clone());
            for number in [score, raw] {
                // Scores as qol writes them (text, `storage::float_param`), so that path is held
                // exact too; the numbers of every magnitude as numbers.
                query = match number {
                    Some(value) if (first + n) % 7 != 0 && (first + n) % 7 != 3 => {
                        query.bind(float_param(Some(*value)))
                    }
                    Some(value) => query.bind(*value),
                    None => query.bind(None::<String>),
                };
            }
            query = query.bind(reason.map(str::to_owned)).bind(version.to_string());
        }
        query.execute(&pool).await.unwrap();
    }
    // The stored numbers are the ones meant: read back as columns, not through the joined text.
    let direct: Vec<(String, Option<f64>)> =
        sqlx::query_as("SELECT scale, score FROM scores WHERE submission_id = $1 ORDER BY scale")
            .bind(submission)
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut sorted = stored.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for ((scale, read), (_, meant, ..)) in direct.iter().zip(&sorted) {
        assert_eq!(read.map(f64::to_bits), meant.map(f64::to_bits), "{scale} as stored");
    }

    let one = db.scores_of(submission).await.unwrap();
    let batched = db.research_data(&[patient], true).await.unwrap()[&patient].scores[&submission].clone();
    for read in [&one, &batched] {
        let scales: Vec<_> =
            read.iter().flat_map(|scores| scores.scales.iter().map(move |s| (scores, s))).collect();
        assert_eq!(scales.len(), stored.len());
        for (scale, score, raw, reason, version) in &stored {
            let (scores, got) = scales
                .iter()
                .find(|(scores, s)| s.code == scale.as_str() && scores.algorithm_version == *version)
                .unwrap_or_else(|| panic!("{scale} {version} read back"));
            assert_eq!(scores.instrument, qol_shared::InstrumentId::QlqC30);
            match (got.outcome, score) {
                (
                    Outcome::Scored { score: got, raw_score, items_answered: 3, items_in_scale: 4 },
                    Some(score),
                ) => {
                    assert_eq!(got.to_bits(), score.to_bits(), "{scale}: {got:e} read, {score:e} stored");
                    assert_eq!(raw_score.to_bits(), raw.unwrap().to_bits(), "{scale}'s raw score");
                }
                (Outcome::Missing { reason: got, items_answered: 3, items_in_scale: 4 }, None) => {
                    assert_eq!(qol_server::storage::enum_text(&got), reason.unwrap());
                }
                (got, _) => panic!("{scale}: {got:?} read, {score:?} stored"),
            }
        }
    }
    db.close().await;
}
on_both_backends!(scores_read_back_bit_for_bit, super::scores_read_back_bit_for_bit);
