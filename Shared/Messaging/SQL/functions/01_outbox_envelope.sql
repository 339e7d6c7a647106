-- The envelope of DESIGN.md §2 for an event whose data the database holds: written by
-- `Outbox.appendEvents` and by the statements a service keeps in PL/pgSQL. STABLE, and
-- given the time rather than reading the clock, so the planner inlines it.
CREATE OR REPLACE FUNCTION outbox_envelope(event_id uuid, event_type text, producer text, aggregate_id uuid,
    aggregate_version bigint, data jsonb, occurred_at timestamptz) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
RETURN json_build_object('id', event_id, 'type', event_type, 'version', 1,
    'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'producer', producer, 'aggregate_id', aggregate_id, 'aggregate_version', aggregate_version,
    'correlation_id', event_id, 'causation_id', NULL, 'data', data);
