-- An order request as the API lists it: where it went, and what was sent or why not.
CREATE OR REPLACE FUNCTION order_request_document(r order_requests) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', r.id, 'deal_id', r.deal_id, 'quote_id', r.quote_id, 'source', r.source, 'status', r.status, 'reason', r.reason,
    'requested_by', r.requested_by, 'requested_at', ts(r.requested_at),
    'orders', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'order_number', o.order_number, 'status', o.status)
                   ORDER BY o.ordered_at), '[]')
               FROM orders o WHERE o.crm_deal_id = r.deal_id AND o.source = r.source));
