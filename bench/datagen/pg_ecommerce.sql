-- A PII-rich e-commerce database for PostgreSQL at a scale factor, for
-- tests, benchmarks and the demo (bench/datagen/README.md). Generated on the
-- server, deterministically (the same scale gives the same rows):
--   psql -v scale=1 -f bench/datagen/pg_ecommerce.sql DBNAME
-- Scale 1 is about 35 MB (users 10 000, orders 30 000, order_items 90 000 …);
-- scale 30 about 1 GB. Fractions work (0.05 → 500 users).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT setseed(0.42) \gset
SELECT greatest(1, round(10000 * :scale))::int AS n_users \gset
SELECT greatest(1, round(1000 * :scale))::int AS n_products \gset
SELECT greatest(1, round(30000 * :scale))::int AS n_orders \gset
SELECT greatest(1, round(5000 * :scale))::int AS n_tickets \gset
SELECT greatest(1, round(20000 * :scale))::int AS n_reviews \gset
SELECT greatest(1, round(20000 * :scale))::int AS n_audit \gset
SELECT greatest(2, round(50 * :scale))::int AS n_departments \gset
SELECT greatest(4, round(500 * :scale))::int AS n_employees \gset

DROP TABLE IF EXISTS audit_events, support_tickets, reviews, payments, order_items, orders, products, categories,
  addresses, users, employees, departments CASCADE;
DROP TYPE IF EXISTS order_status CASCADE;
DROP DOMAIN IF EXISTS us_postal_code CASCADE;
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');
CREATE DOMAIN us_postal_code AS text CHECK (VALUE ~ '^[0-9]{5}$');

CREATE TEMP TABLE first_names(i int, v text);
INSERT INTO first_names SELECT row_number() OVER () - 1, v FROM unnest(ARRAY['James','Mary','Ahmet','Ayse','Hans',
  'Greta','Pierre','Camille','Jose','Lucia','Mehmet','Fatma','John','Patricia','Robert','Jennifer','Michael','Linda',
  'William','Elizabeth','David','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen',
  'Emre','Zeynep','Klaus','Sabine','Louis','Chloe','Carlos','Carmen','Ali','Elif']) v;
CREATE TEMP TABLE last_names(i int, v text);
INSERT INTO last_names SELECT row_number() OVER () - 1, v FROM unnest(ARRAY['Smith','Johnson','Yilmaz','Kaya','Muller',
  'Schmidt','Martin','Bernard','Garcia','Rodriguez','Demir','Sahin','Williams','Brown','Jones','Miller','Davis','Wilson',
  'Anderson','Taylor','Thomas','Moore','Jackson','White','Harris','Clark','Lewis','Lee','Walker','Hall','Celik','Ozturk',
  'Weber','Wagner','Dubois','Moreau','Lopez','Martinez','Aydin','Arslan']) v;
CREATE TEMP TABLE streets(i int, v text);
INSERT INTO streets SELECT row_number() OVER () - 1, v FROM unnest(ARRAY['Main St','Oak Ave','Maple Dr','Cedar Ln',
  'Pine St','Elm St','Washington Blvd','Lake Rd','Hill St','Park Ave','Ataturk Cd','Bagdat Cd','Hauptstrasse',
  'Rue de la Paix','Calle Mayor','Sunset Blvd']) v;
CREATE TEMP TABLE cities(i int, v text);
INSERT INTO cities SELECT row_number() OVER () - 1, v FROM unnest(ARRAY['Springfield','Istanbul','Ankara','Berlin',
  'Munich','Paris','Lyon','Madrid','Barcelona','Boston','Denver','Austin','Izmir','Hamburg','Seattle','Portland']) v;

