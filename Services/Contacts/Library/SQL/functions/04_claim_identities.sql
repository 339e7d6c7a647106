-- The live holders come from one bitmap scan of both key indexes. The UNION of two
-- joins it replaces hashed its result into a table sized by the planner's guess
-- (thousands of rows for a key or two), and clearing that table took a fifth of the
-- function's time on every create. The plan is the generic one, made once per
-- connection: planned for an import batch's thousands of keys, the overlap looks
-- as if it matched every contact (the keys are unique, so their statistics say
-- nothing), and the planner chose to read the whole table, testing each row
-- against every key.
CREATE OR REPLACE FUNCTION claim_identities(sought_emails text[], sought_phones text[], excluded uuid[])
RETURNS TABLE (id uuid, name text, email_keys text[], phone_keys text[], created_at timestamptz)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('contacts.identity:' || k))
    FROM (SELECT DISTINCT k COLLATE "C" AS k FROM unnest(
        ARRAY(SELECT 'e:' || e FROM unnest(sought_emails) AS e) || ARRAY(SELECT 'p:' || p FROM unnest(sought_phones) AS p)
    ) AS k ORDER BY 1) AS keys;
    RETURN QUERY
        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
            c.created_at FROM contacts c
        WHERE (c.email_keys && sought_emails OR c.phone_keys && sought_phones)
            AND c.deleted_at IS NULL AND c.id <> ALL(excluded);
END
$$;
