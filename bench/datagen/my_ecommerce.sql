-- A PII-rich e-commerce database for MariaDB 10.11 at a scale factor: the
-- port of pg_ecommerce.sql (same tables, columns, rows, PII, keys and
-- indexes; bench/datagen/README.md). Generated on the server,
-- deterministically (the same scale gives the same rows), into the current
-- database; the scale comes from the user variable @scale (default 1):
--   mariadb --init-command='SET @scale = 1' DBNAME < bench/datagen/my_ecommerce.sql
--   { echo 'SET @scale = 1;'; cat bench/datagen/my_ecommerce.sql; } | mariadb DBNAME
-- The same row counts as the PostgreSQL version at the same scale (users
-- 10 000, orders 30 000, order_items 90 000 … at scale 1); fractions work.
--
-- Type mapping from the PostgreSQL version: bigserial/serial/identity ->
-- BIGINT/INT AUTO_INCREMENT (ids given explicitly where PostgreSQL gives
-- them; InnoDB moves the counter past them), text -> VARCHAR(n) for short
-- values and TEXT for free text, timestamptz -> TIMESTAMP (stored in UTC;
-- this file sets time_zone to +00:00), timestamp -> DATETIME, numeric ->
-- DECIMAL, real -> FLOAT, boolean -> BOOLEAN (TINYINT(1)), inet -> INET4,
-- uuid -> UUID (the same md5 with the version 4 and variant bits set:
-- MariaDB refuses some bit patterns PostgreSQL takes), bytea -> BLOB,
-- json/jsonb -> JSON (LONGTEXT with a JSON_VALID check), text[] -> a JSON
-- array, the order_status enum -> ENUM, interval -> TIME (a duration), the
-- us_postal_code domain -> VARCHAR with a CHECK. Every other value equals
-- the PostgreSQL version's at the same scale.
--
-- Sizes (data + indexes, MariaDB 10.11.19): scale 1 about 38 MB, scale 21
-- about 655 MB (670 MB of files; PostgreSQL 15: 829 MB of tables and
-- indexes), loaded in 70-90 s on 2 cores. InnoDB also indexes every
-- foreign-key column that no index starts with (PostgreSQL does not):
-- addresses.user_id, orders.shipping_address_id, order_items.product_id,
-- payments.order_id, reviews.product_id/user_id, support_tickets.user_id,
-- products.category_id, categories.parent_id, users.referred_by,
-- employees.department_id/manager_id, departments.head_employee_id.
--
-- Rows come from the SEQUENCE engine (seq_1_to_N, on by default in 10.11),
-- loaded with foreign_key_checks and unique_checks off so that InnoDB takes
-- its bulk path into the empty tables (sorted index builds); the rows
-- satisfy every key by construction, and both checks are on again at the
-- end.
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET @scale = COALESCE(@scale, 1);
SET @n_users = CAST(GREATEST(1, ROUND(10000 * @scale)) AS SIGNED);
SET @n_addresses = CAST(ROUND(@n_users * 1.5) AS SIGNED);
SET @n_products = CAST(GREATEST(1, ROUND(1000 * @scale)) AS SIGNED);
SET @n_orders = CAST(GREATEST(1, ROUND(30000 * @scale)) AS SIGNED);
SET @n_tickets = CAST(GREATEST(1, ROUND(5000 * @scale)) AS SIGNED);
SET @n_reviews = CAST(GREATEST(1, ROUND(20000 * @scale)) AS SIGNED);
SET @n_audit = CAST(GREATEST(1, ROUND(20000 * @scale)) AS SIGNED);
SET @n_departments = CAST(GREATEST(2, ROUND(50 * @scale)) AS SIGNED);
SET @n_employees = CAST(GREATEST(4, ROUND(500 * @scale)) AS SIGNED);
SET @saved_fk = @@foreign_key_checks, @saved_uc = @@unique_checks;
SET foreign_key_checks = 0, unique_checks = 0;

DROP TABLE IF EXISTS audit_events, support_tickets, reviews, payments, order_items, orders, products, categories,
  addresses, users, employees, departments;

