-- Functions it once defined (deal_document, money_text, pipeline_document, ts) live in SQL/functions now;
-- databases that applied it before recorded md5 09990337f5e6071a0d8c8e4851e891d7.
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

INSERT INTO pipelines (id, name, is_default) VALUES ('00000000-0000-7000-8000-000000000001', 'Sales', true);
INSERT INTO stages (id, pipeline_id, name, position, probability) VALUES
    ('00000000-0000-7000-8000-000000000011', '00000000-0000-7000-8000-000000000001', 'Qualification', 1, 10),
    ('00000000-0000-7000-8000-000000000012', '00000000-0000-7000-8000-000000000001', 'Needs analysis', 2, 25),
    ('00000000-0000-7000-8000-000000000013', '00000000-0000-7000-8000-000000000001', 'Proposal', 3, 50),
    ('00000000-0000-7000-8000-000000000014', '00000000-0000-7000-8000-000000000001', 'Negotiation', 4, 75);

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
