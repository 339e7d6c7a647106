-- A deal (its accepted quote, or the deal itself once won with lines) handed to a source as an
-- order request (`sales.deal.order_requested`): what was sent, or why it was not.
CREATE TABLE order_requests (
    id uuid PRIMARY KEY,
    deal_id uuid NOT NULL,
    quote_id uuid,
    source text NOT NULL,
    status text NOT NULL CHECK (status IN ('sent', 'refused')),
    reason text,
    message jsonb,
    requested_by text,
    requested_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_requests_deal ON order_requests (deal_id, requested_at DESC);

-- The quote the order answers, from the request its deal was sent with.
ALTER TABLE orders ADD COLUMN crm_quote_id uuid;
