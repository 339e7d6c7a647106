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

CREATE FUNCTION lead_document(l leads) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', l.id, 'first_name', l.first_name, 'last_name', l.last_name, 'company', l.company,
    'email', l.email, 'phone', l.phone, 'source', l.source, 'campaign_id', l.campaign_id,
    'owner', l.owner, 'notes', l.notes, 'status', l.status, 'disqualify_reason', l.disqualify_reason,
    'create_account', l.create_account, 'deal_id', l.deal_id, 'contact_id', l.contact_id,
    'account_id', l.account_id, 'converted_at', ts(l.converted_at),
    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at),
    'deleted_at', ts(l.deleted_at));
