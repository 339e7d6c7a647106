-- Each claim of a job gets a token; a worker writes progress only while its token is
-- the job's, so a replica whose lease ran out cannot commit beside the one that took over.
ALTER TABLE import_jobs ADD COLUMN lease_token uuid;
