-- The alert loop as a nurse works it: one card per patient and kind (symptoms, call request)
-- gathering that patient's signals; escalation re-opens a card; a durable outbox carries the
-- e-mails (and, later, reminders by SMS and push) written in the same transaction as the card.

CREATE TABLE alert_cards (
    id                   BIGSERIAL PRIMARY KEY,
    patient_id           BIGINT NOT NULL REFERENCES patients (id),
    kind                 TEXT    NOT NULL CHECK (kind IN ('symptoms', 'call_request')),
    tier                 TEXT    NOT NULL CHECK (tier IN ('red', 'amber', 'info')),
    state                TEXT    NOT NULL CHECK (state IN ('new', 'acknowledged', 'resolved')),
    escalated            BIGINT NOT NULL DEFAULT 0,  -- re-opened by a higher tier after acknowledgement
    opened_at            TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    sla_from             TEXT    NOT NULL,             -- opened, or re-opened by an escalation
    latest_submission_id BIGINT REFERENCES submissions (id),
    acknowledged_at      TEXT,
    acknowledged_by      BIGINT REFERENCES staff_users (id),
    resolved_at          TEXT,
    resolved_by          BIGINT REFERENCES staff_users (id),
    resolution_action    TEXT,
    resolution_note      TEXT,
    legacy_alert_id      BIGINT                          -- the alert a card was migrated from
);
-- At most one open card per patient and kind, whatever runs at once.
CREATE UNIQUE INDEX alert_cards_one_open ON alert_cards (patient_id, kind) WHERE state <> 'resolved';
CREATE INDEX alert_cards_by_state ON alert_cards (state);

-- The alerts table now holds a card's signals: one row per subject (scale, item, CALL) and card,
-- keeping the rule that set its tier, and the subject's value at the patient's latest report.
-- Its own state columns are no longer read: the card carries the state.
ALTER TABLE alerts ADD COLUMN card_id BIGINT REFERENCES alert_cards (id);
ALTER TABLE alerts ADD COLUMN latest_value DOUBLE PRECISION;
ALTER TABLE alerts ADD COLUMN latest_submission_id BIGINT REFERENCES submissions (id);
ALTER TABLE alerts ADD COLUMN latest_at TEXT;
CREATE INDEX alerts_by_card ON alerts (card_id);

-- Messages to send (e-mail now; SMS and push for reminders), written in the transaction that
-- decides them and delivered by a worker that claims rows with a lease, so two servers on one
-- database never send the same message twice. Each attempt is audited.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    recipient       TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,       -- 'alert_card' (later 'reminder')
    card_id         BIGINT REFERENCES alert_cards (id),
    patient_id      BIGINT REFERENCES patients (id),
    dedupe_key      TEXT    NOT NULL UNIQUE, -- also the message id: the same message is never queued twice
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    leased_by       TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_card ON outbox (card_id);

-- Migrating the alerts raised before cards: a resolved alert becomes a resolved card of its own
-- (history as it was); a patient's open alerts of one kind gather on one open card, at their
-- highest tier, new if any of them was new.
INSERT INTO alert_cards (patient_id, kind, tier, state, escalated, opened_at, updated_at, sla_from,
    latest_submission_id, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
    resolution_action, resolution_note, legacy_alert_id)
SELECT patient_id, CASE WHEN scale = 'CALL' THEN 'call_request' ELSE 'symptoms' END, tier, state, 0,
    created_at, updated_at, created_at, submission_id, acknowledged_at, acknowledged_by, resolved_at,
    resolved_by, resolution_action, resolution_note, id
FROM alerts WHERE state = 'resolved';

INSERT INTO alert_cards (patient_id, kind, tier, state, escalated, opened_at, updated_at, sla_from,
    latest_submission_id)
SELECT patient_id, kind,
    CASE MAX(rank) WHEN 3 THEN 'red' WHEN 2 THEN 'amber' ELSE 'info' END,
    CASE WHEN MAX(state) = 'new' THEN 'new' ELSE 'acknowledged' END,
    0, MIN(created_at), MAX(updated_at), MIN(created_at), MAX(submission_id)
FROM (SELECT patient_id, CASE WHEN scale = 'CALL' THEN 'call_request' ELSE 'symptoms' END AS kind,
        CASE tier WHEN 'red' THEN 3 WHEN 'amber' THEN 2 ELSE 1 END AS rank,
        state, created_at, updated_at, submission_id
      FROM alerts WHERE state <> 'resolved') AS open_alerts
GROUP BY patient_id, kind;

UPDATE alerts SET card_id = (SELECT c.id FROM alert_cards c WHERE c.legacy_alert_id = alerts.id)
WHERE state = 'resolved';
UPDATE alerts SET card_id = (SELECT c.id FROM alert_cards c WHERE c.patient_id = alerts.patient_id
    AND c.state <> 'resolved'
    AND c.kind = CASE WHEN alerts.scale = 'CALL' THEN 'call_request' ELSE 'symptoms' END)
WHERE state <> 'resolved';
UPDATE alerts SET latest_value = value, latest_submission_id = submission_id, latest_at = updated_at;

-- A snooze holds signals of at most this tier (amber at most: red always comes through); a
-- worsening beyond it goes through. Snoozes set before this rule hold amber and below. What a
-- snooze held is counted, so the nurse sees it.
ALTER TABLE alert_snoozes ADD COLUMN tier TEXT NOT NULL DEFAULT 'amber';
ALTER TABLE alert_snoozes ADD COLUMN held_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alert_snoozes ADD COLUMN last_held_at TEXT;
ALTER TABLE alert_snoozes ADD COLUMN last_held_value DOUBLE PRECISION;
ALTER TABLE alert_snoozes ADD COLUMN last_held_submission_id BIGINT REFERENCES submissions (id);
