-- An alert as the API and `erp.alert.raised` carry it, with what it is about.
CREATE OR REPLACE FUNCTION alert_document(a alerts) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', a.id, 'rule', a.rule, 'order_id', a.order_id,
    'order_number', (SELECT o.order_number FROM orders o WHERE o.id = a.order_id),
    'source', a.source, 'erp_customer_id', a.erp_customer_id, 'contact_id', a.contact_id, 'account_id', a.account_id,
    'score', a.score::float8, 'reasons', a.reasons, 'status', a.status, 'comment', a.comment, 'decided_by', a.decided_by,
    'decided_at', ts(a.decided_at), 'raised_at', ts(a.raised_at), 'version', a.version);
