-- What the suspicious-transaction rules find about an order as it now stands, given the
-- thresholds: a row per rule that fires, with a score from 0 to 100 and the reasons in words.
-- The customer is the source's customer number; its other orders are compared by the times and
-- versions the ERP gave them, never by when their messages arrived, so messages out of order raise
-- nothing an ordered stream would not.
CREATE OR REPLACE FUNCTION alert_findings(o orders, s alert_settings)
RETURNS TABLE (rule text, score numeric, reasons jsonb) LANGUAGE plpgsql STABLE
-- PL/pgSQL keeps the query's plan for the session: as a SQL function it was planned on every
-- order, 12 ms of the 15 an order took. Its body is read when called, so it names its schema.
SET search_path FROM CURRENT AS $$
BEGIN
RETURN QUERY
    -- Many orders from one customer within the 24 hours up to this one.
    SELECT 'order_burst', least(100, 50 + 10 * (b.n - s.orders_per_day)),
        jsonb_build_array(format('%s orders from customer %s within 24 hours (more than %s)', b.n, o.erp_customer_id, s.orders_per_day))
    FROM (SELECT count(*) AS n FROM orders x
          WHERE x.source = o.source AND x.erp_customer_id = o.erp_customer_id
            AND x.ordered_at > o.ordered_at - interval '24 hours' AND x.ordered_at <= o.ordered_at) b
    WHERE b.n > s.orders_per_day
    UNION ALL
    -- An amount far above the customer's own pattern of the 90 days before.
    SELECT 'unusual_amount', least(100, round(20 * (o.gross - p.mean) / p.deviation, 1)),
        jsonb_build_array(format('gross %s is %s standard deviations above the mean %s of the customer''s %s orders in the 90 days before',
            money_text(o.gross), round((o.gross - p.mean) / p.deviation, 1), money_text(round(p.mean, 2)), p.n))
    FROM (SELECT count(*) AS n, avg(x.gross) AS mean, stddev_samp(x.gross) AS deviation FROM orders x
          WHERE x.source = o.source AND x.erp_customer_id = o.erp_customer_id AND x.id <> o.id AND x.currency = o.currency
            AND x.ordered_at >= o.ordered_at - interval '90 days' AND x.ordered_at < o.ordered_at) p
    WHERE p.n >= s.amount_history_minimum AND p.deviation > 0 AND (o.gross - p.mean) / p.deviation > s.amount_z_score
    UNION ALL
    -- The same customer, day, amount and lines as another order.
    SELECT 'possible_duplicate', 80, jsonb_build_array(format('same customer, day, gross and lines as order %s', d.order_number))
    FROM (SELECT x.order_number FROM orders x
          WHERE x.source = o.source AND x.erp_customer_id = o.erp_customer_id AND x.id <> o.id AND x.gross = o.gross
            AND x.currency = o.currency AND x.status <> 'cancelled'
            -- the later of the two is the suspect one
            AND (x.created_at, x.id) < (o.created_at, o.id)
            AND (x.ordered_at AT TIME ZONE 'UTC')::date = (o.ordered_at AT TIME ZONE 'UTC')::date
            AND (SELECT string_agg(concat_ws('|', l.sku, l.quantity, l.line_total), ',' ORDER BY l.sku, l.quantity, l.line_total)
                 FROM order_lines l WHERE l.order_id = x.id)
              = (SELECT string_agg(concat_ws('|', l.sku, l.quantity, l.line_total), ',' ORDER BY l.sku, l.quantity, l.line_total)
                 FROM order_lines l WHERE l.order_id = o.id)
          ORDER BY x.ordered_at, x.order_number LIMIT 1) d
    WHERE o.status <> 'cancelled'
    UNION ALL
    -- What the customer owes on open orders beyond the credit limit the ERP sent with this one.
    SELECT 'credit_exposure', least(100, round(50 + 50 * (e.exposure - e.credit_limit) / greatest(e.credit_limit, 1), 1)),
        jsonb_build_array(format('open orders of %s exceed the credit limit of %s', money_text(e.exposure), money_text(e.credit_limit)))
    FROM (SELECT (o.customer->>'credit_limit')::numeric AS credit_limit,
              (SELECT sum(x.gross) FROM orders x
               WHERE x.source = o.source AND x.erp_customer_id = o.erp_customer_id AND x.currency = o.currency
                 AND x.status NOT IN ('paid', 'cancelled', 'returned')) AS exposure) e
    WHERE e.credit_limit IS NOT NULL AND e.exposure > e.credit_limit
    UNION ALL
    -- A customer who pays only after dunning, judged when a payment arrives.
    SELECT 'pays_after_dunning', round(100 * d.dunned / d.paid, 1),
        jsonb_build_array(format('%s of the customer''s %s invoices paid in the last year were paid at dunning level 2 or more', d.dunned, d.paid))
    FROM (SELECT count(*) AS paid, count(*) FILTER (WHERE (x.payment->>'dunning_level')::int >= 2) AS dunned FROM orders x
          WHERE x.source = o.source AND x.erp_customer_id = o.erp_customer_id AND x.payment->>'paid_at' IS NOT NULL
            AND (x.payment->>'paid_at')::timestamptz > coalesce((o.payment->>'paid_at')::timestamptz, o.status_at) - interval '1 year') d
    WHERE o.status = 'paid' AND d.paid >= s.dunning_minimum AND d.dunned::numeric / d.paid >= s.dunning_share
    UNION ALL
    -- Steps in an order the ERP's own versions put in an impossible sequence, and lines that
    -- return what was never delivered.
    SELECT 'impossible_sequence', 90, to_jsonb(array_agg(i.reason ORDER BY i.reason))
    FROM (
        SELECT format('paid at version %s before invoiced at version %s', paid.version, invoiced.version) AS reason
        FROM order_status_history paid JOIN order_status_history invoiced ON invoiced.order_id = paid.order_id
        WHERE paid.order_id = o.id AND paid.status = 'paid' AND invoiced.status = 'invoiced' AND invoiced.version > paid.version
        UNION ALL
        SELECT format('cancelled at version %s after %s at version %s', cancelled.version, delivered.status, delivered.version)
        FROM order_status_history cancelled JOIN order_status_history delivered ON delivered.order_id = cancelled.order_id
        WHERE cancelled.order_id = o.id AND cancelled.status = 'cancelled' AND delivered.status IN ('delivered', 'invoiced', 'paid')
            AND delivered.version < cancelled.version
        UNION ALL
        SELECT 'returned without anything delivered'
        WHERE o.status = 'returned' AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.delivered_quantity > 0)
        UNION ALL
        SELECT format('line %s delivers %s of %s ordered', l.line_no, trim_scale(l.delivered_quantity), trim_scale(l.quantity))
        FROM order_lines l WHERE l.order_id = o.id AND l.delivered_quantity > l.quantity AND l.quantity > 0
    ) i
    HAVING count(*) > 0;
END
$$;
