import Storage

/// The outbox and inbox tables every service has in its own schema (DESIGN.md §3, §4).
public enum MessagingMigrations {
    public static let all: [Migration] = [
        Migration(
            version: 1,
            name: "outbox and inbox",
            sql: """
                CREATE TABLE outbox (
                    seq bigserial PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    type text NOT NULL,
                    aggregate_id uuid NOT NULL,
                    aggregate_version bigint NOT NULL,
                    payload jsonb NOT NULL,
                    headers jsonb NOT NULL DEFAULT '{}',
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    published_at timestamptz
                );
                CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
                CREATE INDEX outbox_created_at ON outbox (created_at);
                CREATE TABLE inbox (
                    message_id uuid PRIMARY KEY,
                    type text NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now()
                );
                """
        ),
        Migration(
            version: 2,
            name: "outbox payload as text, envelope fields the relay needs as columns",
            sql: """
                -- json keeps the text as written, so the relay reads a batch without re-serialising
                -- every document (jsonb to text cost a core the broker needs); the correlation id and
                -- event version, which the relay sets as message properties, get columns of their own.
                ALTER TABLE outbox ALTER COLUMN payload TYPE json USING payload::json;
                ALTER TABLE outbox ADD COLUMN correlation_id uuid;
                ALTER TABLE outbox ADD COLUMN event_version integer NOT NULL DEFAULT 1;
                UPDATE outbox SET correlation_id = (payload->>'correlation_id')::uuid, event_version = coalesce((payload->>'version')::int, 1);
                """
        ),
    ]
}
