-- Customers who use the self-service portal. Each is one contact of the contacts service (its
-- id, as staff granted access from the contact's page); what the portal shows of the contact it
-- reads through the API. The e-mail signs in, unique whatever its case.
CREATE TABLE portal_accounts (
    id uuid PRIMARY KEY,
    contact_id uuid NOT NULL UNIQUE,
    account_id uuid,
    email text NOT NULL,
    name text NOT NULL,
    customer_type text,
    password_hash text,
    active boolean NOT NULL DEFAULT true,
    granted_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE UNIQUE INDEX portal_accounts_email ON portal_accounts (lower(email));

-- A customer's signed-in browser: as the staff's sessions, under a cookie of its own.
CREATE TABLE portal_sessions (
    token_hash text PRIMARY KEY,
    portal_account_id uuid NOT NULL REFERENCES portal_accounts,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX portal_sessions_account ON portal_sessions (portal_account_id) WHERE ended_at IS NULL;

-- The one-time activation link (72 h) staff hand over; kept as a hash, used once.
CREATE TABLE portal_links (
    token_hash text PRIMARY KEY,
    portal_account_id uuid NOT NULL REFERENCES portal_accounts,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

-- What a customer asked for in the portal, and the lead it became in sales: "my requests", and
-- the proof that a request is theirs before the portal shows it.
CREATE TABLE portal_requests (
    id uuid PRIMARY KEY,
    portal_account_id uuid NOT NULL REFERENCES portal_accounts,
    lead_id uuid NOT NULL,
    summary text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX portal_requests_account ON portal_requests (portal_account_id, created_at);
