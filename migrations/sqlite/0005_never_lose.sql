-- The study instance: a random id born with the schema. Every write transaction and /readyz
-- compare it with the one the server read at start, so a database that was replaced, dropped and
-- re-created, or restored under a running server is noticed instead of written to.
ALTER TABLE audit_head ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
UPDATE audit_head SET instance_id = lower(hex(randomblob(16))) WHERE id = 1;

-- The sign-in throttle: every attempt is counted, checked or not, in the same statement that
-- hands out the key's check lease (one password or PIN check per key at a time); attempts refused
-- while locked are summarised in the audit trail (a count since the last summary), not written
-- one by one.
ALTER TABLE sign_in_throttle ADD COLUMN checking_until TEXT;
ALTER TABLE sign_in_throttle ADD COLUMN checking_token TEXT;
ALTER TABLE sign_in_throttle ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sign_in_throttle ADD COLUMN refused_summarised_at TEXT;

-- Revoking every session of a patient (new activation code) or of a staff member (disabled).
CREATE INDEX sessions_by_patient ON sessions (patient_id);
CREATE INDEX sessions_by_staff ON sessions (staff_user_id);

-- /readyz proves that a write commits now (a full disk fails here), with a row of its own.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT    NOT NULL
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, '');