-- Name lists, indexed from 0 (as the PostgreSQL version's temporary tables).
CREATE TEMPORARY TABLE first_names (i INT PRIMARY KEY, v VARCHAR(32) NOT NULL);
INSERT INTO first_names SELECT i - 1, v FROM JSON_TABLE('["James","Mary","Ahmet","Ayse","Hans",
  "Greta","Pierre","Camille","Jose","Lucia","Mehmet","Fatma","John","Patricia","Robert","Jennifer","Michael","Linda",
  "William","Elizabeth","David","Barbara","Richard","Susan","Joseph","Jessica","Thomas","Sarah","Charles","Karen",
  "Emre","Zeynep","Klaus","Sabine","Louis","Chloe","Carlos","Carmen","Ali","Elif"]',
  '$[*]' COLUMNS (i FOR ORDINALITY, v VARCHAR(32) PATH '$')) t;
CREATE TEMPORARY TABLE last_names (i INT PRIMARY KEY, v VARCHAR(32) NOT NULL);
INSERT INTO last_names SELECT i - 1, v FROM JSON_TABLE('["Smith","Johnson","Yilmaz","Kaya","Muller",
  "Schmidt","Martin","Bernard","Garcia","Rodriguez","Demir","Sahin","Williams","Brown","Jones","Miller","Davis","Wilson",
  "Anderson","Taylor","Thomas","Moore","Jackson","White","Harris","Clark","Lewis","Lee","Walker","Hall","Celik","Ozturk",
  "Weber","Wagner","Dubois","Moreau","Lopez","Martinez","Aydin","Arslan"]',
  '$[*]' COLUMNS (i FOR ORDINALITY, v VARCHAR(32) PATH '$')) t;
CREATE TEMPORARY TABLE streets (i INT PRIMARY KEY, v VARCHAR(32) NOT NULL);
INSERT INTO streets SELECT i - 1, v FROM JSON_TABLE('["Main St","Oak Ave","Maple Dr","Cedar Ln",
  "Pine St","Elm St","Washington Blvd","Lake Rd","Hill St","Park Ave","Ataturk Cd","Bagdat Cd","Hauptstrasse",
  "Rue de la Paix","Calle Mayor","Sunset Blvd"]',
  '$[*]' COLUMNS (i FOR ORDINALITY, v VARCHAR(32) PATH '$')) t;
CREATE TEMPORARY TABLE cities (i INT PRIMARY KEY, v VARCHAR(32) NOT NULL);
INSERT INTO cities SELECT i - 1, v FROM JSON_TABLE('["Springfield","Istanbul","Ankara","Berlin",
  "Munich","Paris","Lyon","Madrid","Barcelona","Boston","Denver","Austin","Izmir","Hamburg","Seattle","Portland"]',
  '$[*]' COLUMNS (i FOR ORDINALITY, v VARCHAR(32) PATH '$')) t;

-- Parties
CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(255) NOT NULL,
  first_name VARCHAR(100) NOT NULL,
  last_name VARCHAR(100) NOT NULL,
  phone VARCHAR(32),
  date_of_birth DATE,
  national_id CHAR(11),
  password_hash VARCHAR(255) NOT NULL,
  last_login_ip INET4,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  loyalty_points INT NOT NULL DEFAULT 0,
  preferences JSON,
  avatar BLOB,
  referred_by BIGINT,  -- self-reference
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  UNIQUE KEY users_email_key (email),
  CONSTRAINT users_referred_by_fkey FOREIGN KEY (referred_by) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO users (id, email, first_name, last_name, phone, date_of_birth, national_id, password_hash, last_login_ip,
                   is_active, loyalty_points, preferences, avatar, referred_by, created_at, updated_at)
