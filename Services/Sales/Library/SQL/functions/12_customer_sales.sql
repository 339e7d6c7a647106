-- What the gateway's customer overview needs of sales for one contact, in the overview's
-- shape: its oldest 200 deals split into open and closed (with `truncated` when there are
-- more), the open and won amounts per currency over all its deals, and its open
-- activities by due time. PL/pgSQL keeps the plan per connection: planning the statement
-- cost more than running it.
CREATE OR REPLACE FUNCTION customer_sales(contact uuid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
    RETURN (
        WITH d AS (
            SELECT deal_json(d, st.name, st.probability, deal_lines_json(d)) AS document, d.status, d.created_at, d.id
            FROM deals d JOIN stages st ON st.id = d.stage_id
            WHERE d.contact_id = contact AND d.deleted_at IS NULL ORDER BY d.created_at, d.id LIMIT 201),
        shown AS (SELECT * FROM d ORDER BY d.created_at, d.id LIMIT 200),
        sums AS (
            SELECT t.status, jsonb_agg(jsonb_build_object('amount', money_text(t.total), 'currency', t.currency)
                ORDER BY t.currency) AS amounts
            FROM (SELECT x.status, x.currency, sum(x.amount) AS total FROM deals x
                WHERE x.contact_id = contact AND x.deleted_at IS NULL AND x.status IN ('open', 'won')
                GROUP BY x.status, x.currency) t
            GROUP BY t.status)
        SELECT jsonb_build_object(
            'deals', jsonb_build_object(
                'open', coalesce((SELECT jsonb_agg(s.document ORDER BY s.created_at, s.id) FROM shown s WHERE s.status = 'open'), '[]'),
                'closed', coalesce((SELECT jsonb_agg(s.document ORDER BY s.created_at, s.id) FROM shown s WHERE s.status <> 'open'), '[]'),
                'open_amounts', coalesce((SELECT amounts FROM sums WHERE status = 'open'), '[]'),
                'won_amounts', coalesce((SELECT amounts FROM sums WHERE status = 'won'), '[]'))
                || CASE WHEN (SELECT count(*) FROM d) > 200 THEN '{"truncated": true}'::jsonb ELSE '{}' END,
            'activities', jsonb_build_object('open', coalesce((SELECT jsonb_agg(x.document ORDER BY x.due_at, x.id)
                FROM (SELECT activity_document(a) AS document, a.due_at, a.id FROM activities a
                    WHERE a.contact_id = contact AND a.deleted_at IS NULL AND NOT a.done ORDER BY a.due_at, a.id
                    LIMIT 50) x), '[]')))::text);
END
$$;
