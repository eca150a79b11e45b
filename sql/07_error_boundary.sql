-- The C++/Postgres error boundary: an exception thrown by C++ code and an
-- error raised by Postgres inside one of our functions both end as a normal
-- ERROR, and the same session goes on working (no crash, no lost state).
CREATE TABLE keep (v vector(2));
INSERT INTO keep VALUES ('[1,2]');
-- C++ exception path: the core's parser throws nmvec::Error
SELECT '[1,,2]'::vector;
-- ...in a loop, inside a transaction that then commits
BEGIN;
DO $$
DECLARE caught int := 0;
BEGIN
  FOR i IN 1..1000 LOOP
    BEGIN
      PERFORM ('[1,' || i || ',x]')::vector;
    EXCEPTION WHEN invalid_text_representation THEN caught := caught + 1;
    END;
  END LOOP;
  RAISE NOTICE 'caught % C++ exceptions', caught;
END $$;
INSERT INTO keep VALUES ('[3,4]');
COMMIT;
-- Postgres error path: ArrayGetIntegerTypmods (Postgres's own code, called from ours) raises
SELECT '[1,2]'::vector('abc');
-- an ereport from our own glue, between two C++ kernel calls
SELECT ARRAY[1,2]::vector(2) + ARRAY[1,2,3]::vector(3);
-- the session still works and saw every committed row
SELECT * FROM keep ORDER BY v;
SELECT '[1,2]'::vector <-> '[4,6]'::vector;
DROP TABLE keep;
