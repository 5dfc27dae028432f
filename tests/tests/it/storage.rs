//! Storage on both backends: migrations, the study set-up, and reopening an existing database.

use qol_server::demo::{DEMO_STUDY_CODE, ensure_study};
use qol_server::storage::{Backend as DbBackend, Db, OpenMode};
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
    let (clinic, seeded) = ensure_study(&db, true).await.unwrap();
    assert!(seeded);
    assert_eq!(clinic.protocol.patient_id_prefix, "IVB");
    let patients = db.patients().await.unwrap().len();
    assert_eq!(patients, 4);
    let (_, seeded_again) = ensure_study(&db, true).await.unwrap();
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
