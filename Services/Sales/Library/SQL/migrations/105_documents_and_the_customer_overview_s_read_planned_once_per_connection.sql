-- A deal's document, in parts the planner does not have to set up per query: deal_json
-- is one expression of the row, its stage and its lines, so a query inlines it instead
-- of planning and starting deal_document's body; deal_lines_json is PL/pgSQL, a call
-- per deal on a plan each connection makes once. deal_document keeps its signature for
-- the statements that name it.
CREATE FUNCTION deal_lines_json(d deals) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'product_id', p.id, 'product_code', p.code, 'product_name', p.name, 'unit', p.unit,
                'quantity', trim_scale(l.quantity),
                'unit_price', jsonb_build_object('amount', money_text(l.unit_price), 'currency', d.currency),
                'price_overridden', l.price_overridden, 'discount_percent', trim_scale(l.discount_percent),
                'total', jsonb_build_object('amount', money_text(line_total(l.quantity, l.unit_price, l.discount_percent)),
                    'currency', d.currency))
                ORDER BY l.position), '[]')
            FROM deal_lines l JOIN products p ON p.id = l.product_id WHERE l.deal_id = d.id);
END
$$;

CREATE FUNCTION deal_json(d deals, stage_name text, stage_probability integer, lines jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', stage_name,
    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, stage_probability) END,
    'probability_is_stage_default', d.probability IS NULL,
    'expected_close_date', d.expected_close_date, 'owner', d.owner,
    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
    'price_list_id', d.price_list_id,
    'lines', lines,
    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
    'deleted_at', ts(d.deleted_at));

CREATE OR REPLACE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT deal_json(d, s.name, s.probability, deal_lines_json(d)) FROM stages s WHERE s.id = d.stage_id);

-- What the gateway's customer overview needs of sales for one contact, in the overview's
-- shape: its oldest 200 deals split into open and closed (with `truncated` when there are
-- more), the open and won amounts per currency over all its deals, and its open
-- activities by due time. PL/pgSQL keeps the plan per connection: planning the statement
-- cost more than running it.
CREATE FUNCTION customer_sales(contact uuid) RETURNS text
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
