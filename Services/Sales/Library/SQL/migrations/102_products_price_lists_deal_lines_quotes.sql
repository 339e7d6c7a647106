-- Functions it once defined (deal_document, line_total, price_list_document, product_document, quote_document) live in SQL/functions now;
-- databases that applied it before recorded md5 8bb05b23193713a32751f3cbb86d5bfc.
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
