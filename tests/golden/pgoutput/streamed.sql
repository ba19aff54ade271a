CREATE TABLE big (id int PRIMARY KEY, v text);
CREATE PUBLICATION golden_pub FOR TABLE big;
-- changes
BEGIN;
INSERT INTO big SELECT g, repeat('v', 20) FROM generate_series(1, 1500) g;
SAVEPOINT s;
INSERT INTO big SELECT g, repeat('w', 20) FROM generate_series(1501, 2500) g;
ROLLBACK TO SAVEPOINT s;
INSERT INTO big SELECT g, repeat('x', 20) FROM generate_series(2501, 3000) g;
COMMIT;
BEGIN;
INSERT INTO big SELECT g, 'aborted' FROM generate_series(5001, 7000) g;
ROLLBACK;
