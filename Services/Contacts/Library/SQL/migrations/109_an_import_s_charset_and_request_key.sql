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
