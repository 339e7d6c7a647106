-- A create validates custom fields against definitions the service keeps in memory,
-- and its statement inserts only while this generation is the one they were read at.
-- Every change of the definitions bumps it in the same transaction.
CREATE TABLE custom_field_generation (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    generation bigint NOT NULL
);
INSERT INTO custom_field_generation VALUES (true, 1);

-- Takes the advisory lock of each identity key ('e:' e-mail, 'p:' phone, in one
-- order, so two writers cannot deadlock), then reads the live contacts holding a key.
-- A VOLATILE PL/pgSQL function runs that read on a snapshot taken after the locks:
-- a statement that calls it still sees a create of the same person that committed
-- while it waited, so the duplicate check and the insert can be one statement.
CREATE FUNCTION claim_identities(sought_emails text[], sought_phones text[], excluded uuid[])
RETURNS TABLE (id uuid, name text, email_keys text[], phone_keys text[], created_at timestamptz)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('contacts.identity:' || k))
    FROM (SELECT DISTINCT k COLLATE "C" AS k FROM unnest(
        ARRAY(SELECT 'e:' || e FROM unnest(sought_emails) AS e) || ARRAY(SELECT 'p:' || p FROM unnest(sought_phones) AS p)
    ) AS k ORDER BY 1) AS keys;
    -- Each branch returns its rows itself: joining the found ids back to the table
    -- made the planner hash the whole table. The caller's own snapshot may not see
    -- these rows, so they carry all it needs of them.
    RETURN QUERY
        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
            c.created_at FROM unnest(sought_emails) AS k
            JOIN contacts c ON c.email_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(excluded)
        UNION
        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
            c.created_at FROM unnest(sought_phones) AS k
            JOIN contacts c ON c.phone_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(excluded);
END
$$;
