-- The clinical data model: sites, staff, patients with identity kept apart, sign-in, treatment
-- events, the schedule, immutable submissions with answers and versioned scores, alerts, and the
-- append-only, hash-chained audit log. Timestamps are RFC 3339 UTC text with microseconds
-- (they sort as text); dates are YYYY-MM-DD text; booleans are 0/1 integers.

ALTER TABLE studies ADD COLUMN protocol_json TEXT NOT NULL DEFAULT '';

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id    INTEGER NOT NULL REFERENCES studies (id),
    code        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    UNIQUE (study_id, code)
);

CREATE TABLE staff_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'nurse', 'researcher')),
    password_hash TEXT    NOT NULL,            -- argon2id PHC string
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL
);

CREATE TABLE patients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id      INTEGER NOT NULL REFERENCES studies (id),
    site_id       INTEGER REFERENCES sites (id),
    study_code    TEXT    NOT NULL UNIQUE,     -- pseudonymous, e.g. IVB-017
    stratum       TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    pin_hash      TEXT,                        -- argon2id PHC string, set at activation
    activated_at  TEXT,
    created_at    TEXT    NOT NULL
);

-- Identity lives apart from clinical data; researchers' queries never join it.
CREATE TABLE patient_identities (
    patient_id      INTEGER PRIMARY KEY REFERENCES patients (id),
    full_name       TEXT NOT NULL,
    phone           TEXT NOT NULL,
    hospital_number TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE activation_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    code_hash   TEXT    NOT NULL UNIQUE,       -- SHA-256 hex of the normalised code
    expires_at  TEXT    NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    created_at  TEXT    NOT NULL
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT    NOT NULL UNIQUE,     -- SHA-256 hex of the bearer token
    role          TEXT    NOT NULL,
    staff_user_id INTEGER REFERENCES staff_users (id),
    patient_id    INTEGER REFERENCES patients (id),
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    revoked_at    TEXT,
    CHECK ((staff_user_id IS NULL) <> (patient_id IS NULL))
);

-- Failed sign-ins per key ('staff:NAME', 'patient:IVB-001', 'activation:ADDRESS'), for lockout
-- with backoff that holds across server instances.
CREATE TABLE sign_in_throttle (
    key           TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    locked_until  TEXT,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE treatment_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    slot          TEXT    NOT NULL,            -- 'chemotherapy_cycle_2', 'end_of_treatment', …
    event_json    TEXT    NOT NULL,            -- the shared::schedule::Event
    event_date    TEXT    NOT NULL,
    recorded_by   INTEGER NOT NULL REFERENCES staff_users (id),
    recorded_at   TEXT    NOT NULL,
    reason        TEXT,
    corrects_id   INTEGER REFERENCES treatment_events (id)
);
CREATE INDEX treatment_events_patient ON treatment_events (patient_id, id);

CREATE TABLE assessments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    key           TEXT    NOT NULL,            -- 'baseline', 'weekly-03', 'unscheduled-…'
    code          TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    instruments   TEXT    NOT NULL,            -- comma-separated instrument ids
    target_date   TEXT    NOT NULL,
    window_start  TEXT    NOT NULL,
    window_end    TEXT    NOT NULL,
    unscheduled   INTEGER NOT NULL DEFAULT 0 CHECK (unscheduled IN (0, 1)),
    -- 1 when a recomputed schedule no longer has it (an event was corrected); kept for history.
    withdrawn     INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
    missed_reason TEXT,
    missed_note   TEXT,
    UNIQUE (patient_id, key)
);

CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        TEXT    NOT NULL UNIQUE,
    content_hash     TEXT    NOT NULL,         -- SHA-256 of the canonical request content
    patient_id       INTEGER NOT NULL REFERENCES patients (id),
    assessment_id    INTEGER NOT NULL REFERENCES assessments (id),
    version          INTEGER NOT NULL DEFAULT 1,
    corrects_id      INTEGER REFERENCES submissions (id),
    correction_reason TEXT,
    completed_at     TEXT    NOT NULL,         -- device clock
    received_at      TEXT    NOT NULL,         -- server clock
    timeliness       TEXT    NOT NULL CHECK (timeliness IN ('on_time', 'late_delivery', 'unscheduled')),
    language         TEXT    NOT NULL,
    call_me          INTEGER NOT NULL DEFAULT 0 CHECK (call_me IN (0, 1)),
    submitted_by     TEXT    NOT NULL          -- 'patient:IVB-001' or 'staff:NAME'
);
CREATE INDEX submissions_patient ON submissions (patient_id, id);

CREATE TABLE item_answers (
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    item           INTEGER NOT NULL CHECK (item BETWEEN 1 AND 54),
    code           INTEGER,                    -- NULL when not applicable
    not_applicable INTEGER NOT NULL DEFAULT 0 CHECK (not_applicable IN (0, 1)),
    PRIMARY KEY (submission_id, item),
    CHECK ((code IS NULL) = (not_applicable = 1))
);

CREATE TABLE scores (
    submission_id     INTEGER NOT NULL REFERENCES submissions (id),
    instrument        TEXT    NOT NULL,
    scale             TEXT    NOT NULL,
    score             REAL,                    -- NULL when missing
    raw_score         REAL,
    items_answered    INTEGER NOT NULL,
    items_in_scale    INTEGER NOT NULL,
    missing_reason    TEXT,
    algorithm_version TEXT    NOT NULL,
    PRIMARY KEY (submission_id, scale, algorithm_version)
);

CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id        INTEGER NOT NULL REFERENCES patients (id),
    scale             TEXT    NOT NULL,
    tier              TEXT    NOT NULL,
    rule              TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('new', 'acknowledged', 'resolved')),
    value             REAL,
    submission_id     INTEGER REFERENCES submissions (id),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    acknowledged_at   TEXT,
    acknowledged_by   INTEGER REFERENCES staff_users (id),
    resolved_at       TEXT,
    resolved_by       INTEGER REFERENCES staff_users (id),
    resolution_action TEXT,
    resolution_note   TEXT
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at  TEXT    NOT NULL,
    actor        TEXT    NOT NULL,             -- 'staff:NAME', 'patient:IVB-001', 'system', 'cli'
    actor_role   TEXT    NOT NULL,
    action       TEXT    NOT NULL,             -- 'patient.enrol', 'auth.sign_in_failed', …
    entity       TEXT    NOT NULL,
    entity_id    TEXT    NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    reason       TEXT,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL              -- SHA-256 over prev_hash and this entry's fields
);

-- One row: the head of the audit chain. Every write transaction updates it first, which takes
-- the write lock up front (SQLite) or a row lock (PostgreSQL), so entries chain in order.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER submissions_are_immutable BEFORE UPDATE ON submissions
BEGIN SELECT RAISE(ABORT, 'submissions are immutable; store a corrected version instead'); END;
CREATE TRIGGER submissions_are_kept BEFORE DELETE ON submissions
BEGIN SELECT RAISE(ABORT, 'submissions are never deleted'); END;
CREATE TRIGGER item_answers_are_immutable BEFORE UPDATE ON item_answers
BEGIN SELECT RAISE(ABORT, 'item answers are immutable'); END;
CREATE TRIGGER item_answers_are_kept BEFORE DELETE ON item_answers
BEGIN SELECT RAISE(ABORT, 'item answers are never deleted'); END;
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_is_kept BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
