package activities

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/rules"
)

// badIDs are inputs that once became paths outside BREACH_HOME.
var badIDs = []string{"../../x", "..", "../INC-20261128-7F3A", "INC-20261128-7F3A/../../x", "/etc/passwd", "INC-1", "inc-20261128-7f3a", "", "INC-20261128-7F3A\x00"}

func TestEveryPathFromAnIDChecksTheID(t *testing.T) {
	root := t.TempDir()
	helpers := map[string]func(id string) (string, error){
		"IncidentPath":     func(id string) (string, error) { return IncidentPath(root, id, "timeline.md") },
		"DrillReportPaths": func(id string) (string, error) { md, _, err := DrillReportPaths(root, id); return md, err },
	}
	for name, h := range helpers {
		t.Run(name, func(t *testing.T) {
			p, err := h(testIncident)
			require.NoError(t, err)
			rel, err := filepath.Rel(root, p)
			require.NoError(t, err)
			assert.True(t, filepath.IsLocal(rel), "%s is not under %s", p, root)
			assert.Contains(t, p, testIncident)
			for _, id := range badIDs {
				p, err := h(id)
				assert.ErrorContains(t, err, "not an incident ID", "%q", id)
				assert.Empty(t, p, "%q", id)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		elems []string
		ok    bool
	}{
		{[]string{"incidents", testIncident, "reports", "a.md"}, true},
		{nil, true},
		{[]string{"a", "..", "b"}, true},
		{[]string{".."}, false},
		{[]string{"a", "../.."}, false},
		{[]string{"/etc", "passwd"}, false},
		{[]string{"reports", "../../../x"}, false},
	}
	for _, tt := range tests {
		p, err := Under("/var/breach", tt.elems...)
		if tt.ok {
			assert.NoError(t, err, "%q", tt.elems)
			continue
		}
		assert.Error(t, err, "%q gave %s", tt.elems, p)
	}
}

// Activities refuse a bad ID or a name with a path in it with a non-retryable error, and write
// nothing anywhere.
func TestActivitiesRefuseBadPathsAndWriteNothing(t *testing.T) {
	for _, id := range []string{"../../x", "INC-1"} {
		t.Run(id, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			a := &Activities{Dir: home}
			d := &DrillActivities{Dir: home}
			ctx := context.Background()
			_, err := a.WriteRecords(ctx, IncidentRecord{IncidentID: id})
			assertBadPath(t, err)
			_, err = a.DraftReport(ctx, ReportInput{IncidentID: id, Obligation: rules.Obligation{ID: "gdpr-art33-authority"}})
			assertBadPath(t, err)
			_, err = d.WriteDrillReport(ctx, DrillReport{IncidentID: id})
			assertBadPath(t, err)
			assert.NoDirExists(t, home)
		})
	}
	t.Run("an obligation id with a path", func(t *testing.T) {
		home := t.TempDir()
		a := &Activities{Dir: home}
		_, err := a.DraftReport(context.Background(), ReportInput{IncidentID: testIncident, Obligation: rules.Obligation{ID: "../../../x"}})
		assertBadPath(t, err)
		assert.Empty(t, filesUnder(t, filepath.Dir(home)))
	})
}

func assertBadPath(t *testing.T, err error) {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %v", err)
	assert.Equal(t, ErrTypeBadPath, ae.Type())
	assert.True(t, ae.NonRetryable())
}

// LoadDrillReport and LoadDrillMarkdown read under the drills directory only: not through an
// ID, not through a symbolic link placed there.
func TestDrillReportsAreReadUnderTheDrillsDirectory(t *testing.T) {
	home := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.md")
	require.NoError(t, os.WriteFile(secret, []byte("not a drill"), 0o600))
	dir := DrillsDir(home)
	require.NoError(t, os.MkdirAll(dir, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, testIncident+".json"), []byte(`{"incident_id":"`+testIncident+`"}`), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, testIncident+".md")))

	r, err := LoadDrillReport(home, testIncident)
	require.NoError(t, err)
	assert.Equal(t, testIncident, r.IncidentID)
	_, err = LoadDrillMarkdown(home, testIncident)
	assert.Error(t, err, "a link out of the drills directory is not followed")
	for _, id := range badIDs {
		_, err := LoadDrillReport(home, id)
		assert.ErrorContains(t, err, "not an incident ID")
	}
	// A file that is not named by an ID is not a drill: history passes over it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.json"), []byte(`{}`), 0o600))
	h, err := DrillHistory(home)
	require.NoError(t, err)
	assert.Len(t, h, 1)
}

func filesUnder(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// testKey is a fixed pseudonym key for tests.
func testKey(t *testing.T) *pseudonym.Key {
	t.Helper()
	k, err := pseudonym.NewKey([]byte("a test key that is 32 bytes long"))
	require.NoError(t, err)
	return k
}
