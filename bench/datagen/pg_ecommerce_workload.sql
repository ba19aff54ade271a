-- Live traffic for the e-commerce database of pg_ecommerce.sql: defines
-- phony_shop_tick(seed), one business transaction per call — a new customer
-- with an address, an order with items and a payment; a customer changing
-- email and phone; an order moving on; a cancelled order deleted with its
-- items (ON DELETE CASCADE) and payments; a review deleted. Deterministic
-- in `seed`. Used by the tests (kill -9 and restarts while it runs), the
-- demo and the end-to-end benchmarks:
--   psql -f bench/datagen/pg_ecommerce_workload.sql shop
--   psql -c "SELECT phony_shop_tick(g) FROM generate_series(1, 100) g" shop  -- one transaction
-- (call it once per statement for one source transaction per tick).
CREATE OR REPLACE FUNCTION phony_shop_tick(seed bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  uid bigint;
  aid bigint;
  oid_ bigint;
  victim bigint;
  n_items int := 1 + (seed % 3)::int;
  max_user bigint;
  max_product int;
BEGIN
  SELECT max(id) INTO max_user FROM users;
  SELECT max(id) INTO max_product FROM products;
  -- A new customer, an address, an order with items, a payment.
  INSERT INTO users (email, first_name, last_name, phone, date_of_birth, national_id, password_hash,
                     last_login_ip, preferences, referred_by)
  VALUES ('live' || seed || '.' || md5(seed::text) || '@example.org', 'Ada' || seed % 97, 'Live' || seed % 89,
          '+1 555 ' || lpad((seed * 7919 % 10000000)::text, 7, '0'), date '1970-01-01' + (seed * 37 % 15000)::int,
          lpad((20000000000 + seed * 11)::text, 11, '0'), md5('pw' || seed), ('10.1.' || seed % 250 || '.7')::inet,
          jsonb_build_object('contact', jsonb_build_object('email', 'alt' || seed || '@example.org'), 'news', seed % 2 = 0),
          CASE WHEN max_user IS NOT NULL THEN 1 + seed % max_user END)
  RETURNING id INTO uid;
  INSERT INTO addresses (user_id, kind, street, city, postal_code, country, latitude, longitude)
  VALUES (uid, 'shipping', seed || ' Live Street', 'Springfield', lpad((seed % 99999)::text, 5, '0'), 'US',
          40 + (seed % 100) / 100.0, -70 - (seed % 100) / 100.0)
  RETURNING id INTO aid;
  INSERT INTO orders (user_id, shipping_address_id, status, customer_email, total, placed_at, delivery_window, delivery_time)
  SELECT uid, aid, 'paid', u.email, 0, now(), interval '2 days', time '10:30' FROM users u WHERE u.id = uid
  RETURNING id INTO oid_;
  INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
  SELECT oid_, l, 1 + ((seed + l) % max_product)::int, 1 + l, 9.99 * l FROM generate_series(1, n_items) l;
  UPDATE orders SET total = (SELECT sum(quantity * unit_price) FROM order_items WHERE order_id = oid_) WHERE id = oid_;
  INSERT INTO payments (order_id, card_number, card_holder, iban, amount, paid_at, gateway_response)
  SELECT oid_, '4' || lpad((seed * 7919 % 1000000000000000)::text, 15, '0'), 'Ada Live', NULL, o.total, now(),
         json_build_object('code', 200, 'payer_email', o.customer_email)
  FROM orders o WHERE o.id = oid_;
  -- A customer changes email and phone (unique email kept unique).
  UPDATE users SET email = 'moved' || seed || '.' || id || '@example.com', phone = '+1 555 000 ' || seed % 10000,
                   updated_at = now()::timestamp
  WHERE id = 1 + (seed * 7) % max_user;
  -- An order moves on.
  UPDATE orders SET status = 'shipped' WHERE id = (SELECT id FROM orders WHERE status = 'paid' ORDER BY id LIMIT 1 OFFSET (seed % 5));
  -- A cancelled order goes, with its items (cascade) and payments.
  SELECT id INTO victim FROM orders WHERE status = 'cancelled' ORDER BY id LIMIT 1 OFFSET (seed % 3);
  IF victim IS NOT NULL THEN
    DELETE FROM payments WHERE order_id = victim;
    DELETE FROM orders WHERE id = victim;
  END IF;
  -- A review is withdrawn.
  DELETE FROM reviews WHERE id = (SELECT id FROM reviews ORDER BY id LIMIT 1 OFFSET (seed % 7));
END $$;
