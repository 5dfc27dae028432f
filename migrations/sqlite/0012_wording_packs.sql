-- Wording packs uploaded from the admin console (issue 18, docs/wording-packs.md): each upload is
-- kept whole, with who uploaded it, when and why; the newest is the pack in use, over
-- --wording-pack and the demonstration pack, on every server of the study (each checks the newest
-- id before it answers). A pack is never changed or deleted: going back is uploading the earlier
-- file again.
CREATE TABLE wording_packs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id    INTEGER NOT NULL REFERENCES studies (id),
    sha256      TEXT    NOT NULL,     -- SHA-256 hex of the pack as the server writes it
    name        TEXT    NOT NULL,
    pack_json   TEXT    NOT NULL,     -- the file's text as uploaded
    uploaded_by TEXT    NOT NULL,
    uploaded_at TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    -- The pack in use when this one was applied (0: none uploaded before). Unique per study:
    -- two servers applying packs over the same one at once store one, and the other is told.
    replaces_id INTEGER NOT NULL DEFAULT 0,
    UNIQUE (study_id, replaces_id)
);
CREATE INDEX wording_packs_by_study ON wording_packs (study_id, id);
CREATE TRIGGER wording_packs_are_immutable BEFORE UPDATE ON wording_packs
BEGIN SELECT RAISE(ABORT, 'wording packs are kept as uploaded'); END;
CREATE TRIGGER wording_packs_are_kept BEFORE DELETE ON wording_packs
BEGIN SELECT RAISE(ABORT, 'wording packs are kept as uploaded'); END;
