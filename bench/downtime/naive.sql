ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();
CREATE INDEX accounts_email_idx ON accounts (email);
UPDATE accounts SET name = 'unknown' WHERE name IS NULL;
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