SELECT g,
       CONCAT(LOWER(f.v), '.', LOWER(l.v), g, '@', ELT(1 + g % 4, 'gmail.com', 'yahoo.com', 'example.net', 'corp.com')),
       f.v, l.v,
       CONCAT('+1 ', LPAD(200 + g % 700, 3, '0'), ' ', LPAD(g * 7919 % 10000000, 7, '0')),
       DATE '1950-01-01' + INTERVAL (g * 37 % 20000) DAY,
       LPAD(10000000000 + g * 7, 11, '0'),
       MD5(CONCAT('pw', g)),
       CONCAT('10.', (g DIV 65536) % 256, '.', (g DIV 256) % 256, '.', g % 256),
       g % 10 <> 0,
       (g * 13) % 5000,
       JSON_OBJECT('newsletter', g % 2 = 0, 'language', ELT(1 + g % 4, 'en', 'tr', 'de', 'fr'),
                   'contact', JSON_OBJECT('email', CONCAT(LOWER(f.v), g, '@home.example'), 'sms', g % 3 = 0)),
       CASE WHEN g % 5 = 0 THEN UNHEX(MD5(CONCAT('avatar', g))) END,
       -- an earlier user who was not referred (referral chains of one step)
       CASE WHEN g > 10 AND g % 4 = 0 THEN 1 + (g * 7919 % (g - 2)) + CASE WHEN (1 + (g * 7919 % (g - 2))) % 4 = 0 THEN 1 ELSE 0 END END,
       TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (g * 1301 % 100000000) SECOND,
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (g * 977 % 10000000) SECOND
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_users) s
JOIN first_names f ON f.i = g % 40 JOIN last_names l ON l.i = (g DIV 40) % 40;

CREATE TABLE addresses (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL CHECK (kind IN ('billing', 'shipping')),
  street VARCHAR(255) NOT NULL,
  city VARCHAR(100) NOT NULL,
  postal_code VARCHAR(16) CHECK (postal_code REGEXP '^[0-9]{5}$'),  -- PostgreSQL: the us_postal_code domain
  country CHAR(2) NOT NULL,
  latitude DOUBLE,
  longitude DOUBLE,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  CONSTRAINT addresses_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO addresses (id, user_id, kind, street, city, postal_code, country, latitude, longitude, is_default)
SELECT g, 1 + (g - 1) % @n_users, CASE WHEN g > @n_users THEN 'billing' ELSE 'shipping' END,
       CONCAT(1 + g % 999, ' ', s.v), c.v, LPAD(g * 13 % 100000, 5, '0'),
       ELT(1 + g % 5, 'US', 'TR', 'DE', 'FR', 'ES'), -60 + (g * 7 % 12000) / 100.0, -170 + (g * 11 % 34000) / 100.0,
       g % 2 = 0
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_addresses) q
JOIN streets s ON s.i = g % 16 JOIN cities c ON c.i = (g DIV 16) % 16;

