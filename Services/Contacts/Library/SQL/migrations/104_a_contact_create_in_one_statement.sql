-- Functions it once defined (claim_identities) live in SQL/functions now;
-- databases that applied it before recorded md5 e15302bb987f3656894b5d3be8ab95ed.
-- A create validates custom fields against definitions the service keeps in memory,
-- and its statement inserts only while this generation is the one they were read at.
-- Every change of the definitions bumps it in the same transaction.
CREATE TABLE custom_field_generation (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    generation bigint NOT NULL
);
INSERT INTO custom_field_generation VALUES (true, 1);