-- Parties
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email varchar(255) NOT NULL UNIQUE,
  first_name text NOT NULL,
  last_name text NOT NULL,
  phone text,
  date_of_birth date,
  national_id char(11),
  password_hash text NOT NULL,
  last_login_ip inet,
  is_active boolean NOT NULL DEFAULT true,
  loyalty_points integer NOT NULL DEFAULT 0,
  preferences jsonb,
  avatar bytea,
  referred_by bigint REFERENCES users(id),  -- self-reference
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamp
);
INSERT INTO users (id, email, first_name, last_name, phone, date_of_birth, national_id, password_hash, last_login_ip,
                   is_active, loyalty_points, preferences, avatar, referred_by, created_at, updated_at)
SELECT g,
       lower(f.v) || '.' || lower(l.v) || g || '@' || (ARRAY['gmail.com','yahoo.com','example.net','corp.com'])[1 + g % 4],
       f.v, l.v,
       '+1 ' || lpad((200 + g % 700)::text, 3, '0') || ' ' || lpad((g * 7919 % 10000000)::text, 7, '0'),
       date '1950-01-01' + (g * 37 % 20000),
       lpad((10000000000 + g * 7)::text, 11, '0'),
       md5('pw' || g),
       ('10.' || (g / 65536 % 256) || '.' || (g / 256 % 256) || '.' || (g % 256))::inet,
       g % 10 <> 0,
       (g * 13) % 5000,
       jsonb_build_object('newsletter', g % 2 = 0, 'language', (ARRAY['en','tr','de','fr'])[1 + g % 4],
                          'contact', jsonb_build_object('email', lower(f.v) || g || '@home.example', 'sms', g % 3 = 0)),
       CASE WHEN g % 5 = 0 THEN decode(md5('avatar' || g), 'hex') END,
       -- an earlier user who was not referred (referral chains of one step)
       CASE WHEN g > 10 AND g % 4 = 0 THEN 1 + (g::bigint * 7919 % (g - 2)) + CASE WHEN (1 + (g::bigint * 7919 % (g - 2))) % 4 = 0 THEN 1 ELSE 0 END END,
       timestamptz '2020-01-01 00:00:00+00' + (g * 1301 % 100000000) * interval '1 second',
       timestamp '2024-01-01' + (g * 977 % 10000000) * interval '1 second'
FROM generate_series(1, :n_users) g
JOIN first_names f ON f.i = g % 40 JOIN last_names l ON l.i = (g / 40) % 40;
SELECT setval('users_id_seq', :n_users) \gset

CREATE TABLE addresses (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('billing', 'shipping')),
  street text NOT NULL,
  city text NOT NULL,
  postal_code us_postal_code,
  country char(2) NOT NULL,
  latitude double precision,
  longitude double precision,
  is_default boolean NOT NULL DEFAULT false
);
INSERT INTO addresses (id, user_id, kind, street, city, postal_code, country, latitude, longitude, is_default)
SELECT g, 1 + (g - 1) % :n_users, CASE WHEN g > :n_users THEN 'billing' ELSE 'shipping' END,
       (1 + g % 999) || ' ' || s.v, c.v, lpad((g * 13 % 100000)::text, 5, '0'),
       (ARRAY['US','TR','DE','FR','ES'])[1 + g % 5], -60 + (g * 7 % 12000) / 100.0, -170 + (g * 11 % 34000) / 100.0,
       g % 2 = 0
FROM generate_series(1, round(:n_users * 1.5)::int) g
JOIN streets s ON s.i = g % 16 JOIN cities c ON c.i = (g / 16) % 16;
SELECT setval(pg_get_serial_sequence('addresses', 'id'), round(:n_users * 1.5)::int) \gset

-- Catalog
CREATE TABLE categories (
  id integer PRIMARY KEY,
  parent_id integer REFERENCES categories(id),  -- self-reference (a tree)
  name varchar(64) NOT NULL
);
INSERT INTO categories SELECT g, CASE WHEN g > 8 THEN 1 + (g - 1) / 8 END, 'category ' || g FROM generate_series(1, 64) g;

