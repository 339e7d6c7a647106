-- Functions it once defined (activity_document, call_list_document) live in SQL/functions now;
-- databases that applied it before recorded md5 7a9e24c9055aed99b150420e942a74ec.
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
