-- The whole order as the API and the events carry it: the summary, the customer as the ERP sent
-- it, payment, delivery address, lines and status history.
CREATE OR REPLACE FUNCTION order_document(o orders) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN order_summary(o) || jsonb_build_object(
    'customer', o.customer, 'payment', o.payment, 'delivery_address', o.delivery_address,
    'lines', order_lines_json(o.id), 'status_history', order_history_json(o.id));
