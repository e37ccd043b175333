-- Not reversible without losing card-paid trades: restore from a backup instead.
SELECT 1;
