-- Studies: the protocol each study follows is stored as data (JSON text) beside it.
-- Later migrations add sites, staff, patients and everything clinical; this one only has to
-- carry the demo study that `cargo xtask run` seeds.
CREATE TABLE studies (
    id            BIGSERIAL PRIMARY KEY,
    code          TEXT      NOT NULL UNIQUE,
    title         TEXT      NOT NULL,
    strata        TEXT      NOT NULL,  -- comma-separated stratum codes, e.g. 'nodal,hematogenous'
    is_demo       BIGINT    NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    created_at    TEXT      NOT NULL   -- RFC 3339, UTC
);
