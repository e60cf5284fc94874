package activities

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
)

// snapshotEnv is an activity environment whose sources are the given queries on pg.
func snapshotEnv(t *testing.T, pg *sqlsourcetest.Postgres, queries map[string]string, timeout time.Duration) (*testsuite.TestActivityEnvironment, *Activities, *datasets.Store) {
	t.Helper()
	dir := t.TempDir()
	var srcs []config.SubjectSource
	for name, q := range queries {
		path := filepath.Join(dir, name+".sql")
		require.NoError(t, os.WriteFile(path, []byte(q), 0o600))
		srcs = append(srcs, config.SubjectSource{Name: name, Driver: "postgres", DSNEnv: "SHOP_DSN", Query: path, Params: []string{"window_from", "window_to"}, Timeout: timeout})
	}
	store, err := datasets.Open(filepath.Join(dir, "datasets"), 0)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	a := &Activities{Datasets: StoreDatasets{Store: store}, Snapshots: StoreDatasets{Store: store}, Dir: t.TempDir(),
		Sources: sqlsource.Sources{Config: srcs, Getenv: func(k string) string {
			if k == "SHOP_DSN" {
				return pg.DSN
			}
			return ""
		}}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env, a, store
}

func sqlRef(source string) incident.DatasetRef {
	from, to := sqlsourcetest.WindowFrom, sqlsourcetest.WindowTo
	return incident.SQLRef(source, &from, &to)
}

// The snapshot is the rows of the query as a dataset of the store, which the scope then reads
// as any dataset; the same rows make the same dataset, changed rows a new one.
func TestSnapshotSubjectsKeepsTheRowsInTheStore(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	table := pg.Table("customers")
	cs := sqlsourcetest.Customers(3000, 11)
	pg.LoadPostgres(t, table, cs)
	env, _, store := snapshotEnv(t, pg, map[string]string{"shop": fmt.Sprintf(sqlsourcetest.PostgresQuery, table)}, time.Minute)

	snap := func() incident.SnapshotResult {
		t.Helper()
		v, err := env.ExecuteActivity((&Activities{}).SnapshotSubjects, incident.SnapshotInput{IncidentID: testIncident, Dataset: sqlRef("shop")})
		require.NoError(t, err)
		var res incident.SnapshotResult
		require.NoError(t, v.Get(&res))
		return res
	}
	res := snap()
	csvPath := filepath.Join(t.TempDir(), "customers.csv")
	sqlsourcetest.WriteCSV(t, csvPath, cs)
	want, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	name, err := datasets.NameOf(res.Dataset.URI)
	require.NoError(t, err)
	assert.Regexp(t, `^sql-shop-[0-9a-f]{12}\.csv$`, name)
	got, err := os.ReadFile(filepath.Join(store.Dir(), name))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Equal(t, "sql:shop", res.Dataset.Source)
	assert.Len(t, res.Dataset.SHA256, 64)
	assert.EqualValues(t, len(want), res.Bytes)
	inWindow := 0
	for _, c := range cs {
		if c.InWindow() {
			inWindow++
		}
	}
	assert.EqualValues(t, inWindow, res.Rows)

	v, err := env.ExecuteActivity((&Activities{}).AssessScope, incident.ScopeInput{IncidentID: testIncident, Dataset: res.Dataset})
	require.NoError(t, err)
	var scope incident.ScopeResult
	require.NoError(t, v.Get(&scope))
	assert.Equal(t, inWindow, scope.Summary.Rows)
	assert.Equal(t, res.Dataset.SHA256, scope.Summary.SHA256)

	assert.Equal(t, res, snap(), "the same rows, the same snapshot")
	pg.Exec(t, "DELETE FROM "+table+" WHERE pk % 10 = 0")
	again := snap()
	assert.NotEqual(t, res.Dataset.URI, again.Dataset.URI)
	assert.Less(t, again.Rows, res.Rows)
	before, err := os.ReadFile(filepath.Join(store.Dir(), name))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(before), "the first snapshot is kept as it was")
}

// A timeout is retried by Temporal; a query the database refuses, a source the worker does not
// know, are not.
func TestSnapshotSubjectsErrors(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	table := pg.Table("customers")
	pg.LoadPostgres(t, table, sqlsourcetest.Customers(10, 12))
	env, _, store := snapshotEnv(t, pg, map[string]string{
		"slow":    "SELECT 'C1' AS id, 'a@example.net' AS email, 'DE' AS country FROM pg_sleep(30) WHERE now() BETWEEN $1 AND $2",
		"deletes": "DELETE FROM " + table + " WHERE created_at BETWEEN $1 AND $2 RETURNING customer_id AS id, email, country",
	}, time.Second)
	for _, tt := range []struct {
		source, errType string
		retryable       bool
		has             string
	}{
		{"slow", incident.ErrTypeSubjectsSourceUnavailable, true, "subjects source slow: the query ran longer than its statement timeout of 1s"},
		{"deletes", incident.ErrTypeSubjectsSource, false, "subjects source deletes: the read-only transaction refused the query"},
		{"unknown", incident.ErrTypeSubjectsSource, false, "subjects source unknown: there is no source of that name in this configuration"},
	} {
		t.Run(tt.source, func(t *testing.T) {
			_, err := env.ExecuteActivity((&Activities{}).SnapshotSubjects, incident.SnapshotInput{IncidentID: testIncident, Dataset: sqlRef(tt.source)})
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			assert.Equal(t, tt.errType, appErr.Type())
			assert.Equal(t, !tt.retryable, appErr.NonRetryable())
			assert.Contains(t, appErr.Error(), tt.has)
		})
	}
	infos, err := store.List()
	require.NoError(t, err)
	assert.Empty(t, infos, "a failed snapshot leaves nothing in the store")
	entries, err := os.ReadDir(store.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries)
}
