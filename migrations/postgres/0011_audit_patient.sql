-- The audit trail viewer (issue 18, docs/api.md "The audit trail"): each entry about a patient
-- names her by study id, so an admin can list everything that happened to one patient. The
-- study id is part of the entry's hash when it is set (entries written before this migration
-- have none and keep their hashes). Indexes for the viewer's filters.
ALTER TABLE audit_log ADD COLUMN patient TEXT;
CREATE INDEX audit_log_by_patient ON audit_log (patient, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
