-- Functions it once defined (account_document, contact_document, interaction_document, ts) live in SQL/functions now;
-- databases that applied it before recorded md5 4f39865f927c5389a5c4d35a5e4ea869.
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
