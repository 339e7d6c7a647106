-- An order's lines as the API and the events write them, amounts as decimal strings.
CREATE OR REPLACE FUNCTION order_lines_json(order_id uuid) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'line_no', l.line_no, 'sku', l.sku, 'description', l.description, 'quantity', trim_scale(l.quantity)::text,
        'unit_price', money_text(l.unit_price), 'discount_percent', trim_scale(l.discount_percent)::text,
        'tax_amount', money_text(l.tax_amount), 'line_total', money_text(l.line_total),
        'delivered_quantity', trim_scale(l.delivered_quantity)::text, 'serial_numbers', to_jsonb(l.serial_numbers)
    ) ORDER BY l.line_no), '[]'::jsonb)
    FROM order_lines l WHERE l.order_id = order_lines_json.order_id);
