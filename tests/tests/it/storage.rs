//! Storage on both backends: migrations, seeding, and reopening an existing database.

use qol_server::storage::{Backend as DbBackend, DEMO_STUDY_CODE, Db};
use qol_tests::{Backend, TestDatabase, on_both_backends};

async fn migrations_apply_once_and_the_demo_seed_is_idempotent(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else { return };
    let db = Db::connect(&database.url).await.unwrap();
    assert_eq!(
        db.backend(),
        match backend {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
        }
    );
    assert!(db.study().await.unwrap().is_none());
    assert!(db.seed_demo_study("2026-01-01T00:00:00Z").await.unwrap());
    assert!(!db.seed_demo_study("2026-01-01T00:00:00Z").await.unwrap());
    db.close().await;

    let reopened = Db::connect(&database.url).await.unwrap();
    let study = reopened.study().await.unwrap().unwrap();
    assert_eq!(study.code, DEMO_STUDY_CODE);
    assert!(study.is_demo);
    if backend == Backend::Sqlite {
        assert_eq!(reopened.describe().await.unwrap(), "wal");
    } else {
        let version = reopened.describe().await.unwrap();
        assert!(version.chars().next().is_some_and(|c| c.is_ascii_digit()), "{version}");
    }
    reopened.close().await;
}
on_both_backends!(
    migrations_apply_once_and_the_demo_seed_is_idempotent,
    super::migrations_apply_once_and_the_demo_seed_is_idempotent
);
