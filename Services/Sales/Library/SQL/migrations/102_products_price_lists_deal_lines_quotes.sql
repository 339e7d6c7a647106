CREATE TABLE products (
    id uuid PRIMARY KEY,
    code text NOT NULL,
    name text NOT NULL,
    unit text NOT NULL DEFAULT 'pc',
    base_price numeric NOT NULL CHECK (base_price >= 0),
    currency text NOT NULL,
    tax_rate numeric NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 100),
    active boolean NOT NULL DEFAULT true,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE UNIQUE INDEX products_code ON products (lower(code));

CREATE TABLE price_lists (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    currency text NOT NULL,
    customer_group text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE UNIQUE INDEX price_lists_name ON price_lists (lower(name));
CREATE TABLE price_list_prices (
    price_list_id uuid NOT NULL REFERENCES price_lists (id),
    product_id uuid NOT NULL REFERENCES products (id),
    unit_price numeric NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (price_list_id, product_id)
);

-- A deal with lines takes its amount from them, in its price list's currency.
ALTER TABLE deals ADD COLUMN price_list_id uuid REFERENCES price_lists (id);
CREATE TABLE deal_lines (
    deal_id uuid NOT NULL REFERENCES deals (id),
    position integer NOT NULL,
    product_id uuid NOT NULL REFERENCES products (id),
    quantity numeric NOT NULL CHECK (quantity > 0),
    unit_price numeric NOT NULL CHECK (unit_price >= 0),
    -- Set when the line's price was given rather than taken from the price list.
    price_overridden boolean NOT NULL DEFAULT false,
    discount_percent numeric NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    PRIMARY KEY (deal_id, position)
);
CREATE INDEX deal_lines_product ON deal_lines (product_id);

-- A quote keeps its lines and sums as they were when it was made: the deal may change after.
CREATE TABLE quote_numbers (year integer PRIMARY KEY, last integer NOT NULL);
CREATE TABLE quotes (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE,
    deal_id uuid NOT NULL REFERENCES deals (id),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    currency text NOT NULL,
    customer jsonb NOT NULL,
    lines jsonb NOT NULL,
    subtotal numeric NOT NULL,
    discount numeric NOT NULL,
    tax numeric NOT NULL,
    total numeric NOT NULL,
    taxes jsonb NOT NULL,
    valid_until date NOT NULL,
    notes text,
    sent_at timestamptz,
    decided_at timestamptz,
    reject_reason text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX quotes_deal ON quotes (deal_id, created_at, id);
CREATE INDEX quotes_created ON quotes (created_at, id);
CREATE INDEX quotes_sent ON quotes (valid_until) WHERE status = 'sent';

CREATE FUNCTION quote_document(q quotes) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
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

CREATE FUNCTION line_total(quantity numeric, unit_price numeric, discount_percent numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN round(quantity * unit_price * (1 - discount_percent / 100), 2);

CREATE FUNCTION product_document(p products) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', p.id, 'code', p.code, 'name', p.name, 'unit', p.unit,
    'base_price', jsonb_build_object('amount', money_text(p.base_price), 'currency', p.currency),
    'tax_rate', trim_scale(p.tax_rate), 'active', p.active,
    'version', p.version, 'created_at', ts(p.created_at), 'updated_at', ts(p.updated_at));

CREATE FUNCTION price_list_document(l price_lists) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', l.id, 'name', l.name, 'currency', l.currency, 'customer_group', l.customer_group,
    'prices', (SELECT coalesce(jsonb_agg(jsonb_build_object('product_id', p.id, 'product_code', p.code,
            'unit_price', jsonb_build_object('amount', money_text(x.unit_price), 'currency', l.currency))
            ORDER BY lower(p.code)), '[]')
        FROM price_list_prices x JOIN products p ON p.id = x.product_id WHERE x.price_list_id = l.id),
    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at));

CREATE OR REPLACE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT jsonb_build_object(
    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', s.name,
    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, s.probability) END,
    'probability_is_stage_default', d.probability IS NULL,
    'expected_close_date', d.expected_close_date, 'owner', d.owner,
    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
    'price_list_id', d.price_list_id,
    'lines', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'product_id', p.id, 'product_code', p.code, 'product_name', p.name, 'unit', p.unit,
            'quantity', trim_scale(l.quantity),
            'unit_price', jsonb_build_object('amount', money_text(l.unit_price), 'currency', d.currency),
            'price_overridden', l.price_overridden, 'discount_percent', trim_scale(l.discount_percent),
            'total', jsonb_build_object('amount', money_text(line_total(l.quantity, l.unit_price, l.discount_percent)),
                'currency', d.currency))
            ORDER BY l.position), '[]')
        FROM deal_lines l JOIN products p ON p.id = l.product_id WHERE l.deal_id = d.id),
    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
    'deleted_at', ts(d.deleted_at))
    FROM stages s WHERE s.id = d.stage_id);
