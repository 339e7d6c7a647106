-- The API's create (ContactStore.create): the account link (its row locked FOR SHARE,
-- so a delete of the account waits and then sees the link), the duplicate check under
-- the identity locks, the insert and its event, in one statement. Sent from the
-- service it was parsed and planned on every create, which cost more than running
-- it; PL/pgSQL keeps the plan per connection, a generic one (no table is scanned by
-- a value the plan could depend on). `candidate` is ContactStore's row JSON (a
-- one-element array); its columns are ContactRow's.
CREATE OR REPLACE FUNCTION create_contact(candidate json, account uuid, check_duplicates boolean,
    sought_emails text[], sought_phones text[], generation_read bigint, event_type text, producer text, channel text)
RETURNS TABLE (outcome text, document text)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
        WITH linked AS (SELECT a.name FROM accounts a WHERE a.id = account AND a.deleted_at IS NULL FOR SHARE),
        duplicate AS (
            SELECT h.* FROM claim_identities(sought_emails, sought_phones, '{}') h
            WHERE check_duplicates ORDER BY h.created_at, h.id LIMIT 1),
        verdict AS (SELECT CASE
            WHEN (SELECT g.generation FROM custom_field_generation g) <> generation_read THEN 'stale'
            WHEN account IS NOT NULL AND NOT EXISTS (SELECT FROM linked) THEN 'no-account'
            WHEN EXISTS (SELECT FROM duplicate) THEN 'duplicate'
            END AS refusal),
        inserted AS (
            INSERT INTO contacts AS c (id, emails, phones, position, company, address, region, country, consent, tags,
                owner, first_name, last_name, email_keys, phone_keys, account_id, preferred_language, lead_source,
                purchase_purpose, buying_priorities, payment_method, customer_type, custom_fields)
            SELECT r.id, r.emails, r.phones, r.position, coalesce((SELECT l.name FROM linked l), r.company), r.address,
                r.region, r.country, r.consent, r.tags, r.owner, r.first_name, r.last_name, r.email_keys, r.phone_keys,
                r.account_id, r.preferred_language, r.lead_source, r.purchase_purpose, r.buying_priorities,
                r.payment_method, r.customer_type, r.custom_fields
            FROM json_populate_recordset(NULL::contacts, candidate) AS r WHERE (SELECT v.refusal FROM verdict v) IS NULL
            RETURNING c.id AS aggregate_id, c.version AS aggregate_version, contact_document(c) AS data),
        events AS (
            INSERT INTO outbox (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
            SELECT e.event_id, event_type, e.aggregate_id, e.aggregate_version,
                outbox_envelope(e.event_id, event_type, producer, e.aggregate_id, e.aggregate_version, e.data, clock_timestamp()),
                '{"x-event-version": 1}'::jsonb, e.event_id, 1
            FROM (SELECT time_ordered_uuid() AS event_id, s.* FROM inserted AS s) AS e)
        SELECT 'created', i.data::text FROM inserted i, (SELECT pg_notify(channel, '')) AS notified
        UNION ALL
        SELECT v.refusal, jsonb_build_object('id', d.id, 'name', d.name,
            'matched', to_jsonb(ARRAY(SELECT unnest(d.email_keys) INTERSECT SELECT unnest(sought_emails))
                || ARRAY(SELECT unnest(d.phone_keys) INTERSECT SELECT unnest(sought_phones))))::text
        FROM verdict v LEFT JOIN duplicate d ON true WHERE v.refusal IS NOT NULL;
END
$$;
