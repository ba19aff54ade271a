CREATE TABLE items (id int PRIMARY KEY, b bool, i8 bigint, f8 float8, n numeric, tx text, by bytea,
  d date, ts timestamp, tstz timestamptz, tm time, ttz timetz, iv interval, u uuid, j jsonb,
  ip inet, arr int[], big text);
ALTER TABLE items ALTER big SET STORAGE EXTERNAL;
CREATE TABLE logs (a int, b text);
ALTER TABLE logs REPLICA IDENTITY FULL;
CREATE TABLE other (id int PRIMARY KEY);
CREATE PUBLICATION golden_pub FOR TABLE items, logs, other;
-- changes
INSERT INTO items VALUES (1, true, -9223372036854775808, 'NaN', '-0.00100', 'it''s ✓', '\x00ff',
  '0044-03-15 BC', '2024-02-29 13:45:06.123456', '2024-02-29 13:45:06.5+05:30', '24:00:00',
  '00:00:01-15:59', '-1 year -2 mons +3 days -04:05:06.000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": [1, null]}', '::1', '{1,NULL}', repeat('t', 5000));
INSERT INTO items (id, d, ts, tstz) VALUES (2, 'infinity', '-infinity', 'infinity');
UPDATE items SET tx = 'changed' WHERE id = 1;
UPDATE items SET id = 3 WHERE id = 2;
DELETE FROM items WHERE id = 3;
INSERT INTO logs VALUES (1, 'one'), (2, NULL);
UPDATE logs SET b = 'uno' WHERE a = 1;
DELETE FROM logs WHERE a = 2;
INSERT INTO other VALUES (1);
TRUNCATE other, logs RESTART IDENTITY CASCADE;
BEGIN; INSERT INTO other VALUES (5); ROLLBACK;
