-- The answers to idempotent requests, each written in the commit of the request's
-- effects (ServiceKit's RequestLedger): a retry after an unknown outcome finds here
-- whether it committed, and with what answer. Pruned after a day, as the gateway
-- forgets its Idempotency-Keys.
CREATE TABLE request_ledger (
    key text PRIMARY KEY,
    status integer NOT NULL,
    headers jsonb NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_ledger_created_at ON request_ledger (created_at);
