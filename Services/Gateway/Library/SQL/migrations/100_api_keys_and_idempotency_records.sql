CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL,
    -- SHA-256 of the key, hex; the key itself is shown once, at creation.
    key_hash text NOT NULL UNIQUE,
    prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    revoked_at timestamptz
);
CREATE TABLE idempotency_records (
    caller text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
