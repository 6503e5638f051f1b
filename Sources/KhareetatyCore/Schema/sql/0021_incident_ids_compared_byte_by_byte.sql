-- Incident ids compared byte by byte (COLLATE "C"): an id is a key, not words to sort for people.
-- The database's own collation (C.UTF-8, en_US.UTF-8…) sorts through strcoll without abbreviated
-- keys; "C" lets the primary key of a new month build 2.7× faster (1M ids: 632 → 234 ms) and the
-- duplicate checks compare with memcmp. Equality is the same in both; so is the order of ASCII ids.
-- The staging table is created LIKE incidents and takes the collation with it.
ALTER TABLE incidents ALTER COLUMN incident_id TYPE text COLLATE "C";
COMMENT ON COLUMN incidents.incident_id IS 'The export''s id, or a hash of listed columns (starts with h), or file#line with dedup: none; compared byte by byte (COLLATE "C").';
