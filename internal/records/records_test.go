package records

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/store"
)

const id = "INC-20261128-7F3A"

// badIDs are inputs that once became paths outside BREACH_HOME.
var badIDs = []string{"../../x", "..", "../INC-20261128-7F3A", "INC-20261128-7F3A/../../x", "/etc/passwd", "INC-1", "inc-20261128-7f3a", "", "INC-20261128-7F3A\x00"}

func TestEveryKeyFromAnIDChecksTheID(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	keys := map[string]func(id string) (string, error){
		"Key":                   func(id string) (string, error) { return Key(id, Timeline) },
		"ReportKey":             func(id string) (string, error) { return ReportKey(id, "gdpr-art33-authority.md") },
		"ReportsPrefix":         ReportsPrefix,
		"RegisterEntryKey":      RegisterEntryKey,
		"DuplicatesKey":         func(id string) (string, error) { return DuplicatesKey(id, sha) },
		"PossiblyDuplicatedKey": PossiblyDuplicatedKey,
		"PseudonymSchemeKey":    PseudonymSchemeKey,
		"EvidencePrefix":        EvidencePrefix,
	}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			key, err := k(id)
			require.NoError(t, err)
			assert.Contains(t, key, id)
			require.NoError(t, store.CheckKey(strings.TrimSuffix(key, "/")))
			for _, bad := range badIDs {
				key, err := k(bad)
				assert.ErrorContains(t, err, "not an incident ID", "%q", bad)
				assert.Empty(t, strings.Trim(key, "/"), "%q", bad)
			}
		})
	}
	for _, name := range []string{"../x.md", "a/b.md", "", ".hidden"} {
		_, err := ReportKey(id, name)
		assert.Error(t, err, "report name %q", name)
	}
	_, err := DuplicatesKey(id, "../../../../etc/passwd")
	assert.ErrorContains(t, err, "not the SHA-256")
}

// Evidence is kept one record per key: the same record added twice (a retried activity) is kept
// once, records come back oldest first, and an installation's evidence file from before the
// store comes first.
func TestEvidence(t *testing.T) {
	ctx := context.Background()
	st, err := store.Local(t.TempDir())
	require.NoError(t, err)
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	legacy := incident.Evidence{System: "old-db", Provider: "dry-run", Action: "isolate", At: at.Add(-time.Hour)}
	key, err := Key(id, EvidenceLog)
	require.NoError(t, err)
	require.NoError(t, st.Put(ctx, key, []byte(`{"system":"old-db","provider":"dry-run","action":"isolate","at":"2026-11-28T08:00:00Z"}`+"\n")))
	later := incident.Evidence{System: "shop-db", Provider: "nftables", Action: "release", At: at.Add(time.Minute)}
	first := incident.Evidence{System: "shop-db", Provider: "nftables", Action: "isolate", At: at}
	for _, ev := range []incident.Evidence{later, first, first} {
		require.NoError(t, AddEvidence(ctx, st, id, ev))
	}
	got, err := Evidence(ctx, st, id)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"old-db", "isolate", "release"}, []string{got[0].System, got[1].Action, got[2].Action})
	assert.True(t, got[0].At.Equal(legacy.At))
	log, err := EvidenceLogOf(ctx, st, id)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(log), "\n"))

	none, err := EvidenceLogOf(ctx, st, "INC-20261128-0001")
	require.NoError(t, err)
	assert.Empty(t, none)
}
