-- An order without its lines and history: what a list shows.
CREATE OR REPLACE FUNCTION order_summary(o orders) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', o.id, 'source', o.source, 'order_number', o.order_number, 'version', o.version, 'status', o.status,
    'status_at', ts(o.status_at), 'ordered_at', ts(o.ordered_at), 'erp_customer_id', o.erp_customer_id,
    'contact_id', o.contact_id, 'account_id', o.account_id, 'matched_by', o.matched_by, 'currency', o.currency,
    'totals', jsonb_build_object('net', money_text(o.net), 'tax', money_text(o.tax), 'gross', money_text(o.gross)),
    'crm_deal_id', o.crm_deal_id, 'crm_quote_id', o.crm_quote_id, 'created_at', ts(o.created_at), 'updated_at', ts(o.updated_at));
