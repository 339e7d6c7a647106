-- The thresholds of the suspicious-transaction rules: one row, changed through the API by an admin.
CREATE TABLE alert_settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- Many orders: more than this many from one customer within 24 hours.
    orders_per_day integer NOT NULL DEFAULT 5 CHECK (orders_per_day > 0),
    -- An unusual amount: this many standard deviations above the customer's own 90-day mean…
    amount_z_score numeric NOT NULL DEFAULT 3 CHECK (amount_z_score > 0),
    -- …once the customer has at least this many orders in those 90 days.
    amount_history_minimum integer NOT NULL DEFAULT 5 CHECK (amount_history_minimum >= 2),
    -- Pays only after dunning: at least this share of the year's paid invoices paid at dunning level 2 or more…
    dunning_share numeric NOT NULL DEFAULT 0.5 CHECK (dunning_share > 0 AND dunning_share <= 1),
    -- …of at least this many paid invoices.
    dunning_minimum integer NOT NULL DEFAULT 3 CHECK (dunning_minimum > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO alert_settings DEFAULT VALUES;

-- What a rule found about an order: once per order and rule, open until someone acknowledges it
-- (it was looked into) or dismisses it (nothing wrong), with a comment.
CREATE TABLE alerts (
    id uuid PRIMARY KEY,
    rule text NOT NULL CHECK (rule IN ('order_burst', 'unusual_amount', 'possible_duplicate', 'credit_exposure',
        'pays_after_dunning', 'impossible_sequence')),
    order_id uuid NOT NULL REFERENCES orders,
    source text NOT NULL,
    erp_customer_id text NOT NULL,
    contact_id uuid,
    account_id uuid,
    score numeric(5, 1) NOT NULL CHECK (score BETWEEN 0 AND 100),
    reasons jsonb NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'dismissed')),
    comment text,
    decided_by text,
    decided_at timestamptz,
    raised_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    UNIQUE (order_id, rule)
);
CREATE INDEX alerts_by_time ON alerts (raised_at DESC, id);
CREATE INDEX alerts_open ON alerts (raised_at DESC, id) WHERE status = 'open';
-- The rules look at a customer's other orders of a source by time.
CREATE INDEX orders_customer_time ON orders (source, erp_customer_id, ordered_at);
