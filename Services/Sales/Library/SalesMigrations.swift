import Storage

/// The `sales` schema: pipelines and their stages, the lost-reason catalog, deals with their stage
/// history, and the replica of the contacts the deals name (fed by `contacts.*` events; sales never
/// asks the contacts service at query time).
enum SalesMigrations {
    /// The pipeline every installation starts with; a fixed id, so every replica of the service
    /// and every test knows it.
    static let defaultPipelineId = "00000000-0000-7000-8000-000000000001"

    static let all: [Migration] = [
        Migration(
            version: 100,
            name: "pipelines, stages, lost reasons, deals, contact replica",
            sql: """
                CREATE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

                -- An amount as the API writes money: a decimal string with at least two decimals.
                CREATE FUNCTION money_text(a numeric) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN CASE WHEN scale(trim_scale(a)) <= 2 THEN round(a, 2)::text ELSE trim_scale(a)::text END;

                CREATE TABLE pipelines (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    is_default boolean NOT NULL DEFAULT false,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE UNIQUE INDEX pipelines_name ON pipelines (lower(name));
                CREATE UNIQUE INDEX pipelines_one_default ON pipelines (is_default) WHERE is_default;

                -- A retired stage keeps its row: deals that passed through it keep their history,
                -- and a deal still in it stays there until moved. Only active stages are ordered.
                CREATE TABLE stages (
                    id uuid PRIMARY KEY,
                    pipeline_id uuid NOT NULL REFERENCES pipelines (id),
                    name text NOT NULL,
                    position integer NOT NULL,
                    probability integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
                    retired_at timestamptz,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE UNIQUE INDEX stages_active_name ON stages (pipeline_id, lower(name)) WHERE retired_at IS NULL;
                CREATE INDEX stages_pipeline ON stages (pipeline_id, position);

                CREATE TABLE lost_reasons (
                    code text PRIMARY KEY,
                    label text NOT NULL,
                    position integer NOT NULL,
                    retired_at timestamptz
                );
                INSERT INTO lost_reasons (code, label, position) VALUES
                    ('price', 'Price', 1), ('competitor', 'Competitor', 2), ('timing', 'Timing', 3),
                    ('no_budget', 'No budget', 4), ('no_decision', 'No decision', 5), ('other', 'Other', 6);

                INSERT INTO pipelines (id, name, is_default) VALUES ('\(defaultPipelineId)', 'Sales', true);
                INSERT INTO stages (id, pipeline_id, name, position, probability) VALUES
                    ('00000000-0000-7000-8000-000000000011', '\(defaultPipelineId)', 'Qualification', 1, 10),
                    ('00000000-0000-7000-8000-000000000012', '\(defaultPipelineId)', 'Needs analysis', 2, 25),
                    ('00000000-0000-7000-8000-000000000013', '\(defaultPipelineId)', 'Proposal', 3, 50),
                    ('00000000-0000-7000-8000-000000000014', '\(defaultPipelineId)', 'Negotiation', 4, 75);

                -- What sales knows of each contact, from the contacts service's events.
                -- `aggregate_version` is the version last applied: an older event changes nothing.
                CREATE TABLE contacts (
                    id uuid PRIMARY KEY,
                    name text NOT NULL DEFAULT '',
                    account_id uuid,
                    company text,
                    region text,
                    country text,
                    customer_type text,
                    lead_source text,
                    merged_into uuid,
                    deleted boolean NOT NULL DEFAULT false,
                    aggregate_version bigint NOT NULL
                );

                CREATE TABLE deals (
                    id uuid PRIMARY KEY,
                    title text NOT NULL,
                    contact_id uuid,
                    account_id uuid,
                    pipeline_id uuid NOT NULL REFERENCES pipelines (id),
                    stage_id uuid NOT NULL REFERENCES stages (id),
                    amount numeric NOT NULL CHECK (amount >= 0),
                    currency text NOT NULL,
                    -- NULL: the stage's default probability.
                    probability integer CHECK (probability BETWEEN 0 AND 100),
                    expected_close_date date,
                    owner text,
                    source_campaign_id uuid,
                    lead_id uuid,
                    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
                    lost_reason text REFERENCES lost_reasons (code),
                    close_comment text,
                    closed_at timestamptz,
                    stage_entered_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    tags text[] NOT NULL DEFAULT '{}',
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    deleted_at timestamptz
                );
                CREATE INDEX deals_created ON deals (created_at, id) WHERE deleted_at IS NULL;
                CREATE INDEX deals_contact ON deals (contact_id) WHERE deleted_at IS NULL;
                CREATE INDEX deals_account ON deals (account_id) WHERE deleted_at IS NULL;
                CREATE INDEX deals_stage ON deals (stage_id) WHERE deleted_at IS NULL;
                CREATE INDEX deals_owner ON deals (owner, created_at, id) WHERE deleted_at IS NULL;

                -- One row per stay of a deal in a stage; the open stay has no exit.
                CREATE TABLE deal_stage_history (
                    id bigserial PRIMARY KEY,
                    deal_id uuid NOT NULL REFERENCES deals (id),
                    stage_id uuid NOT NULL REFERENCES stages (id),
                    entered_at timestamptz NOT NULL,
                    exited_at timestamptz
                );
                CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, entered_at, id);
                CREATE UNIQUE INDEX deal_stage_history_open ON deal_stage_history (deal_id) WHERE exited_at IS NULL;

                CREATE FUNCTION pipeline_document(p pipelines) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', p.id, 'name', p.name, 'is_default', p.is_default,
                    'stages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'id', s.id, 'name', s.name, 'position', s.position, 'probability', s.probability)
                            ORDER BY s.position), '[]')
                        FROM stages s WHERE s.pipeline_id = p.id AND s.retired_at IS NULL),
                    'retired_stages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'id', s.id, 'name', s.name, 'probability', s.probability, 'retired_at', ts(s.retired_at))
                            ORDER BY s.retired_at, s.id), '[]')
                        FROM stages s WHERE s.pipeline_id = p.id AND s.retired_at IS NOT NULL),
                    'version', p.version, 'created_at', ts(p.created_at), 'updated_at', ts(p.updated_at));

                CREATE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN (SELECT jsonb_build_object(
                    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
                    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', s.name,
                    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
                    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, s.probability) END,
                    'probability_is_stage_default', d.probability IS NULL,
                    'expected_close_date', d.expected_close_date, 'owner', d.owner,
                    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
                    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
                    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
                    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
                    'deleted_at', ts(d.deleted_at))
                    FROM stages s WHERE s.id = d.stage_id);
                """
        ),
        Migration(
            version: 101,
            name: "leads",
            sql: """
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
                """
        ),
        Migration(
            version: 102,
            name: "products, price lists, deal lines, quotes",
            sql: """
                CREATE TABLE products (
                    id uuid PRIMARY KEY,
                    code text NOT NULL,
                    name text NOT NULL,
                    unit text NOT NULL DEFAULT 'pc',
                    base_price numeric NOT NULL CHECK (base_price >= 0),
                    currency text NOT NULL,
                    tax_rate numeric NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 100),
                    active boolean NOT NULL DEFAULT true,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE UNIQUE INDEX products_code ON products (lower(code));

                CREATE TABLE price_lists (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    currency text NOT NULL,
                    customer_group text,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE UNIQUE INDEX price_lists_name ON price_lists (lower(name));
                CREATE TABLE price_list_prices (
                    price_list_id uuid NOT NULL REFERENCES price_lists (id),
                    product_id uuid NOT NULL REFERENCES products (id),
                    unit_price numeric NOT NULL CHECK (unit_price >= 0),
                    PRIMARY KEY (price_list_id, product_id)
                );

                -- A deal with lines takes its amount from them, in its price list's currency.
                ALTER TABLE deals ADD COLUMN price_list_id uuid REFERENCES price_lists (id);
                CREATE TABLE deal_lines (
                    deal_id uuid NOT NULL REFERENCES deals (id),
                    position integer NOT NULL,
                    product_id uuid NOT NULL REFERENCES products (id),
                    quantity numeric NOT NULL CHECK (quantity > 0),
                    unit_price numeric NOT NULL CHECK (unit_price >= 0),
                    -- Set when the line's price was given rather than taken from the price list.
                    price_overridden boolean NOT NULL DEFAULT false,
                    discount_percent numeric NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
                    PRIMARY KEY (deal_id, position)
                );
                CREATE INDEX deal_lines_product ON deal_lines (product_id);

                -- A quote keeps its lines and sums as they were when it was made: the deal may change after.
                CREATE TABLE quote_numbers (year integer PRIMARY KEY, last integer NOT NULL);
                CREATE TABLE quotes (
                    id uuid PRIMARY KEY,
                    number text NOT NULL UNIQUE,
                    deal_id uuid NOT NULL REFERENCES deals (id),
                    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
                    currency text NOT NULL,
                    customer jsonb NOT NULL,
                    lines jsonb NOT NULL,
                    subtotal numeric NOT NULL,
                    discount numeric NOT NULL,
                    tax numeric NOT NULL,
                    total numeric NOT NULL,
                    taxes jsonb NOT NULL,
                    valid_until date NOT NULL,
                    notes text,
                    sent_at timestamptz,
                    decided_at timestamptz,
                    reject_reason text,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE INDEX quotes_deal ON quotes (deal_id, created_at, id);
                CREATE INDEX quotes_created ON quotes (created_at, id);
                CREATE INDEX quotes_sent ON quotes (valid_until) WHERE status = 'sent';

                CREATE FUNCTION quote_document(q quotes) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', q.id, 'number', q.number, 'deal_id', q.deal_id, 'status', q.status, 'customer', q.customer,
                    'lines', q.lines,
                    'subtotal', jsonb_build_object('amount', money_text(q.subtotal), 'currency', q.currency),
                    'discount', jsonb_build_object('amount', money_text(q.discount), 'currency', q.currency),
                    'tax', jsonb_build_object('amount', money_text(q.tax), 'currency', q.currency),
                    'total', jsonb_build_object('amount', money_text(q.total), 'currency', q.currency),
                    'taxes', q.taxes, 'valid_until', q.valid_until, 'notes', q.notes,
                    'sent_at', ts(q.sent_at), 'decided_at', ts(q.decided_at), 'reject_reason', q.reject_reason,
                    'version', q.version, 'created_at', ts(q.created_at), 'updated_at', ts(q.updated_at));

                CREATE FUNCTION line_total(quantity numeric, unit_price numeric, discount_percent numeric) RETURNS numeric
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN round(quantity * unit_price * (1 - discount_percent / 100), 2);

                CREATE FUNCTION product_document(p products) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', p.id, 'code', p.code, 'name', p.name, 'unit', p.unit,
                    'base_price', jsonb_build_object('amount', money_text(p.base_price), 'currency', p.currency),
                    'tax_rate', trim_scale(p.tax_rate), 'active', p.active,
                    'version', p.version, 'created_at', ts(p.created_at), 'updated_at', ts(p.updated_at));

                CREATE FUNCTION price_list_document(l price_lists) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', l.id, 'name', l.name, 'currency', l.currency, 'customer_group', l.customer_group,
                    'prices', (SELECT coalesce(jsonb_agg(jsonb_build_object('product_id', p.id, 'product_code', p.code,
                            'unit_price', jsonb_build_object('amount', money_text(x.unit_price), 'currency', l.currency))
                            ORDER BY lower(p.code)), '[]')
                        FROM price_list_prices x JOIN products p ON p.id = x.product_id WHERE x.price_list_id = l.id),
                    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at));

                CREATE OR REPLACE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN (SELECT jsonb_build_object(
                    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
                    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', s.name,
                    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
                    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, s.probability) END,
                    'probability_is_stage_default', d.probability IS NULL,
                    'expected_close_date', d.expected_close_date, 'owner', d.owner,
                    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
                    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
                    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
                    'price_list_id', d.price_list_id,
                    'lines', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'product_id', p.id, 'product_code', p.code, 'product_name', p.name, 'unit', p.unit,
                            'quantity', trim_scale(l.quantity),
                            'unit_price', jsonb_build_object('amount', money_text(l.unit_price), 'currency', d.currency),
                            'price_overridden', l.price_overridden, 'discount_percent', trim_scale(l.discount_percent),
                            'total', jsonb_build_object('amount', money_text(line_total(l.quantity, l.unit_price, l.discount_percent)),
                                'currency', d.currency))
                            ORDER BY l.position), '[]')
                        FROM deal_lines l JOIN products p ON p.id = l.product_id WHERE l.deal_id = d.id),
                    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
                    'deleted_at', ts(d.deleted_at))
                    FROM stages s WHERE s.id = d.stage_id);
                """
        ),
        Migration(
            version: 103,
            name: "activities and call lists",
            sql: """
                CREATE TABLE activities (
                    id uuid PRIMARY KEY,
                    kind text NOT NULL CHECK (kind IN ('call', 'meeting', 'task')),
                    subject text NOT NULL,
                    notes text,
                    due_at timestamptz NOT NULL,
                    duration_minutes integer CHECK (duration_minutes > 0),
                    owner text,
                    contact_id uuid,
                    deal_id uuid REFERENCES deals (id),
                    lead_id uuid REFERENCES leads (id),
                    call_list_id uuid,
                    done boolean NOT NULL DEFAULT false,
                    done_at timestamptz,
                    outcome text,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    deleted_at timestamptz
                );
                CREATE INDEX activities_owner_due ON activities (owner, due_at, id) WHERE deleted_at IS NULL;
                CREATE INDEX activities_open_due ON activities (due_at, id) WHERE deleted_at IS NULL AND NOT done;
                CREATE INDEX activities_contact ON activities (contact_id, due_at, id) WHERE deleted_at IS NULL;
                CREATE INDEX activities_deal ON activities (deal_id, due_at, id) WHERE deleted_at IS NULL;

                CREATE FUNCTION activity_document(a activities) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', a.id, 'kind', a.kind, 'subject', a.subject, 'notes', a.notes, 'due_at', ts(a.due_at),
                    'duration_minutes', a.duration_minutes, 'owner', a.owner, 'contact_id', a.contact_id, 'deal_id', a.deal_id,
                    'lead_id', a.lead_id, 'call_list_id', a.call_list_id, 'done', a.done, 'done_at', ts(a.done_at),
                    'outcome', a.outcome, 'overdue', NOT a.done AND a.due_at < now(),
                    'version', a.version, 'created_at', ts(a.created_at), 'updated_at', ts(a.updated_at),
                    'deleted_at', ts(a.deleted_at));

                -- A telemarketing list: contacts to call with a script; each call's outcome is kept
                -- on its entry, and the call itself is a done activity.
                CREATE TABLE call_lists (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    script text,
                    owner text,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
                    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
                );
                CREATE TABLE call_list_entries (
                    call_list_id uuid NOT NULL REFERENCES call_lists (id),
                    contact_id uuid NOT NULL,
                    position integer NOT NULL,
                    outcome text,
                    notes text,
                    called_at timestamptz,
                    called_by text,
                    calls integer NOT NULL DEFAULT 0,
                    PRIMARY KEY (call_list_id, contact_id)
                );
                CREATE INDEX call_list_entries_order ON call_list_entries (call_list_id, position);

                CREATE FUNCTION call_list_document(l call_lists) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', l.id, 'name', l.name, 'script', l.script, 'owner', l.owner,
                    'progress', (SELECT jsonb_build_object('contacts', count(*), 'called', count(called_at),
                            'to_call', count(*) - count(called_at))
                        FROM call_list_entries WHERE call_list_id = l.id)
                        || jsonb_build_object('outcomes', (SELECT coalesce(jsonb_object_agg(o.outcome, o.n), '{}')
                            FROM (SELECT outcome, count(*) AS n FROM call_list_entries WHERE call_list_id = l.id AND outcome IS NOT NULL
                                GROUP BY outcome) o)),
                    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at));
                """
        ),
        Migration(
            version: 104,
            name: "report counts kept by trigger",
            sql: """
                -- The stages each deal has been in (sorted, distinct), kept by the service as it
                -- moves deals; the funnel counts deals by it.
                ALTER TABLE deals ADD COLUMN visited uuid[] NOT NULL DEFAULT '{}';
                UPDATE deals d SET visited = coalesce(
                    (SELECT array_agg(DISTINCT h.stage_id ORDER BY h.stage_id) FROM deal_stage_history h WHERE h.deal_id = d.id), '{}');

                -- Live deals counted by what the funnel and the forecast group them by, so a report
                -- at a million deals adds up thousands of rows, not a million. A trigger keeps them
                -- in the transaction of every change of a deal.
                CREATE TABLE funnel_counts (
                    pipeline_id uuid NOT NULL,
                    created_on date NOT NULL,
                    visited uuid[] NOT NULL,
                    status text NOT NULL,
                    stage_id uuid NOT NULL,
                    currency text NOT NULL,
                    deals bigint NOT NULL,
                    amount numeric NOT NULL,
                    PRIMARY KEY (pipeline_id, created_on, visited, status, stage_id, currency)
                );
                CREATE TABLE forecast_counts (
                    pipeline_id uuid NOT NULL,
                    expected_on date,
                    owner text,
                    currency text NOT NULL,
                    stage_id uuid NOT NULL,
                    probability integer,
                    deals bigint NOT NULL,
                    amount numeric NOT NULL,
                    CONSTRAINT forecast_counts_key UNIQUE NULLS NOT DISTINCT (pipeline_id, expected_on, owner, currency, stage_id, probability)
                );
                CREATE INDEX forecast_counts_expected ON forecast_counts (pipeline_id, expected_on);

                CREATE FUNCTION count_deal(d deals, sign integer) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
                BEGIN
                    INSERT INTO funnel_counts AS f (pipeline_id, created_on, visited, status, stage_id, currency, deals, amount)
                    VALUES (d.pipeline_id, (d.created_at AT TIME ZONE 'UTC')::date, d.visited, d.status, d.stage_id, d.currency, sign, sign * d.amount)
                    ON CONFLICT (pipeline_id, created_on, visited, status, stage_id, currency)
                    DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount;
                    IF d.status = 'open' THEN
                        INSERT INTO forecast_counts AS f (pipeline_id, expected_on, owner, currency, stage_id, probability, deals, amount)
                        VALUES (d.pipeline_id, d.expected_close_date, d.owner, d.currency, d.stage_id, d.probability, sign, sign * d.amount)
                        ON CONFLICT ON CONSTRAINT forecast_counts_key
                        DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount;
                    END IF;
                END
                $$;

                CREATE FUNCTION deal_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL
                        AND (OLD.pipeline_id, OLD.created_at, OLD.visited, OLD.status, OLD.stage_id, OLD.currency, OLD.amount,
                             OLD.expected_close_date, OLD.owner, OLD.probability)
                        IS NOT DISTINCT FROM (NEW.pipeline_id, NEW.created_at, NEW.visited, NEW.status, NEW.stage_id, NEW.currency,
                             NEW.amount, NEW.expected_close_date, NEW.owner, NEW.probability) THEN
                        RETURN NULL;
                    END IF;
                    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN PERFORM count_deal(OLD, -1); END IF;
                    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN PERFORM count_deal(NEW, 1); END IF;
                    RETURN NULL;
                END
                $$;

                SELECT count(count_deal(d, 1)) FROM deals d WHERE d.deleted_at IS NULL;
                CREATE TRIGGER deals_counted AFTER INSERT OR UPDATE OR DELETE ON deals FOR EACH ROW EXECUTE FUNCTION deal_counts();
                """
        ),
        Migration(
            version: 105,
            name: "documents and the customer overview's read, planned once per connection",
            sql: """
                -- A deal's document, in parts the planner does not have to set up per query: deal_json
                -- is one expression of the row, its stage and its lines, so a query inlines it instead
                -- of planning and starting deal_document's body; deal_lines_json is PL/pgSQL, a call
                -- per deal on a plan each connection makes once. deal_document keeps its signature for
                -- the statements that name it.
                CREATE FUNCTION deal_lines_json(d deals) RETURNS jsonb
                LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
                BEGIN
                    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'product_id', p.id, 'product_code', p.code, 'product_name', p.name, 'unit', p.unit,
                                'quantity', trim_scale(l.quantity),
                                'unit_price', jsonb_build_object('amount', money_text(l.unit_price), 'currency', d.currency),
                                'price_overridden', l.price_overridden, 'discount_percent', trim_scale(l.discount_percent),
                                'total', jsonb_build_object('amount', money_text(line_total(l.quantity, l.unit_price, l.discount_percent)),
                                    'currency', d.currency))
                                ORDER BY l.position), '[]')
                            FROM deal_lines l JOIN products p ON p.id = l.product_id WHERE l.deal_id = d.id);
                END
                $$;

                CREATE FUNCTION deal_json(d deals, stage_name text, stage_probability integer, lines jsonb) RETURNS jsonb
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN jsonb_build_object(
                    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
                    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', stage_name,
                    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
                    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, stage_probability) END,
                    'probability_is_stage_default', d.probability IS NULL,
                    'expected_close_date', d.expected_close_date, 'owner', d.owner,
                    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
                    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
                    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
                    'price_list_id', d.price_list_id,
                    'lines', lines,
                    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
                    'deleted_at', ts(d.deleted_at));

                CREATE OR REPLACE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
                RETURN (SELECT deal_json(d, s.name, s.probability, deal_lines_json(d)) FROM stages s WHERE s.id = d.stage_id);

                -- What the gateway's customer overview needs of sales for one contact, in the overview's
                -- shape: its oldest 200 deals split into open and closed (with `truncated` when there are
                -- more), the open and won amounts per currency over all its deals, and its open
                -- activities by due time. PL/pgSQL keeps the plan per connection: planning the statement
                -- cost more than running it.
                CREATE FUNCTION customer_sales(contact uuid) RETURNS text
                LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
                BEGIN
                    RETURN (
                        WITH d AS (
                            SELECT deal_json(d, st.name, st.probability, deal_lines_json(d)) AS document, d.status, d.created_at, d.id
                            FROM deals d JOIN stages st ON st.id = d.stage_id
                            WHERE d.contact_id = contact AND d.deleted_at IS NULL ORDER BY d.created_at, d.id LIMIT 201),
                        shown AS (SELECT * FROM d ORDER BY d.created_at, d.id LIMIT 200),
                        sums AS (
                            SELECT t.status, jsonb_agg(jsonb_build_object('amount', money_text(t.total), 'currency', t.currency)
                                ORDER BY t.currency) AS amounts
                            FROM (SELECT x.status, x.currency, sum(x.amount) AS total FROM deals x
                                WHERE x.contact_id = contact AND x.deleted_at IS NULL AND x.status IN ('open', 'won')
                                GROUP BY x.status, x.currency) t
                            GROUP BY t.status)
                        SELECT jsonb_build_object(
                            'deals', jsonb_build_object(
                                'open', coalesce((SELECT jsonb_agg(s.document ORDER BY s.created_at, s.id) FROM shown s WHERE s.status = 'open'), '[]'),
                                'closed', coalesce((SELECT jsonb_agg(s.document ORDER BY s.created_at, s.id) FROM shown s WHERE s.status <> 'open'), '[]'),
                                'open_amounts', coalesce((SELECT amounts FROM sums WHERE status = 'open'), '[]'),
                                'won_amounts', coalesce((SELECT amounts FROM sums WHERE status = 'won'), '[]'))
                                || CASE WHEN (SELECT count(*) FROM d) > 200 THEN '{"truncated": true}'::jsonb ELSE '{}' END,
                            'activities', jsonb_build_object('open', coalesce((SELECT jsonb_agg(x.document ORDER BY x.due_at, x.id)
                                FROM (SELECT activity_document(a) AS document, a.due_at, a.id FROM activities a
                                    WHERE a.contact_id = contact AND a.deleted_at IS NULL AND NOT a.done ORDER BY a.due_at, a.id
                                    LIMIT 50) x), '[]')))::text);
                END
                $$;
                """
        ),
        Migration(
            version: 106,
            name: "timestamps in documents written where the document is built",
            sql: """
                -- As in contacts (its migration 108): declared IMMUTABLE around the STABLE to_char, ts()
                -- was never inlined, and each timestamp of a document started an executor of its own.
                CREATE OR REPLACE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
                RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
                """
        ),
    ]
}
