import Storage

enum GatewayMigrations {
    static let all: [Migration] = [
        Migration(
            version: 100,
            name: "api keys and idempotency records",
            sql: """
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
                """
        ),
        Migration(
            version: 101,
            name: "idempotency claims with an owner and a lease",
            sql: """
                -- A claim belongs to one request (claim) for as long as that request may take
                -- (claimed_until): only its owner completes or abandons it, and a claim whose
                -- request died frees the key when its lease ends, not five minutes later.
                ALTER TABLE idempotency_records ADD COLUMN claim uuid, ADD COLUMN claimed_until timestamptz;
                """
        ),
    ]
}
