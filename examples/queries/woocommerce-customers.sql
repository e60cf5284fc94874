-- The customers of a WooCommerce shop (MySQL or MariaDB) who were active in the incident's
-- window: the two ? are window_from and window_to, bound in UTC (WooCommerce keeps
-- date_last_active in UTC). Each column is named after a field of a subjects dataset; a
-- constant says which data categories the shop holds for everyone. Ordered by a key, so that
-- the same rows make the same snapshot.
SELECT c.customer_id                               AS id,
       c.email                                     AS email,
       CONCAT_WS(' ', c.first_name, c.last_name)   AS name,
       c.country                                   AS country,
       CASE WHEN c.country = 'US' THEN c.state ELSE '' END AS state,
       'contact;address;order-history'             AS data_categories
  FROM wp_wc_customer_lookup AS c
 WHERE c.date_last_active >= ? AND c.date_last_active < ?
 ORDER BY c.customer_id
