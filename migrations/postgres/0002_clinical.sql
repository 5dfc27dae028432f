-- The clinical data model: sites, staff, patients with identity kept apart, sign-in, treatment
-- events, the schedule, immutable submissions with answers and versioned scores, alerts, and the
-- append-only, hash-chained audit log. Timestamps are RFC 3339 UTC text with microseconds
-- (they sort as text); dates are YYYY-MM-DD text; booleans are 0/1 integers.

ALTER TABLE studies ADD COLUMN protocol_json TEXT NOT NULL DEFAULT '';

CREATE TABLE sites (
    id          BIGSERIAL PRIMARY KEY,
    study_id    BIGINT NOT NULL REFERENCES studies (id),
    code        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    UNIQUE (study_id, code)
);

CREATE TABLE staff_users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'nurse', 'researcher')),
    password_hash TEXT    NOT NULL,            -- argon2id PHC string
    disabled      BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL
);

CREATE TABLE patients (
    id            BIGSERIAL PRIMARY KEY,
    study_id      BIGINT NOT NULL REFERENCES studies (id),
    site_id       BIGINT REFERENCES sites (id),
    study_code    TEXT    NOT NULL UNIQUE,     -- pseudonymous, e.g. IVB-017
    stratum       TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    pin_hash      TEXT,                        -- argon2id PHC string, set at activation
    activated_at  TEXT,
    created_at    TEXT    NOT NULL
);

-- Identity lives apart from clinical data; researchers' queries never join it.
CREATE TABLE patient_identities (
    patient_id      BIGINT PRIMARY KEY REFERENCES patients (id),
    full_name       TEXT NOT NULL,
    phone           TEXT NOT NULL,
    hospital_number TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE activation_codes (
    id          BIGSERIAL PRIMARY KEY,
    patient_id  BIGINT NOT NULL REFERENCES patients (id),
    code_hash   TEXT    NOT NULL UNIQUE,       -- SHA-256 hex of the normalised code
    expires_at  TEXT    NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    created_at  TEXT    NOT NULL
);

CREATE TABLE sessions (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,     -- SHA-256 hex of the bearer token
    role          TEXT    NOT NULL,
    staff_user_id BIGINT REFERENCES staff_users (id),
    patient_id    BIGINT REFERENCES patients (id),
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    revoked_at    TEXT,
    CHECK ((staff_user_id IS NULL) <> (patient_id IS NULL))
);

-- Failed sign-ins per key ('staff:NAME', 'patient:IVB-001', 'activation:ADDRESS'), for lockout
-- with backoff that holds across server instances.
CREATE TABLE sign_in_throttle (
    key           TEXT    PRIMARY KEY,
    failures      BIGINT NOT NULL,
    locked_until  TEXT,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE treatment_events (
    id            BIGSERIAL PRIMARY KEY,
    patient_id    BIGINT NOT NULL REFERENCES patients (id),
    slot          TEXT    NOT NULL,            -- 'chemotherapy_cycle_2', 'end_of_treatment', …
    event_json    TEXT    NOT NULL,            -- the shared::schedule::Event
    event_date    TEXT    NOT NULL,
    recorded_by   BIGINT NOT NULL REFERENCES staff_users (id),
    recorded_at   TEXT    NOT NULL,
    reason        TEXT,
    corrects_id   BIGINT REFERENCES treatment_events (id)
);
CREATE INDEX treatment_events_patient ON treatment_events (patient_id, id);

CREATE TABLE assessments (
    id            BIGSERIAL PRIMARY KEY,
    patient_id    BIGINT NOT NULL REFERENCES patients (id),
    key           TEXT    NOT NULL,            -- 'baseline', 'weekly-03', 'unscheduled-…'
    code          TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    instruments   TEXT    NOT NULL,            -- comma-separated instrument ids
    target_date   TEXT    NOT NULL,
    window_start  TEXT    NOT NULL,
    window_end    TEXT    NOT NULL,
    unscheduled   BIGINT NOT NULL DEFAULT 0 CHECK (unscheduled IN (0, 1)),
    -- 1 when a recomputed schedule no longer has it (an event was corrected); kept for history.
    withdrawn     BIGINT NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
    missed_reason TEXT,
    missed_note   TEXT,
    UNIQUE (patient_id, key)
);

CREATE TABLE submissions (
    id               BIGSERIAL PRIMARY KEY,
    client_id        TEXT    NOT NULL UNIQUE,
    content_hash     TEXT    NOT NULL,         -- SHA-256 of the canonical request content
    patient_id       BIGINT NOT NULL REFERENCES patients (id),
    assessment_id    BIGINT NOT NULL REFERENCES assessments (id),
    version          BIGINT NOT NULL DEFAULT 1,
    corrects_id      BIGINT REFERENCES submissions (id),
    correction_reason TEXT,
    completed_at     TEXT    NOT NULL,         -- device clock
    received_at      TEXT    NOT NULL,         -- server clock
    timeliness       TEXT    NOT NULL CHECK (timeliness IN ('on_time', 'late_delivery', 'unscheduled')),
    language         TEXT    NOT NULL,
    call_me          BIGINT NOT NULL DEFAULT 0 CHECK (call_me IN (0, 1)),
    submitted_by     TEXT    NOT NULL          -- 'patient:IVB-001' or 'staff:NAME'
);
CREATE INDEX submissions_patient ON submissions (patient_id, id);

CREATE TABLE item_answers (
    submission_id  BIGINT NOT NULL REFERENCES submissions (id),
    item           BIGINT NOT NULL CHECK (item BETWEEN 1 AND 54),
    code           BIGINT,                    -- NULL when not applicable
    not_applicable BIGINT NOT NULL DEFAULT 0 CHECK (not_applicable IN (0, 1)),
    PRIMARY KEY (submission_id, item),
    CHECK ((code IS NULL) = (not_applicable = 1))
);

CREATE TABLE scores (
    submission_id     BIGINT NOT NULL REFERENCES submissions (id),
    instrument        TEXT    NOT NULL,
    scale             TEXT    NOT NULL,
    score             DOUBLE PRECISION,                    -- NULL when missing
    raw_score         DOUBLE PRECISION,
    items_answered    BIGINT NOT NULL,
    items_in_scale    BIGINT NOT NULL,
    missing_reason    TEXT,
    algorithm_version TEXT    NOT NULL,
    PRIMARY KEY (submission_id, scale, algorithm_version)
);

CREATE TABLE alerts (
    id                BIGSERIAL PRIMARY KEY,
    patient_id        BIGINT NOT NULL REFERENCES patients (id),
    scale             TEXT    NOT NULL,
    tier              TEXT    NOT NULL,
    rule              TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('new', 'acknowledged', 'resolved')),
    value             DOUBLE PRECISION,
    submission_id     BIGINT REFERENCES submissions (id),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    acknowledged_at   TEXT,
    acknowledged_by   BIGINT REFERENCES staff_users (id),
    resolved_at       TEXT,
    resolved_by       BIGINT REFERENCES staff_users (id),
    resolution_action TEXT,
    resolution_note   TEXT
);

CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
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
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    last_id   BIGINT NOT NULL,
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION qol_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER submissions_are_immutable BEFORE UPDATE OR DELETE ON submissions
FOR EACH ROW EXECUTE FUNCTION qol_refuse_change('submissions are immutable; store a corrected version instead');
CREATE TRIGGER item_answers_are_immutable BEFORE UPDATE OR DELETE ON item_answers
FOR EACH ROW EXECUTE FUNCTION qol_refuse_change('item answers are immutable');
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION qol_refuse_change('the audit log is append-only');
