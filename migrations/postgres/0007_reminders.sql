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
    id           BIGSERIAL PRIMARY KEY,
    patient_id   BIGINT NOT NULL REFERENCES patients (id),
    endpoint     TEXT   NOT NULL UNIQUE,
    p256dh       TEXT   NOT NULL,
    auth         TEXT   NOT NULL,
    created_at   TEXT   NOT NULL,
    ended_at     TEXT,
    ended_reason TEXT
);
CREATE INDEX push_subscriptions_by_patient ON push_subscriptions (patient_id);

-- The outbox gains the reminder's template, language and assessment, and a 'cancelled' state (a
-- reminder whose form arrived, or whose window closed, before its turn).
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'sent', 'failed', 'cancelled'));
ALTER TABLE outbox ADD CONSTRAINT outbox_purpose_check CHECK (purpose IN ('alert_card', 'reminder'));
ALTER TABLE outbox ADD COLUMN template TEXT;
ALTER TABLE outbox ADD COLUMN language TEXT;
ALTER TABLE outbox ADD COLUMN assessment_key TEXT;
CREATE INDEX outbox_reminders ON outbox (patient_id, assessment_key);
