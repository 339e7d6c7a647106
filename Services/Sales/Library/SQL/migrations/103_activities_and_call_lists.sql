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
