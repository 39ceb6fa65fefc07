-- runs first: the extension and the err() helper every other test uses
CREATE EXTENSION pgvision;
-- err(q) runs q and shows the SQLSTATE and message of the error it raises
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
