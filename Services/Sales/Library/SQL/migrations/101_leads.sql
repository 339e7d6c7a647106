-- Functions it once defined (lead_document) live in SQL/functions now;
-- databases that applied it before recorded md5 82a04b8f4cdb090059d65179ae3c4087.
-- A lead is worked from new to qualified, then converted into a deal; the contact it
-- becomes is matched or created by the contacts service and linked back here.
CREATE TABLE leads (
    id uuid PRIMARY KEY,
    first_name text,
    last_name text,
    company text,
    email text,
    phone text,
    source text,
    campaign_id uuid,
    owner text,
    notes text,
    status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'qualified', 'disqualified', 'converted')),
    disqualify_reason text,
    create_account boolean NOT NULL DEFAULT false,
    deal_id uuid REFERENCES deals (id),
    contact_id uuid,
    account_id uuid,
    converted_at timestamptz,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    deleted_at timestamptz
);
CREATE INDEX leads_created ON leads (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_status ON leads (status, created_at, id) WHERE deleted_at IS NULL;
