-- The back-office systems that may publish orders (`switchboard erp add-source`). A removed
-- source stays, so its orders keep their origin; its messages are refused from then on.
CREATE TABLE sources (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
);

-- Every inbound message by its source and the source's message id: the intake's inbox, with the
-- answer it got, so a resent message is answered `duplicate` and a redelivered one not at all.
CREATE TABLE inbound_messages (
    source text NOT NULL,
    message_id text NOT NULL,
    kind text NOT NULL,
    result text NOT NULL CHECK (result IN ('accepted', 'duplicate', 'stale', 'rejected')),
    order_id uuid,
    errors jsonb,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, message_id)
);
CREATE INDEX inbound_messages_received_at ON inbound_messages (received_at);

-- A source's customer number and the CRM customer it is: a contact (a private customer) or an
-- account, never both. `matched_by` says how it was found; a created one waits for the contacts
-- service to make it (`pending`) but its id is known from the start.
CREATE TABLE customer_links (
    source text NOT NULL,
    erp_id text NOT NULL,
    contact_id uuid,
    account_id uuid,
    matched_by text NOT NULL CHECK (matched_by IN ('crm_id', 'tax_id', 'email', 'phone', 'created', 'customer_ack')),
    pending boolean NOT NULL DEFAULT false,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, erp_id),
    CHECK ((contact_id IS NULL) <> (account_id IS NULL))
);
CREATE INDEX customer_links_contact ON customer_links (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX customer_links_account ON customer_links (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    source text NOT NULL,
    order_number text NOT NULL,
    version bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('placed', 'confirmed', 'shipped', 'delivered', 'invoiced', 'paid', 'cancelled', 'returned')),
    status_at timestamptz NOT NULL,
    ordered_at timestamptz NOT NULL,
    erp_customer_id text NOT NULL,
    contact_id uuid,
    account_id uuid,
    matched_by text NOT NULL,
    customer jsonb NOT NULL,
    currency text NOT NULL,
    net numeric(18, 6),
    tax numeric(18, 6),
    gross numeric(18, 6) NOT NULL,
    payment jsonb,
    delivery_address jsonb,
    crm_deal_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, order_number)
);
CREATE INDEX orders_contact ON orders (contact_id, ordered_at DESC, id) WHERE contact_id IS NOT NULL;
CREATE INDEX orders_account ON orders (account_id, ordered_at DESC, id) WHERE account_id IS NOT NULL;
CREATE INDEX orders_ordered_at ON orders (ordered_at DESC, id);
CREATE INDEX orders_source_day ON orders (source, ((ordered_at AT TIME ZONE 'UTC')::date));
CREATE INDEX orders_deal ON orders (crm_deal_id) WHERE crm_deal_id IS NOT NULL;

CREATE TABLE order_lines (
    order_id uuid NOT NULL REFERENCES orders ON DELETE CASCADE,
    line_no integer NOT NULL,
    sku text,
    description text,
    quantity numeric(18, 6) NOT NULL,
    unit_price numeric(18, 6),
    discount_percent numeric(9, 4),
    tax_amount numeric(18, 6),
    line_total numeric(18, 6) NOT NULL,
    delivered_quantity numeric(18, 6),
    serial_numbers text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (order_id, line_no)
);

-- Each version's status as its message told it, whatever order the messages came in: a stale
-- message changes nothing of the order, but its status belongs in the history.
CREATE TABLE order_status_history (
    order_id uuid NOT NULL REFERENCES orders ON DELETE CASCADE,
    version bigint NOT NULL,
    status text NOT NULL,
    status_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, version)
);

-- The contacts service's contacts and accounts, from its events: the documents as they are sent
-- to ERPs, and the keys customers are matched by (normalized as contacts normalizes them).
CREATE TABLE crm_contacts (
    id uuid PRIMARY KEY,
    version bigint NOT NULL,
    account_id uuid,
    email_keys text[] NOT NULL DEFAULT '{}',
    phone_keys text[] NOT NULL DEFAULT '{}',
    document jsonb NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    merged_into uuid
);
CREATE INDEX crm_contacts_emails ON crm_contacts USING gin (email_keys) WHERE NOT deleted;
CREATE INDEX crm_contacts_phones ON crm_contacts USING gin (phone_keys) WHERE NOT deleted;
CREATE INDEX crm_contacts_account ON crm_contacts (account_id) WHERE account_id IS NOT NULL AND NOT deleted;

CREATE TABLE crm_accounts (
    id uuid PRIMARY KEY,
    version bigint NOT NULL,
    tax_key text,
    document jsonb NOT NULL,
    deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX crm_accounts_tax ON crm_accounts (tax_key) WHERE tax_key IS NOT NULL AND NOT deleted;

-- Each control message's comparison: what the source and the CRM hold for that day, and every
-- difference. The last one for a day is what `switchboard erp reconcile` prints.
CREATE TABLE reconciliations (
    id uuid PRIMARY KEY,
    source text NOT NULL,
    day date NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    erp_orders integer NOT NULL,
    crm_orders integer NOT NULL,
    erp_digest text NOT NULL,
    crm_digest text NOT NULL,
    differences jsonb NOT NULL
);
CREATE INDEX reconciliations_source_day ON reconciliations (source, day, received_at DESC);
