-- Functions it once defined (import_job_document) live in SQL/functions now;
-- databases that applied it before recorded md5 09c7266a220f50d88d3189f9d402be40.
-- The charset the file is read in (UTF-8 unless the upload named another), and the
-- key of the idempotent request that uploaded it: a retry of an upload whose answer
-- was lost gets the job it made rather than a second import of the same file.
ALTER TABLE import_jobs ADD COLUMN charset text NOT NULL DEFAULT 'utf-8', ADD COLUMN request_key text UNIQUE;
