-- COPY in text and binary formats, and what bad rows do. Files are written
-- and read by the server, in its data directory.
SELECT current_setting('data_directory') || '/nmvec_regress_text.copy' AS ftext,
       current_setting('data_directory') || '/nmvec_regress_bin.copy' AS fbin,
       current_setting('data_directory') || '/nmvec_regress_bad.copy' AS fbad \gset
CREATE TABLE src (id int, v vector(3), h halfvec(3));
INSERT INTO src VALUES (1, '[1,2,3]', '[1,2,3]'), (2, '[-0.5,1e-07,3.4028235e38]', '[0.5,-2,65504]'), (3, NULL, NULL);
COPY src TO :'ftext';
COPY src TO :'fbin' (FORMAT binary);
CREATE TABLE dst_text (LIKE src);
CREATE TABLE dst_bin (LIKE src);
COPY dst_text FROM :'ftext';
COPY dst_bin FROM :'fbin' (FORMAT binary);
SELECT * FROM dst_bin ORDER BY id;
SELECT count(*) AS differ FROM src s JOIN dst_text t USING (id)
  WHERE s.v IS DISTINCT FROM t.v OR s.h IS DISTINCT FROM t.h;
SELECT count(*) AS differ FROM src s JOIN dst_bin b USING (id)
  WHERE s.v IS DISTINCT FROM b.v OR s.h IS DISTINCT FROM b.h;
-- the binary wire form is pgvector's: int16 dims, int16 zero, big-endian elements
SELECT vector_send('[1,2]'::vector), halfvec_send('[1,2]'::halfvec);

-- A COPY with one bad row fails with its line number; committed rows stay.
CREATE TABLE events (id int, v vector(3));
INSERT INTO events VALUES (0, '[0,0,0]');
COPY (VALUES (1, '[1,2,3]'), (2, '[1,,2]'), (3, '[4,5,6]')) TO :'fbad';
COPY events FROM :'fbad';
COPY (VALUES (1, '[1,2,3]'), (2, '[1,2]'), (3, '[4,5,6]')) TO :'fbad';
COPY events FROM :'fbad';
SELECT * FROM events;

-- Bad binary input: the payload of a bytea column is read as the vector's
-- binary form, so every malformed shape can be crafted.
CREATE TABLE raw (b bytea);
CREATE TABLE vin (v vector);
CREATE TABLE vin3 (v vector(3));
CREATE TABLE hin (v halfvec);
CREATE FUNCTION try_binary(payload text, target text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE raw;
  INSERT INTO raw VALUES (decode(payload, 'hex'));
  EXECUTE format('COPY raw TO %L (FORMAT binary)', current_setting('data_directory') || '/nmvec_regress_raw.copy');
  EXECUTE format('COPY %I FROM %L (FORMAT binary)', target, current_setting('data_directory') || '/nmvec_regress_raw.copy');
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT try_binary('000200003f80000040000000', 'vin') AS good;            -- [1,2]
SELECT try_binary('000200003f800000', 'vin') AS too_short;               -- 2 dims, 1 element
SELECT try_binary('000100003f80000040000000', 'vin') AS too_long;        -- 1 dim, 2 elements
SELECT try_binary('000000003f800000', 'vin') AS zero_dims;
SELECT try_binary('ffff00003f800000', 'vin') AS negative_dims;
SELECT try_binary('3e8100003f800000', 'vin') AS over_16000_dims;
SELECT try_binary('000100013f800000', 'vin') AS reserved_set;
SELECT try_binary('0001', 'vin') AS header_cut;
SELECT try_binary('000100007fc00000', 'vin') AS nan;
SELECT try_binary('000100007f800000', 'vin') AS infinity;
SELECT try_binary('000300003f800000ff80000040000000', 'vin') AS infinity_second;  -- [1,-inf,2]: not only the first element is checked
SELECT try_binary('00030000fbff3c007e00', 'hin') AS half_nan_last;                 -- [-65504,1,NaN]
SELECT try_binary('000200003f80000040000000', 'vin3') AS typmod_mismatch;
SELECT try_binary('000200003c004000', 'hin') AS half_good;
SELECT try_binary('000200003c00', 'hin') AS half_too_short;
SELECT try_binary('00010000fc00', 'hin') AS half_infinity;
SELECT * FROM vin;
SELECT * FROM hin;
DROP TABLE src, dst_text, dst_bin, events, raw, vin, vin3, hin;
DROP FUNCTION try_binary;