-- Catalog
CREATE TABLE categories (
  id INT NOT NULL PRIMARY KEY,
  parent_id INT,  -- self-reference (a tree)
  name VARCHAR(64) NOT NULL,
  CONSTRAINT categories_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES categories (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO categories SELECT seq, CASE WHEN seq > 8 THEN 1 + (seq - 1) DIV 8 END, CONCAT('category ', seq) FROM seq_1_to_64;

CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku UUID NOT NULL,
  category_id INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  description TEXT,
  price DECIMAL(12,2) NOT NULL,
  weight_kg FLOAT,
  tags JSON,  -- PostgreSQL: text[]
  in_stock SMALLINT NOT NULL DEFAULT 0,
  UNIQUE KEY products_sku_key (sku),
  CONSTRAINT products_category_id_fkey FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO products (id, sku, category_id, name, description, price, weight_kg, tags, in_stock)
SELECT g, CONCAT(LEFT(h, 12), '4', SUBSTR(h, 14, 3), ELT(1 + CONV(SUBSTR(h, 17, 1), 16, 10) % 4, '8', '9', 'a', 'b'),
                 SUBSTR(h, 18)),
       1 + g % 64, CONCAT('Product ', g),
       CONCAT('A fine product number ', g, '. ', REPEAT('Lorem ipsum ', 1 + g % 5)),
       ROUND(1 + (g * 7 % 50000) / 100.0, 2), (g % 1000) / 10.0, JSON_ARRAY(CONCAT('tag', g % 7), CONCAT('tag', g % 11)),
       g % 100
FROM (SELECT CAST(seq AS SIGNED) AS g, MD5(CONCAT('sku', seq)) AS h FROM seq_1_to_1000000000 WHERE seq <= @n_products) q;

-- Orders
CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  shipping_address_id BIGINT,
  status ENUM('pending', 'paid', 'shipped', 'delivered', 'cancelled') NOT NULL DEFAULT 'pending',
  customer_email VARCHAR(255),
  total DECIMAL(12,2) NOT NULL DEFAULT 0,
  placed_at TIMESTAMP NOT NULL,
  delivery_window TIME,  -- PostgreSQL: interval
  delivery_time TIME,
  KEY orders_user (user_id),
  KEY orders_placed (placed_at),
  CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT orders_shipping_address_id_fkey FOREIGN KEY (shipping_address_id) REFERENCES addresses (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
-- The total is the sum of the order's three items below (PostgreSQL updates
-- it afterwards; the same values).
INSERT INTO orders (id, user_id, shipping_address_id, status, customer_email, total, placed_at, delivery_window, delivery_time)
SELECT g, u.id, u.id,  -- the user's own shipping address (address n belongs to user n)
       ELT(1 + g % 5, 'pending', 'paid', 'shipped', 'delivered', 'cancelled'), u.email,
       (1 + (g + 1) % 4) * ROUND(1 + ((g * 13 + 1) % 20000) / 100.0, 2)
         + (1 + (g + 2) % 4) * ROUND(1 + ((g * 13 + 2) % 20000) / 100.0, 2)
         + (1 + (g + 3) % 4) * ROUND(1 + ((g * 13 + 3) % 20000) / 100.0, 2),
       TIMESTAMP '2023-01-01 00:00:00' + INTERVAL (g * 613 % 60000000) SECOND,
       SEC_TO_TIME((g % 5) * 86400 + (g % 24) * 3600), MAKETIME(8 + g % 10, (g * 7) % 60, 0)
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_orders) q
JOIN users u ON u.id = 1 + (g * 17 % @n_users);

CREATE TABLE order_items (
  order_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  product_id INT NOT NULL,
  quantity INT NOT NULL CHECK (quantity > 0),
  unit_price DECIMAL(12,2) NOT NULL,
  PRIMARY KEY (order_id, line_no),  -- a composite key
  CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
SELECT STRAIGHT_JOIN o.g, l.seq, 1 + (o.g * 31 + l.seq * 7) % @n_products, 1 + (o.g + l.seq) % 4,
       ROUND(1 + ((o.g * 13 + l.seq) % 20000) / 100.0, 2)
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_orders) o, seq_1_to_3 l;

CREATE TABLE payments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  card_number VARCHAR(19),
  card_holder VARCHAR(255),
  iban VARCHAR(34),
  amount DECIMAL(12,2) NOT NULL,
  paid_at TIMESTAMP NULL,
  gateway_response JSON,
  CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO payments (order_id, card_number, card_holder, iban, amount, paid_at, gateway_response)
SELECT o.id, CASE WHEN o.id % 4 <> 0 THEN CONCAT('4', LPAD(o.id * 7919 % 1000000000000000, 15, '0')) END,
       CONCAT(u.first_name, ' ', u.last_name),
       CASE WHEN o.id % 4 = 0 THEN CONCAT('DE', LPAD(o.id % 97, 2, '0'), LPAD(o.id * 104729 % 1000000000000000000, 18, '0')) END,
       o.total, o.placed_at + INTERVAL 5 MINUTE,
       JSON_OBJECT('code', 200, 'auth', MD5(CONCAT('auth', o.id)), 'payer_email', u.email)
FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status <> 'pending' ORDER BY o.id;

CREATE TABLE reviews (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id INT NOT NULL,
  user_id BIGINT,
  rating SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body TEXT,  -- free text with contact details in it
  created_at TIMESTAMP NOT NULL,
  CONSTRAINT reviews_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT reviews_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO reviews (id, product_id, user_id, rating, body, created_at)
SELECT g, 1 + g % @n_products, u.id, 1 + g % 5,
       CASE g % 3 WHEN 0 THEN CONCAT('Great product, would buy again. Contact me at ', u.email)
                  WHEN 1 THEN CONCAT('Arrived late. Call ', u.phone, ' if you need details.')
                  ELSE CONCAT('Works as described. ', REPEAT('Really. ', 1 + g % 10)) END,
       TIMESTAMP '2023-06-01 00:00:00' + INTERVAL (g * 4099 % 40000000) SECOND
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_reviews) q
JOIN users u ON u.id = 1 + (g * 23 % @n_users);

CREATE TABLE support_tickets (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  subject VARCHAR(255) NOT NULL,
  details JSON NOT NULL,  -- contact details inside a JSON document
  opened_at TIMESTAMP NOT NULL,
  closed_at TIMESTAMP NULL,
  CONSTRAINT support_tickets_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO support_tickets (id, user_id, subject, details, opened_at, closed_at)
SELECT g, u.id, CONCAT('Ticket about order ', g),
       JSON_OBJECT('contact', JSON_OBJECT('name', CONCAT(u.first_name, ' ', u.last_name), 'email', u.email,
                                          'phone', u.phone),
                   'messages', JSON_ARRAY('Hello, my order is late', 'Please call me back'),
                   'priority', 1 + g % 3),
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (g * 3001 % 20000000) SECOND,
       CASE WHEN g % 3 <> 0 THEN TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (g * 3001 % 20000000 + 86400) SECOND END
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_tickets) q
JOIN users u ON u.id = 1 + (g * 29 % @n_users);

-- An FK cycle with a nullable edge: departments.head_employee_id -> employees,
-- employees.department_id -> departments; employees.manager_id is a self-reference.
CREATE TABLE departments (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  head_employee_id INT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
CREATE TABLE employees (
  id INT NOT NULL PRIMARY KEY,
  department_id INT NOT NULL,
  manager_id INT,
  full_name VARCHAR(255) NOT NULL,
  work_email VARCHAR(255) NOT NULL,
  ssn CHAR(11),
  salary DECIMAL(10,2),
  hired_on DATE NOT NULL,
  UNIQUE KEY employees_work_email_key (work_email),
  CONSTRAINT employees_department_id_fkey FOREIGN KEY (department_id) REFERENCES departments (id),
  CONSTRAINT employees_manager_id_fkey FOREIGN KEY (manager_id) REFERENCES employees (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
ALTER TABLE departments ADD CONSTRAINT departments_head_employee_id_fkey
  FOREIGN KEY (head_employee_id) REFERENCES employees (id);
INSERT INTO departments SELECT seq, CONCAT('Department ', seq), NULL FROM seq_1_to_1000000000 WHERE seq <= @n_departments;
INSERT INTO employees
SELECT g, 1 + g % @n_departments, CASE WHEN g > @n_departments THEN 1 + g % @n_departments END,
       CONCAT(f.v, ' ', l.v), CONCAT(LOWER(f.v), '.', LOWER(l.v), g, '@corp.example'),
       CONCAT(LPAD(100 + g % 800, 3, '0'), '-', LPAD(g % 99 + 1, 2, '0'), '-', LPAD(g * 37 % 10000, 4, '0')),
       30000 + (g * 977 % 90000), DATE '2010-01-01' + INTERVAL (g % 5000) DAY
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_employees) q
JOIN first_names f ON f.i = (g * 3) % 40 JOIN last_names l ON l.i = (g * 7) % 40;
UPDATE departments SET head_employee_id = id;

-- A table without a primary key.
CREATE TABLE audit_events (
  occurred_at TIMESTAMP NOT NULL,
  actor_email VARCHAR(255),
  action VARCHAR(32) NOT NULL,
  ip INET4,
  payload JSON,
  KEY audit_events_at (occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO audit_events
SELECT TIMESTAMP '2024-01-01 00:00:00' + INTERVAL g MINUTE, u.email,
       ELT(1 + g % 4, 'login', 'logout', 'update_profile', 'checkout'), u.last_login_ip,
       JSON_OBJECT('user_agent', 'Mozilla/5.0', 'session', MD5(CONCAT('s', g)))
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_1000000000 WHERE seq <= @n_audit) q
JOIN users u ON u.id = 1 + (g * 41 % @n_users);

DROP TEMPORARY TABLE first_names, last_names, streets, cities;
SET foreign_key_checks = @saved_fk, unique_checks = @saved_uc;
ANALYZE TABLE users, addresses, categories, products, orders, order_items, payments, reviews, support_tickets,
  departments, employees, audit_events;
