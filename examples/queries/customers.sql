-- The customers of an application's own PostgreSQL database who logged in during the
-- incident's window ($1 window_from, $2 window_to). Each column is named after a field of a
-- subjects dataset; data_categories lists what the table holds, in the closed vocabulary of
-- internal/rules/categories.yaml. Ordered by a key, so that the same rows make the same
-- snapshot.
SELECT c.id::text        AS id,
       c.email           AS email,
       c.full_name       AS name,
       c.country_code    AS country,
       c.region          AS state,
       CASE WHEN c.has_card THEN 'contact;address;payment-card-last4' ELSE 'contact;address' END AS data_categories
  FROM customers AS c
 WHERE c.last_login_at >= $1 AND c.last_login_at < $2
 ORDER BY c.id
