-- Reminders (issue 16, docs/reminders.md): how each patient wants to be reminded, an e-mail
-- address beside her other identity, the browsers that receive push reminders, and the outbox
-- carrying reminders beside the on-call e-mail.

-- 'auto': SMS when she has a phone number and the site a gateway, else e-mail, else push.
-- 'off': she asked not to be reminded.
ALTER TABLE patients ADD COLUMN reminder_channel TEXT NOT NULL DEFAULT 'auto'
    CHECK (reminder_channel IN ('auto', 'sms', 'email', 'push', 'off'));

-- Identity: never joined by researchers' queries.
ALTER TABLE patient_identities ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- A browser's push subscription (RFC 8030 endpoint, RFC 8291 keys). Ended when she turns push
-- off on that device, or when the push service answers 404/410 (the subscription is gone).
CREATE TABLE push_subscriptions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id   INTEGER NOT NULL REFERENCES patients (id),
    endpoint     TEXT    NOT NULL UNIQUE,
    p256dh       TEXT    NOT NULL,
    auth         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    ended_at     TEXT,
    ended_reason TEXT
);
CREATE INDEX push_subscriptions_by_patient ON push_subscriptions (patient_id);

-- The outbox gains the reminder's template, language and assessment, and a 'cancelled' state (a
-- reminder whose form arrived, or whose window closed, before its turn). SQLite cannot change a
-- CHECK constraint in place: the table is rebuilt with its rows.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    recipient       TEXT    NOT NULL,
    purpose         TEXT    NOT NULL CHECK (purpose IN ('alert_card', 'reminder')),
    card_id         INTEGER REFERENCES alert_cards (id),
    patient_id      INTEGER REFERENCES patients (id),
    dedupe_key      TEXT    NOT NULL UNIQUE,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    leased_by       TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    template        TEXT,   -- reminders: window_open, not_done, before_close
    language        TEXT,   -- reminders: the patient's language tag
    assessment_key  TEXT    -- reminders: which assessment
);
INSERT INTO outbox_new (id, channel, recipient, purpose, card_id, patient_id, dedupe_key, subject, body, state,
                        attempts, next_attempt_at, lease_until, leased_by, last_error, created_at, sent_at)
    SELECT id, channel, recipient, purpose, card_id, patient_id, dedupe_key, subject, body, state,
           attempts, next_attempt_at, lease_until, leased_by, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_card ON outbox (card_id);
CREATE INDEX outbox_reminders ON outbox (patient_id, assessment_key);