CREATE TABLE products (
  id serial PRIMARY KEY,
  sku uuid NOT NULL UNIQUE,
  category_id integer NOT NULL REFERENCES categories(id),
  name text NOT NULL,
  description text,
  price numeric(12,2) NOT NULL,
  weight_kg real,
  tags text[],
  in_stock smallint NOT NULL DEFAULT 0
);
INSERT INTO products (id, sku, category_id, name, description, price, weight_kg, tags, in_stock)
SELECT g, md5('sku' || g)::uuid, 1 + g % 64, 'Product ' || g, 'A fine product number ' || g || '. ' || repeat('Lorem ipsum ', 1 + g % 5),
       round((1 + g * 7 % 50000 / 100.0)::numeric, 2), (g % 1000) / 10.0, ARRAY['tag' || g % 7, 'tag' || g % 11], g % 100
FROM generate_series(1, :n_products) g;
SELECT setval('products_id_seq', :n_products) \gset

-- Orders
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id),
  shipping_address_id bigint REFERENCES addresses(id),
  status order_status NOT NULL DEFAULT 'pending',
  customer_email varchar(255),
  total numeric(12,2) NOT NULL DEFAULT 0,
  placed_at timestamptz NOT NULL,
  delivery_window interval,
  delivery_time time
);
CREATE INDEX orders_user ON orders (user_id);
CREATE INDEX orders_placed ON orders (placed_at);
INSERT INTO orders (id, user_id, shipping_address_id, status, customer_email, total, placed_at, delivery_window, delivery_time)
SELECT g, u.id, u.id,  -- the user's own shipping address (address n belongs to user n)
       (ARRAY['pending','paid','shipped','delivered','cancelled']::order_status[])[1 + g % 5], u.email,
       0, timestamptz '2023-01-01 00:00:00+00' + (g * 613 % 60000000) * interval '1 second',
       make_interval(days => g % 5, hours => g % 24), make_time(8 + g % 10, (g * 7) % 60, 0)
FROM generate_series(1, :n_orders) g JOIN users u ON u.id = 1 + (g * 17 % :n_users);
SELECT setval('orders_id_seq', :n_orders) \gset

CREATE TABLE order_items (
  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  line_no smallint NOT NULL,
  product_id integer NOT NULL REFERENCES products(id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(12,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)  -- a composite key
);
INSERT INTO order_items SELECT o, l, 1 + (o * 31 + l * 7) % :n_products, 1 + (o + l) % 4,
       round((1 + (o * 13 + l) % 20000 / 100.0)::numeric, 2)
FROM generate_series(1, :n_orders) o, generate_series(1, 3) l;
UPDATE orders o SET total = t.s FROM (SELECT order_id, sum(quantity * unit_price) s FROM order_items GROUP BY 1) t
WHERE t.order_id = o.id;

CREATE TABLE payments (
  id bigserial PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders(id),
  card_number varchar(19),
  card_holder text,
  iban varchar(34),
  amount numeric(12,2) NOT NULL,
  paid_at timestamptz,
  gateway_response json
);
INSERT INTO payments (order_id, card_number, card_holder, iban, amount, paid_at, gateway_response)
SELECT o.id, CASE WHEN o.id % 4 <> 0 THEN '4' || lpad((o.id * 7919 % 1000000000000000)::text, 15, '0') END,
       u.first_name || ' ' || u.last_name,
       CASE WHEN o.id % 4 = 0 THEN 'DE' || lpad((o.id % 97)::text, 2, '0') || lpad((o.id * 104729 % 1000000000000000000)::text, 18, '0') END,
       o.total, o.placed_at + interval '5 minutes',
       json_build_object('code', 200, 'auth', md5('auth' || o.id), 'payer_email', u.email)
FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status <> 'pending';

CREATE TABLE reviews (
  id bigserial PRIMARY KEY,
  product_id integer NOT NULL REFERENCES products(id),
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body text,  -- free text with contact details in it
  created_at timestamptz NOT NULL
);
INSERT INTO reviews (product_id, user_id, rating, body, created_at)
SELECT 1 + g % :n_products, u.id, 1 + g % 5,
       CASE g % 3 WHEN 0 THEN 'Great product, would buy again. Contact me at ' || u.email
                  WHEN 1 THEN 'Arrived late. Call ' || u.phone || ' if you need details.'
                  ELSE 'Works as described. ' || repeat('Really. ', 1 + g % 10) END,
       timestamptz '2023-06-01 00:00:00+00' + (g * 4099 % 40000000) * interval '1 second'
FROM generate_series(1, :n_reviews) g JOIN users u ON u.id = 1 + (g * 23 % :n_users);

CREATE TABLE support_tickets (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id),
  subject text NOT NULL,
  details jsonb NOT NULL,  -- contact details inside a JSON document
  opened_at timestamptz NOT NULL,
  closed_at timestamptz
);
INSERT INTO support_tickets (user_id, subject, details, opened_at, closed_at)
SELECT u.id, 'Ticket about order ' || g,
       jsonb_build_object('contact', jsonb_build_object('name', u.first_name || ' ' || u.last_name, 'email', u.email,
                                                        'phone', u.phone),
                          'messages', jsonb_build_array('Hello, my order is late', 'Please call me back'),
                          'priority', 1 + g % 3),
       timestamptz '2024-01-01 00:00:00+00' + (g * 3001 % 20000000) * interval '1 second',
       CASE WHEN g % 3 <> 0 THEN timestamptz '2024-01-01 00:00:00+00' + (g * 3001 % 20000000 + 86400) * interval '1 second' END
