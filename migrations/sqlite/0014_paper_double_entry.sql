-- Double entry of paper forms (issue 18, docs/api.md "Double entry of paper forms"): when the
-- protocol asks for it (paper_double_entry), a paper form is entered twice, blind, by two staff
-- members, each entry kept here as entered. The form counts (a submission) when the two agree,
-- or when a later entry resolves what they disagree on. An entry number is taken once per
-- assessment; entries are never changed or deleted.
CREATE TABLE paper_entries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    entry         INTEGER NOT NULL CHECK (entry IN (1, 2)),
    client_id     TEXT    NOT NULL UNIQUE,
    request_json  TEXT    NOT NULL,
    entered_by    TEXT    NOT NULL,
    entered_at    TEXT    NOT NULL,
    UNIQUE (assessment_id, entry)
);
CREATE TRIGGER paper_entries_are_immutable BEFORE UPDATE ON paper_entries
BEGIN SELECT RAISE(ABORT, 'paper entries are kept as entered'); END;
CREATE TRIGGER paper_entries_are_kept BEFORE DELETE ON paper_entries
BEGIN SELECT RAISE(ABORT, 'paper entries are kept as entered'); END;
