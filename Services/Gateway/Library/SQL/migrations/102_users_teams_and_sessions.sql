-- The staff who sign in to the web app. The e-mail is unique whatever its case. A password is
-- kept only as its bcrypt hash; a user without one has not set it yet (an activation link).
CREATE TABLE users (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    time_zone text NOT NULL DEFAULT 'UTC',
    out_of_office_from date,
    out_of_office_to date,
    password_hash text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CHECK (out_of_office_to >= out_of_office_from)
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    lead_id uuid REFERENCES users,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE UNIQUE INDEX teams_name ON teams (lower(name));

CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is kept, so a copy of
-- this table signs nobody in. A session ends at its idle or absolute limit, at sign-out, or when
-- its user is deactivated or changes the password (ended_at).
CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    address text,
    user_agent text
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- One-time links: a new user's activation and an admin's password reset. Kept as a hash, valid
-- until expires_at, used once.
CREATE TABLE password_links (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users,
    purpose text NOT NULL CHECK (purpose IN ('activation', 'reset')),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins, per account (the e-mail as typed, lower case) and per address, counted over a
-- window to refuse guessing; a success clears the account's.
CREATE TABLE sign_in_failures (
    subject text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_subject ON sign_in_failures (subject, failed_at);
