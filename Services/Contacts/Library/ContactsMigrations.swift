import Storage

/// The `contacts` schema. Emails and phones are kept as the client sent them (`emails`, `phones`)
/// and as normalized keys (`email_keys`, `phone_keys`) that dedupe and search use.
enum ContactsMigrations {
    static let all: [Migration] = [
        Migration(
            version: 100,
            name: "contacts, accounts, interactions, custom fields",
            sql: """
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
                """
        ),
        Migration(
            version: 101,
            name: "CSV import jobs",
            sql: """
                -- The uploaded file is kept in chunks, so a job survives a restart and any replica resumes it.
                CREATE TABLE import_jobs (
                    id uuid PRIMARY KEY,
                    status text NOT NULL,
                    filename text,
                    mapping jsonb NOT NULL DEFAULT '{}',
                    on_duplicate text NOT NULL,
                    bytes bigint NOT NULL DEFAULT 0,
                    rows_total bigint,
                    rows_done bigint NOT NULL DEFAULT 0,
                    created bigint NOT NULL DEFAULT 0,
                    updated bigint NOT NULL DEFAULT 0,
                    skipped bigint NOT NULL DEFAULT 0,
                    failed bigint NOT NULL DEFAULT 0,
                    ignored_columns text[] NOT NULL DEFAULT '{}',
                    error text,
                    created_by text,
                    lease_until timestamptz,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    started_at timestamptz,
                    finished_at timestamptz
                );
                CREATE INDEX import_jobs_pending ON import_jobs (created_at) WHERE status IN ('queued', 'running');
                CREATE TABLE import_chunks (
                    job_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
                    seq integer NOT NULL,
                    data bytea NOT NULL,
                    PRIMARY KEY (job_id, seq)
                );
                CREATE TABLE import_errors (
                    job_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
                    row_number bigint NOT NULL,
                    reason text NOT NULL,
                    raw text NOT NULL,
                    PRIMARY KEY (job_id, row_number)
                );
                CREATE FUNCTION import_job_document(j import_jobs) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', j.id, 'status', j.status, 'filename', j.filename, 'mapping', j.mapping, 'on_duplicate', j.on_duplicate,
                    'bytes', j.bytes, 'rows_total', j.rows_total, 'rows_done', j.rows_done, 'created', j.created,
                    'updated', j.updated, 'skipped', j.skipped, 'failed', j.failed, 'ignored_columns', to_jsonb(j.ignored_columns),
                    'error', j.error, 'created_at', ts(j.created_at), 'started_at', ts(j.started_at),
                    'finished_at', ts(j.finished_at), 'errors_url', '/api/v1/imports/' || j.id || '/errors');
                """
        ),
        Migration(
            version: 102,
            name: "identity key indexes without a pending list",
            sql: """
                -- Dedupe probes these on every create and import batch; a GIN pending list would make
                -- each probe scan up to 4 MB of unmerged entries. The keys per row are few, so
                -- updating the index at once costs little.
                ALTER INDEX contacts_email_keys SET (fastupdate = off);
                ALTER INDEX contacts_phone_keys SET (fastupdate = off);
                SELECT gin_clean_pending_list('contacts_email_keys'::regclass);
                SELECT gin_clean_pending_list('contacts_phone_keys'::regclass);
                """
        ),
        Migration(
            version: 103,
            name: "import lease tokens",
            sql: """
                -- Each claim of a job gets a token; a worker writes progress only while its token is
                -- the job's, so a replica whose lease ran out cannot commit beside the one that took over.
                ALTER TABLE import_jobs ADD COLUMN lease_token uuid;
                """
        ),
        Migration(
            version: 104,
            name: "a contact create in one statement",
            sql: """
                -- A create validates custom fields against definitions the service keeps in memory,
                -- and its statement inserts only while this generation is the one they were read at.
                -- Every change of the definitions bumps it in the same transaction.
                CREATE TABLE custom_field_generation (
                    single boolean PRIMARY KEY DEFAULT true CHECK (single),
                    generation bigint NOT NULL
                );
                INSERT INTO custom_field_generation VALUES (true, 1);

                -- Takes the advisory lock of each identity key ('e:' e-mail, 'p:' phone, in one
                -- order, so two writers cannot deadlock), then reads the live contacts holding a key.
                -- A VOLATILE PL/pgSQL function runs that read on a snapshot taken after the locks:
                -- a statement that calls it still sees a create of the same person that committed
                -- while it waited, so the duplicate check and the insert can be one statement.
                CREATE FUNCTION claim_identities(sought_emails text[], sought_phones text[], excluded uuid[])
                RETURNS TABLE (id uuid, name text, email_keys text[], phone_keys text[], created_at timestamptz)
                LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtext('contacts.identity:' || k))
                    FROM (SELECT DISTINCT k COLLATE "C" AS k FROM unnest(
                        ARRAY(SELECT 'e:' || e FROM unnest(sought_emails) AS e) || ARRAY(SELECT 'p:' || p FROM unnest(sought_phones) AS p)
                    ) AS k ORDER BY 1) AS keys;
                    -- Each branch returns its rows itself: joining the found ids back to the table
                    -- made the planner hash the whole table. The caller's own snapshot may not see
                    -- these rows, so they carry all it needs of them.
                    RETURN QUERY
                        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
                            c.created_at FROM unnest(sought_emails) AS k
                            JOIN contacts c ON c.email_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(excluded)
                        UNION
                        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
                            c.created_at FROM unnest(sought_phones) AS k
                            JOIN contacts c ON c.phone_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(excluded);
                END
                $$;
                """
        ),
        Migration(
            version: 105,
            name: "the customer overview's read, planned once per connection",
            sql: """
                -- What the gateway's customer overview needs of contacts: the contact, or the survivor
                -- of a merge it went into, with its account and latest interactions. A statement sent
                -- from the service is planned on every call, and planning it (inlining the document
                -- functions) cost three times running it; PL/pgSQL keeps the plan per connection.
                CREATE FUNCTION customer_summary(asked uuid, latest integer)
                RETURNS TABLE (summary text, survivor uuid)
                LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
                BEGIN
                    RETURN QUERY
                        WITH RECURSIVE chain AS (
                            SELECT c.id, c.merged_into, 0 AS steps FROM contacts c WHERE c.id = asked
                            UNION ALL
                            SELECT c.id, c.merged_into, chain.steps + 1 FROM chain JOIN contacts c ON c.id = chain.merged_into
                            WHERE chain.steps < 7)
                        SELECT jsonb_build_object(
                            'contact', contact_document(c),
                            'account', (SELECT account_document(a) FROM accounts a WHERE a.id = c.account_id AND a.deleted_at IS NULL),
                            'interactions', coalesce((SELECT jsonb_agg(x.document ORDER BY x.occurred_at DESC, x.id DESC)
                                FROM (SELECT interaction_document(i) AS document, i.occurred_at, i.id FROM interactions i
                                    WHERE i.contact_id = c.id ORDER BY i.occurred_at DESC, i.id DESC LIMIT latest) x), '[]'))::text,
                            c.id
                        FROM chain JOIN contacts c ON c.id = chain.id
                        WHERE chain.merged_into IS NULL AND c.deleted_at IS NULL;
                END
                $$;
                """
        ),
        Migration(
            version: 106,
            name: "a contact create planned once per connection; one index scan per identity check",
            sql: """
                -- The live holders come from one bitmap scan of both key indexes. The UNION of two
                -- joins it replaces hashed its result into a table sized by the planner's guess
                -- (thousands of rows for a key or two), and clearing that table took a fifth of the
                -- function's time on every create. The plan is the generic one, made once per
                -- connection: planned for an import batch's thousands of keys, the overlap looks
                -- as if it matched every contact (the keys are unique, so their statistics say
                -- nothing), and the planner chose to read the whole table, testing each row
                -- against every key.
                CREATE OR REPLACE FUNCTION claim_identities(sought_emails text[], sought_phones text[], excluded uuid[])
                RETURNS TABLE (id uuid, name text, email_keys text[], phone_keys text[], created_at timestamptz)
                LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtext('contacts.identity:' || k))
                    FROM (SELECT DISTINCT k COLLATE "C" AS k FROM unnest(
                        ARRAY(SELECT 'e:' || e FROM unnest(sought_emails) AS e) || ARRAY(SELECT 'p:' || p FROM unnest(sought_phones) AS p)
                    ) AS k ORDER BY 1) AS keys;
                    RETURN QUERY
                        SELECT c.id, concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')), c.email_keys, c.phone_keys,
                            c.created_at FROM contacts c
                        WHERE (c.email_keys && sought_emails OR c.phone_keys && sought_phones)
                            AND c.deleted_at IS NULL AND c.id <> ALL(excluded);
                END
                $$;

                -- The API's create (ContactStore.create): the account link (its row locked FOR SHARE,
                -- so a delete of the account waits and then sees the link), the duplicate check under
                -- the identity locks, the insert and its event, in one statement. Sent from the
                -- service it was parsed and planned on every create, which cost more than running
                -- it; PL/pgSQL keeps the plan per connection, a generic one (no table is scanned by
                -- a value the plan could depend on). `candidate` is ContactStore's row JSON (a
                -- one-element array); its columns are ContactRow's.
                CREATE FUNCTION create_contact(candidate json, account uuid, check_duplicates boolean,
                    sought_emails text[], sought_phones text[], generation_read bigint, event_type text, producer text, channel text)
                RETURNS TABLE (outcome text, document text)
                LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
                BEGIN
                    RETURN QUERY
                        WITH linked AS (SELECT a.name FROM accounts a WHERE a.id = account AND a.deleted_at IS NULL FOR SHARE),
                        duplicate AS (
                            SELECT h.* FROM claim_identities(sought_emails, sought_phones, '{}') h
                            WHERE check_duplicates ORDER BY h.created_at, h.id LIMIT 1),
                        verdict AS (SELECT CASE
                            WHEN (SELECT g.generation FROM custom_field_generation g) <> generation_read THEN 'stale'
                            WHEN account IS NOT NULL AND NOT EXISTS (SELECT FROM linked) THEN 'no-account'
                            WHEN EXISTS (SELECT FROM duplicate) THEN 'duplicate'
                            END AS refusal),
                        inserted AS (
                            INSERT INTO contacts AS c (id, emails, phones, position, company, address, region, country, consent, tags,
                                owner, first_name, last_name, email_keys, phone_keys, account_id, preferred_language, lead_source,
                                purchase_purpose, buying_priorities, payment_method, customer_type, custom_fields)
                            SELECT r.id, r.emails, r.phones, r.position, coalesce((SELECT l.name FROM linked l), r.company), r.address,
                                r.region, r.country, r.consent, r.tags, r.owner, r.first_name, r.last_name, r.email_keys, r.phone_keys,
                                r.account_id, r.preferred_language, r.lead_source, r.purchase_purpose, r.buying_priorities,
                                r.payment_method, r.customer_type, r.custom_fields
                            FROM json_populate_recordset(NULL::contacts, candidate) AS r WHERE (SELECT v.refusal FROM verdict v) IS NULL
                            RETURNING c.id AS aggregate_id, c.version AS aggregate_version, contact_document(c) AS data),
                        events AS (
                            INSERT INTO outbox (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
                            SELECT e.event_id, event_type, e.aggregate_id, e.aggregate_version,
                                outbox_envelope(e.event_id, event_type, producer, e.aggregate_id, e.aggregate_version, e.data, clock_timestamp()),
                                '{"x-event-version": 1}'::jsonb, e.event_id, 1
                            FROM (SELECT time_ordered_uuid() AS event_id, s.* FROM inserted AS s) AS e)
                        SELECT 'created', i.data::text FROM inserted i, (SELECT pg_notify(channel, '')) AS notified
                        UNION ALL
                        SELECT v.refusal, jsonb_build_object('id', d.id, 'name', d.name,
                            'matched', to_jsonb(ARRAY(SELECT unnest(d.email_keys) INTERSECT SELECT unnest(sought_emails))
                                || ARRAY(SELECT unnest(d.phone_keys) INTERSECT SELECT unnest(sought_phones))))::text
                        FROM verdict v LEFT JOIN duplicate d ON true WHERE v.refusal IS NOT NULL;
                END
                $$;
                """
        ),
        Migration(
            version: 107,
            name: "the id order with the search text, for the search's walk",
            sql: """
                -- A search first walks a stretch of the id order and filters it on `search`
                -- (ContactStore.list). With the text in the index that walk reads index pages
                -- only, instead of one heap page per contact: at a million contacts, 5,000 rows in
                -- 3 ms rather than 24.
                CREATE INDEX contacts_id_search ON contacts (id) INCLUDE (search) WHERE deleted_at IS NULL;
                """
        ),
        Migration(
            version: 108,
            name: "timestamps in documents written where the document is built",
            sql: """
                -- ts() was declared IMMUTABLE around to_char, which is STABLE, so PostgreSQL would not
                -- inline it: every document ran its body three times as a function of its own, with an
                -- executor started each time. STABLE lets the planner write the expression into the
                -- query. At 200,000 contacts, building their documents took 2.2 s instead of 3.0.
                CREATE OR REPLACE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
                RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
                """
        ),
        Migration(
            version: 109,
            name: "an import's charset and request key",
            sql: """
                -- The charset the file is read in (UTF-8 unless the upload named another), and the
                -- key of the idempotent request that uploaded it: a retry of an upload whose answer
                -- was lost gets the job it made rather than a second import of the same file.
                ALTER TABLE import_jobs ADD COLUMN charset text NOT NULL DEFAULT 'utf-8', ADD COLUMN request_key text UNIQUE;
                CREATE OR REPLACE FUNCTION import_job_document(j import_jobs) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', j.id, 'status', j.status, 'filename', j.filename, 'charset', j.charset, 'mapping', j.mapping,
                    'on_duplicate', j.on_duplicate, 'bytes', j.bytes, 'rows_total', j.rows_total, 'rows_done', j.rows_done,
                    'created', j.created, 'updated', j.updated, 'skipped', j.skipped, 'failed', j.failed,
                    'ignored_columns', to_jsonb(j.ignored_columns), 'error', j.error, 'created_at', ts(j.created_at),
                    'started_at', ts(j.started_at), 'finished_at', ts(j.finished_at),
                    'errors_url', '/api/v1/imports/' || j.id || '/errors');
                """
        ),
    ]
}
