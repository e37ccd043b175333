-- The language a member chose with the header's toggle ('ko' or 'en'); NULL until they choose.
ALTER TABLE users ADD COLUMN locale TEXT;
