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
