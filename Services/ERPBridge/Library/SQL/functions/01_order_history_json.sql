-- An order's statuses by version, the oldest first.
CREATE OR REPLACE FUNCTION order_history_json(order_id uuid) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'version', h.version, 'status', h.status, 'status_at', ts(h.status_at), 'recorded_at', ts(h.recorded_at)
    ) ORDER BY h.version), '[]'::jsonb)
    FROM order_status_history h WHERE h.order_id = order_history_json.order_id);
