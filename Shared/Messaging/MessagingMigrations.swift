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
        Migration(
            version: 3,
            name: "time-ordered event ids",
            sql: """
                -- A version 7 UUID (RFC 9562), as UUID.timeOrdered() makes in Swift: Unix milliseconds
                -- in the first 48 bits, so new event ids append to the outbox and inbox indexes
                -- rather than land on random pages. gen_random_uuid() gives the random bits and the
                -- variant; its version 4 (0100) becomes 7 (0111) by setting two bits.
                CREATE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE
                RETURN encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
                    52, 1), 53, 1), 'hex')::uuid;
                """
        ),
        Migration(
            version: 4,
            name: "the event envelope built in SQL, in one place",
            sql: """
                -- The envelope of DESIGN.md §2 for an event whose data the database holds: written by
                -- `Outbox.appendEvents` and by the statements a service keeps in PL/pgSQL. STABLE, and
                -- given the time rather than reading the clock, so the planner inlines it.
                CREATE FUNCTION outbox_envelope(event_id uuid, event_type text, producer text, aggregate_id uuid,
                    aggregate_version bigint, data jsonb, occurred_at timestamptz) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
                RETURN json_build_object('id', event_id, 'type', event_type, 'version', 1,
                    'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    'producer', producer, 'aggregate_id', aggregate_id, 'aggregate_version', aggregate_version,
                    'correlation_id', event_id, 'causation_id', NULL, 'data', data);
                """
        ),
        Migration(
            version: 5,
            name: "outbox pages keep room for the published mark",
            sql: """
                -- Marking a row published cannot be a HOT update (the unpublished index's predicate
                -- names published_at), but with room on its page the new version stays there and the
                -- WAL records the bytes that changed and the index entries: 1,000 marks wrote about
                -- 0.3 MB instead of 1.6 MB (as much as the inserts themselves) and took 9 ms instead
                -- of 12.5. The price is an outbox twice as large on disk, from the pages filled now on.
                ALTER TABLE outbox SET (fillfactor = 50);
                """
        ),
        Migration(
            version: 6,
            name: "request ledger",
            sql: """
                -- The answers to idempotent requests, each written in the commit of the request's
                -- effects (ServiceKit's RequestLedger): a retry after an unknown outcome finds here
                -- whether it committed, and with what answer. Pruned after a day, as the gateway
                -- forgets its Idempotency-Keys.
                CREATE TABLE request_ledger (
                    key text PRIMARY KEY,
                    status integer NOT NULL,
                    headers jsonb NOT NULL,
                    body bytea NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX request_ledger_created_at ON request_ledger (created_at);
                """
        ),
    ]
}
