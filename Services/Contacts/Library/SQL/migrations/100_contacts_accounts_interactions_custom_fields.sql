-- Lower-cased text a trigram index searches: name, company, e-mails, phone digits.
-- Declared immutable (it is: it only concatenates and lower-cases its arguments).
CREATE FUNCTION search_text(first_name text, last_name text, company text, email_keys text[], phone_keys text[])
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company, '')
    || ' ' || array_to_string(email_keys, ' ') || ' ' || translate(array_to_string(phone_keys, ' '), '+', ''));

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    legal_name text,
    tax_id text,
    industry text,
    size_band text,
    website text,
    address jsonb NOT NULL DEFAULT '{}',
    region text,
    country text,
    parent_account_id uuid REFERENCES accounts (id),
    owner text,
    tags text[] NOT NULL DEFAULT '{}',
    custom_fields jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    deleted_at timestamptz
);
CREATE INDEX accounts_name ON accounts (lower(name), id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(name) public.gin_trgm_ops);
CREATE INDEX accounts_parent ON accounts (parent_account_id) WHERE parent_account_id IS NOT NULL;

CREATE TABLE contacts (
    id uuid PRIMARY KEY,
    first_name text NOT NULL DEFAULT '',
    last_name text NOT NULL DEFAULT '',
    emails jsonb NOT NULL DEFAULT '[]',
    phones jsonb NOT NULL DEFAULT '[]',
    email_keys text[] NOT NULL DEFAULT '{}',
    phone_keys text[] NOT NULL DEFAULT '{}',
    position text,
    account_id uuid REFERENCES accounts (id),
    company text,
    address jsonb NOT NULL DEFAULT '{}',
    region text,
    country text,
    preferred_language text,
    lead_source text,
    purchase_purpose text,
    buying_priorities text[] NOT NULL DEFAULT '{}',
    payment_method text,
    customer_type text NOT NULL DEFAULT 'prospect',
    consent jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    owner text,
    custom_fields jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    deleted_at timestamptz,
    -- Set when merged: the merged id keeps resolving to the survivor.
    merged_into uuid REFERENCES contacts (id),
    search text GENERATED ALWAYS AS (search_text(first_name, last_name, company, email_keys, phone_keys)) STORED
);
CREATE INDEX contacts_created ON contacts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_updated ON contacts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_name ON contacts (lower(last_name), lower(first_name), id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_account ON contacts (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX contacts_owner ON contacts (owner, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_email_keys ON contacts USING gin (email_keys) WHERE deleted_at IS NULL;
CREATE INDEX contacts_phone_keys ON contacts USING gin (phone_keys) WHERE deleted_at IS NULL;
CREATE INDEX contacts_tags ON contacts USING gin (tags) WHERE deleted_at IS NULL;
CREATE INDEX contacts_search ON contacts USING gin (search public.gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_merged_into ON contacts (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE interactions (
    id uuid PRIMARY KEY,
    contact_id uuid NOT NULL REFERENCES contacts (id),
    channel text NOT NULL,
    direction text NOT NULL,
    occurred_at timestamptz NOT NULL,
    subject text,
    notes text,
    outcome text,
    recorded_by text,
    deal_id uuid,
    ticket_id uuid,
    order_id uuid,
    campaign_id uuid,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX interactions_timeline ON interactions (contact_id, occurred_at DESC, id DESC);

CREATE TABLE custom_field_definitions (
    id uuid PRIMARY KEY,
    entity text NOT NULL,
    name text NOT NULL,
    label text NOT NULL,
    type text NOT NULL,
    allowed_values text[] NOT NULL DEFAULT '{}',
    required boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    UNIQUE (entity, name)
);

-- The API and event form of each row, built where the row is, in one place.
CREATE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE FUNCTION contact_document(c contacts) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', c.id, 'first_name', nullif(c.first_name, ''), 'last_name', nullif(c.last_name, ''),
    'emails', c.emails, 'phones', c.phones, 'position', c.position,
    'account_id', c.account_id, 'company', c.company, 'address', nullif(c.address, '{}'),
    'preferred_language', c.preferred_language, 'lead_source', c.lead_source,
    'purchase_purpose', c.purchase_purpose, 'buying_priorities', to_jsonb(c.buying_priorities),
    'payment_method', c.payment_method, 'customer_type', c.customer_type, 'consent', c.consent,
    'tags', to_jsonb(c.tags), 'owner', c.owner, 'custom_fields', c.custom_fields,
    'version', c.version, 'created_at', ts(c.created_at), 'updated_at', ts(c.updated_at),
    'deleted_at', ts(c.deleted_at));

CREATE FUNCTION account_document(a accounts) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', a.id, 'name', a.name, 'legal_name', a.legal_name, 'tax_id', a.tax_id,
    'industry', a.industry, 'size_band', a.size_band, 'website', a.website, 'address', nullif(a.address, '{}'),
    'parent_account_id', a.parent_account_id, 'owner', a.owner, 'tags', to_jsonb(a.tags),
    'custom_fields', a.custom_fields, 'version', a.version, 'created_at', ts(a.created_at),
    'updated_at', ts(a.updated_at), 'deleted_at', ts(a.deleted_at));

CREATE FUNCTION interaction_document(i interactions) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', i.id, 'contact_id', i.contact_id, 'channel', i.channel, 'direction', i.direction,
    'occurred_at', ts(i.occurred_at), 'subject', i.subject, 'notes', i.notes, 'outcome', i.outcome,
    'recorded_by', i.recorded_by, 'deal_id', i.deal_id, 'ticket_id', i.ticket_id,
    'order_id', i.order_id, 'campaign_id', i.campaign_id, 'created_at', ts(i.created_at));
