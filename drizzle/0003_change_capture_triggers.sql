-- Migration 0003 once created the change-capture functions and triggers on the demo tables. They
-- are generated from the source profile now (src/install/capture-triggers-sql.ts) and installed by
-- every `migrate` after the migrations, on whichever tables the profile names; this file keeps only
-- what is statcache's own.
-- Refreshes serialize per experiment on transaction-level advisory locks, taken in ascending order
-- so two refreshes never deadlock. Experiments share 1024 lock slots (id % 1024) to bound the locks
-- one big batch holds.
CREATE OR REPLACE FUNCTION statcache_lock_experiments(experiment_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  slot int;
BEGIN
  FOR slot IN SELECT DISTINCT (id % 1024)::int FROM unnest(experiment_ids) AS id WHERE id IS NOT NULL ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(1937006964, slot);
  END LOOP;
END $$;
