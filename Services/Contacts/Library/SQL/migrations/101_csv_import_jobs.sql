-- Functions it once defined (import_job_document) live in SQL/functions now;
-- databases that applied it before recorded md5 a39acbd3dfd0aceb51f89ce4f3360123.
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
