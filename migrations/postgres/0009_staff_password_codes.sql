-- Staff accounts run from the admin console (issue 18, docs/api.md): a new account, or a
-- forgotten password, gets a one-time code from an admin; its holder sets their own password
-- with it (POST /api/v1/auth/staff/set-password). Only the code's SHA-256 is kept; a code works
-- once, until it expires, and a newer code for the account revokes it.
CREATE TABLE staff_password_codes (
    id            BIGSERIAL PRIMARY KEY,
    staff_user_id BIGINT  NOT NULL REFERENCES staff_users (id),
    code_hash     TEXT    NOT NULL UNIQUE,     -- SHA-256 hex of the normalised code
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    used_at       TEXT,
    revoked_at    TEXT
);
CREATE INDEX staff_password_codes_by_staff ON staff_password_codes (staff_user_id);
