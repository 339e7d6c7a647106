-- What the gateway's customer overview needs of contacts: the contact, or the survivor
-- of a merge it went into, with its account and latest interactions. A statement sent
-- from the service is planned on every call, and planning it (inlining the document
-- functions) cost three times running it; PL/pgSQL keeps the plan per connection.
CREATE FUNCTION customer_summary(asked uuid, latest integer)
RETURNS TABLE (summary text, survivor uuid)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
    RETURN QUERY
        WITH RECURSIVE chain AS (
            SELECT c.id, c.merged_into, 0 AS steps FROM contacts c WHERE c.id = asked
            UNION ALL
            SELECT c.id, c.merged_into, chain.steps + 1 FROM chain JOIN contacts c ON c.id = chain.merged_into
            WHERE chain.steps < 7)
        SELECT jsonb_build_object(
            'contact', contact_document(c),
            'account', (SELECT account_document(a) FROM accounts a WHERE a.id = c.account_id AND a.deleted_at IS NULL),
            'interactions', coalesce((SELECT jsonb_agg(x.document ORDER BY x.occurred_at DESC, x.id DESC)
                FROM (SELECT interaction_document(i) AS document, i.occurred_at, i.id FROM interactions i
                    WHERE i.contact_id = c.id ORDER BY i.occurred_at DESC, i.id DESC LIMIT latest) x), '[]'))::text,
            c.id
        FROM chain JOIN contacts c ON c.id = chain.id
        WHERE chain.merged_into IS NULL AND c.deleted_at IS NULL;
END
$$;
