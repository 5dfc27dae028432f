-- "I need help" (issue 17, docs/api.md): a patient asks her nurse to call from the app, without
-- sending a form. Each request is stored once per client id (a retry finds it) with the
-- call-request card it opened or joined, and the card's service-level deadline she was told.
-- No submission is made: research data do not change.
CREATE TABLE help_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id   INTEGER NOT NULL REFERENCES patients (id),
    client_id    TEXT    NOT NULL UNIQUE,
    received_at  TEXT    NOT NULL,
    card_id      INTEGER NOT NULL REFERENCES alert_cards (id),
    call_back_by TEXT    NOT NULL
);
CREATE INDEX help_requests_by_patient ON help_requests (patient_id, id);
CREATE INDEX help_requests_by_card ON help_requests (card_id);
