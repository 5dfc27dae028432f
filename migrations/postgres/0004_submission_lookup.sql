-- Reading a patient's schedule asks, for each assessment, whether and when a submission arrived
-- (`SELECT MIN(received_at) FROM submissions WHERE assessment_id = …`). Without this index that
-- scanned every submission of the study for every assessment; `cargo xtask bench`'s export of
-- 10,000 patients found it.
CREATE INDEX submissions_assessment ON submissions (assessment_id, received_at);
