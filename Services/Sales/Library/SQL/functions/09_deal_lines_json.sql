-- A deal's document, in parts the planner does not have to set up per query: deal_json
-- is one expression of the row, its stage and its lines, so a query inlines it instead
-- of planning and starting deal_document's body; deal_lines_json is PL/pgSQL, a call
-- per deal on a plan each connection makes once. deal_document keeps its signature for
-- the statements that name it.
CREATE OR REPLACE FUNCTION deal_lines_json(d deals) RETURNS jsonb
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
