CREATE OR REPLACE FUNCTION product_document(p products) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', p.id, 'code', p.code, 'name', p.name, 'unit', p.unit,
    'base_price', jsonb_build_object('amount', money_text(p.base_price), 'currency', p.currency),
    'tax_rate', trim_scale(p.tax_rate), 'active', p.active,
    'version', p.version, 'created_at', ts(p.created_at), 'updated_at', ts(p.updated_at));
