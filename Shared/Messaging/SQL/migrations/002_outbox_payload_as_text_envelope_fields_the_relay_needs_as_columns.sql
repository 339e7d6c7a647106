-- json keeps the text as written, so the relay reads a batch without re-serialising
-- every document (jsonb to text cost a core the broker needs); the correlation id and
-- event version, which the relay sets as message properties, get columns of their own.
ALTER TABLE outbox ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE outbox ADD COLUMN correlation_id uuid;
ALTER TABLE outbox ADD COLUMN event_version integer NOT NULL DEFAULT 1;
UPDATE outbox SET correlation_id = (payload->>'correlation_id')::uuid, event_version = coalesce((payload->>'version')::int, 1);
