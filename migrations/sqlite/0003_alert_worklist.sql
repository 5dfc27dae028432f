-- What the nurse worklist needs beside the alerts table: the values an alert was raised with and
-- the source of its rule, and per-patient snoozes with an end day and a reason.

ALTER TABLE alerts ADD COLUMN baseline REAL;
ALTER TABLE alerts ADD COLUMN previous REAL;
ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT '';

CREATE INDEX alerts_open ON alerts (patient_id, scale, state);

CREATE TABLE alert_snoozes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    subject     TEXT    NOT NULL,            -- a scale code, ITEM<n>, as alerts.scale
    until_date  TEXT    NOT NULL,            -- the last day it holds (YYYY-MM-DD)
    reason      TEXT    NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES staff_users (id),
    created_at  TEXT    NOT NULL,
    ended_at    TEXT,
    ended_by    INTEGER REFERENCES staff_users (id)
);
