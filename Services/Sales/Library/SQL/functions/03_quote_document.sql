CREATE OR REPLACE FUNCTION quote_document(q quotes) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', q.id, 'number', q.number, 'deal_id', q.deal_id, 'status', q.status, 'customer', q.customer,
    'lines', q.lines,
    'subtotal', jsonb_build_object('amount', money_text(q.subtotal), 'currency', q.currency),
    'discount', jsonb_build_object('amount', money_text(q.discount), 'currency', q.currency),
    'tax', jsonb_build_object('amount', money_text(q.tax), 'currency', q.currency),
    'total', jsonb_build_object('amount', money_text(q.total), 'currency', q.currency),
    'taxes', q.taxes, 'valid_until', q.valid_until, 'notes', q.notes,
    'sent_at', ts(q.sent_at), 'decided_at', ts(q.decided_at), 'reject_reason', q.reject_reason,
    'version', q.version, 'created_at', ts(q.created_at), 'updated_at', ts(q.updated_at));
