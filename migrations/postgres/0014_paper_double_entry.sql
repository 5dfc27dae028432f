-- Double entry of paper forms (issue 18, docs/api.md "Double entry of paper forms"): when the
-- protocol asks for it (paper_double_entry), a paper form is entered twice, blind, by two staff
-- members, each entry kept here as entered. The form counts (a submission) when the two agree,
-- or when a later entry resolves what they disagree on. An entry number is taken once per
-- assessment; entries are never changed or deleted.
CREATE TABLE paper_entries (
    id            BIGSERIAL PRIMARY KEY,
    assessment_id BIGINT  NOT NULL REFERENCES assessments (id),
    entry         BIGINT  NOT NULL CHECK (entry IN (1, 2)),
    client_id     TEXT    NOT NULL UNIQUE,
    request_json  TEXT    NOT NULL,
    entered_by    TEXT    NOT NULL,
    entered_at    TEXT    NOT NULL,
    UNIQUE (assessment_id, entry)
);
CREATE TRIGGER paper_entries_are_kept BEFORE UPDATE OR DELETE ON paper_entries
FOR EACH ROW EXECUTE FUNCTION qol_refuse_change('paper entries are kept as entered');
