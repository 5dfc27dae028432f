-- Protocol amendments (issue 18, docs/protocol.md "Amendments"): version 1 is the protocol the
-- study started with (studies.protocol_json); each amendment is a row here, version 2, 3, …,
-- kept whole with who amended it, when, why and the study day it took effect. The newest is the
-- protocol in use, on every server of the study. Versions are never changed or deleted, and one
-- version number is taken once (two amendments at the same moment store one).
CREATE TABLE protocol_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id      INTEGER NOT NULL REFERENCES studies (id),
    version       INTEGER NOT NULL CHECK (version >= 2),
    protocol_json TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,     -- SHA-256 hex of the protocol as the server writes it
    amended_by    TEXT    NOT NULL,
    amended_at    TEXT    NOT NULL,
    effective_on  TEXT    NOT NULL,     -- YYYY-MM-DD, the study's day it was applied
    reason        TEXT    NOT NULL,
    UNIQUE (study_id, version)
);
-- The protocol version each assessment was scheduled under: it keeps it once its window opened
-- before a later amendment took effect.
ALTER TABLE assessments ADD COLUMN protocol_version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER protocol_versions_are_immutable BEFORE UPDATE ON protocol_versions
BEGIN SELECT RAISE(ABORT, 'protocol versions are kept as applied'); END;
CREATE TRIGGER protocol_versions_are_kept BEFORE DELETE ON protocol_versions
BEGIN SELECT RAISE(ABORT, 'protocol versions are kept as applied'); END;
