package sqlsource_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
	"github.com/breachops/breach/internal/subjects"
)

// The sources of examples/breach.yaml run as written: the WooCommerce query on MariaDB over a
// table of WooCommerce's customer lookup, the application's query on PostgreSQL.
func TestExampleSourcesRunAsWritten(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "breach.yaml"))
	require.NoError(t, err)

	my := sqlsourcetest.NewMariaDB(t)
	shopDB, shopDSN := my.Database(t)
	pg := sqlsourcetest.NewPostgres(t)
	u, err := url.Parse(pg.DSN)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", pg.Schema)
	u.RawQuery = q.Encode()
	appDSN := u.String()

	shop, err := sqlsource.Sources{Config: cfg.SubjectSources, Getenv: envMap{"SHOP_DB_DSN": shopDSN}.get}.Open("shop")
	require.NoError(t, err)
	db := my.DB
	for _, stmt := range []string{
		"CREATE TABLE " + shopDB + `.wp_wc_customer_lookup (
			customer_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id bigint unsigned NULL,
			username varchar(60) NOT NULL DEFAULT '', first_name varchar(255) NOT NULL DEFAULT '', last_name varchar(255) NOT NULL DEFAULT '',
			email varchar(100) NULL, date_last_active timestamp NULL, date_registered timestamp NULL,
			country char(2) NOT NULL DEFAULT '', postcode varchar(20) NOT NULL DEFAULT '', city varchar(100) NOT NULL DEFAULT '', state varchar(100) NOT NULL DEFAULT '')`,
		"INSERT INTO " + shopDB + `.wp_wc_customer_lookup (first_name, last_name, email, date_last_active, country, state) VALUES
			('Léa', 'Weber', 'lea@example.net', '2026-03-01 10:00:00', 'DE', 'BE'),
			('Bo', 'Li', 'bo@example.net', '2026-04-01 10:00:00', 'US', 'CA'),
			('Old', 'Customer', 'old@example.net', '2019-04-01 10:00:00', 'FR', ''),
			('No', 'Mail', NULL, '2026-05-01 10:00:00', 'FR', '')`,
	} {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	s := export(t, shop)
	assert.Equal(t, 3, s.Rows)
	assert.Equal(t, map[string]int{"DE": 1, "US-CA": 1, "FR": 1}, s.ByJurisdiction)
	assert.Equal(t, 2, s.Mailable)
	assert.Equal(t, 3, s.ByCategory["order-history"])

	app, err := sqlsource.Sources{Config: cfg.SubjectSources, Getenv: envMap{"APP_DB_DSN": appDSN}.get}.Open("app")
	require.NoError(t, err)
	pg.Exec(t, `CREATE TABLE `+pg.Table("customers")+` (id bigint PRIMARY KEY, email text, full_name text, country_code text, region text,
		has_card boolean NOT NULL DEFAULT false, last_login_at timestamptz)`)
	pg.Exec(t, `INSERT INTO `+pg.Table("customers")+` VALUES
		(1, 'lea@example.net', 'Léa Weber', 'DE', '', true, '2026-03-01 10:00:00+00'),
		(2, 'LEA@example.net', 'Léa W.', 'DE', '', false, '2026-03-02 10:00:00+00'),
		(3, 'bo@example.net', 'Bo Li', 'US', 'NY', false, '2026-04-01 10:00:00+00'),
		(4, 'old@example.net', 'Old Customer', 'FR', '', false, '2019-04-01 10:00:00+00')`)
	s = export(t, app)
	assert.Equal(t, 3, s.Rows)
	assert.Equal(t, 1, s.Duplicates)
	assert.Equal(t, map[string]int{"DE": 1, "US-NY": 1}, s.ByJurisdiction)
	assert.Equal(t, 1, s.ByCategory["payment-card-last4"])
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

func export(t *testing.T, s *sqlsource.Source) subjects.Summary {
	t.Helper()
	var b bytes.Buffer
	_, err := s.Export(context.Background(), window, &b, nil)
	require.NoError(t, err)
	sum, err := subjects.Scan(&b, nil)
	require.NoError(t, err)
	return sum
}
