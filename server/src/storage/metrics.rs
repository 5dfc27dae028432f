//! What `GET /metrics` reads from the database at each scrape (`http/metrics.rs`).

use sqlx::Row;

use super::{Db, StorageError};

/// Counts read at one scrape, and this server's pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Submissions stored (every version).
    pub submissions: i64,
    /// Alert cards not yet resolved, by tier (`red`, `amber`, `info`).
    pub open_cards: Vec<(String, i64)>,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    pub pool_connections: i64,
    pub pool_idle: i64,
}

impl Db {
    pub async fn metrics_snapshot(&self) -> Result<MetricsSnapshot, StorageError> {
        let submissions: i64 =
            sqlx::query("SELECT COUNT(*) FROM submissions").fetch_one(&self.pool).await?.try_get(0)?;
        let mut open_cards = Vec::new();
        for row in
            sqlx::query("SELECT tier, COUNT(*) FROM alert_cards WHERE state <> 'resolved' GROUP BY tier")
                .fetch_all(&self.pool)
                .await?
        {
            open_cards.push((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?));
        }
        let (mut outbox_pending, mut outbox_failed) = (0, 0);
        for row in sqlx::query(
            "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending', 'failed') GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let (state, count) = (row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?);
            if state == "pending" {
                outbox_pending = count;
            } else {
                outbox_failed = count;
            }
        }
        Ok(MetricsSnapshot {
            submissions,
            open_cards,
            outbox_pending,
            outbox_failed,
            pool_connections: i64::from(self.pool.size()),
            pool_idle: i64::try_from(self.pool.num_idle()).unwrap_or(i64::MAX),
        })
    }
}