FROM generate_series(1, :n_tickets) g JOIN users u ON u.id = 1 + (g * 29 % :n_users);

-- An FK cycle with a nullable edge: departments.head_employee_id -> employees,
-- employees.department_id -> departments; employees.manager_id is a self-reference.
CREATE TABLE departments (
  id integer PRIMARY KEY,
  name text NOT NULL,
  head_employee_id integer
);
CREATE TABLE employees (
  id integer PRIMARY KEY,
  department_id integer NOT NULL REFERENCES departments(id),
  manager_id integer REFERENCES employees(id),
  full_name text NOT NULL,
  work_email text NOT NULL UNIQUE,
  ssn char(11),
  salary numeric(10,2),
  hired_on date NOT NULL
);
ALTER TABLE departments ADD FOREIGN KEY (head_employee_id) REFERENCES employees(id);
INSERT INTO departments SELECT g, 'Department ' || g, NULL FROM generate_series(1, :n_departments) g;
INSERT INTO employees
SELECT g, 1 + g % :n_departments, CASE WHEN g > :n_departments THEN 1 + g % :n_departments END,
       f.v || ' ' || l.v, lower(f.v) || '.' || lower(l.v) || g || '@corp.example',
       lpad((100 + g % 800)::text, 3, '0') || '-' || lpad((g % 99 + 1)::text, 2, '0') || '-' || lpad((g * 37 % 10000)::text, 4, '0'),
       30000 + (g * 977 % 90000), date '2010-01-01' + g % 5000
FROM generate_series(1, :n_employees) g JOIN first_names f ON f.i = (g * 3) % 40 JOIN last_names l ON l.i = (g * 7) % 40;
UPDATE departments SET head_employee_id = id;

-- A table without a primary key.
CREATE TABLE audit_events (
  occurred_at timestamptz NOT NULL,
  actor_email text,
  action text NOT NULL,
  ip inet,
  payload jsonb
);
INSERT INTO audit_events
SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', u.email,
       (ARRAY['login','logout','update_profile','checkout'])[1 + g % 4], u.last_login_ip,
       jsonb_build_object('user_agent', 'Mozilla/5.0', 'session', md5('s' || g))
FROM generate_series(1, :n_audit) g JOIN users u ON u.id = 1 + (g * 41 % :n_users);
CREATE INDEX audit_events_at ON audit_events (occurred_at);

ANALYZE;
