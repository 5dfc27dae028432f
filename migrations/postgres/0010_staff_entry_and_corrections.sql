-- Forms entered by staff on a patient's behalf, and corrections signed by staff (issue 18,
-- docs/api.md "Staff entry and corrections").
--
-- `mode`: who filled the form in and how ('self' is the patient in the app). `form_reference`:
-- a paper form's number. A correction is a new row (submissions are never updated): `version`
-- one more than the row it `corrects_id`, with `correction_reason`, the signature's meaning in
-- `signature_meaning`, the signer in `submitted_by` and the time signed in `received_at`.
ALTER TABLE submissions ADD COLUMN mode TEXT NOT NULL DEFAULT 'self'
    CHECK (mode IN ('self', 'paper', 'telephone_interview', 'clinic_interview', 'proxy'));
ALTER TABLE submissions ADD COLUMN form_reference TEXT;
ALTER TABLE submissions ADD COLUMN signature_meaning TEXT;

-- One chain of versions per assessment, and each version corrected at most once: two
-- corrections signed at the same moment cannot both become version 2.
CREATE UNIQUE INDEX submissions_one_version ON submissions (assessment_id, version);
CREATE UNIQUE INDEX submissions_one_correction ON submissions (corrects_id);
