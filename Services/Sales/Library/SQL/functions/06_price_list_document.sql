CREATE OR REPLACE FUNCTION price_list_document(l price_lists) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', l.id, 'name', l.name, 'currency', l.currency, 'customer_group', l.customer_group,
    'prices', (SELECT coalesce(jsonb_agg(jsonb_build_object('product_id', p.id, 'product_code', p.code,
            'unit_price', jsonb_build_object('amount', money_text(x.unit_price), 'currency', l.currency))
            ORDER BY lower(p.code)), '[]')
        FROM price_list_prices x JOIN products p ON p.id = x.product_id WHERE x.price_list_id = l.id),
    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at));
