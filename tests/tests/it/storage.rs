//! Storage on both backends: migrations, the study set-up, and reopening an existing database.

use qol_server::clinic::Clinic;
use qol_server::clinic::demo::DEMO_STUDY_CODE;
use qol_server::storage::{Backend as DbBackend, CardFilter, Db, OpenMode};
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
