package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/pseudonym"
)

// unkeyed is how subject keys were made before pseudonym keys: anyone holding the ledger could
// confirm a known address with it.
func unkeyed(incidentID, email string) string {
	h := sha256.Sum256([]byte(incidentID + "\x00" + strings.ToLower(email)))
	return hex.EncodeToString(h[:16])
}

// The ledger names people by keyed pseudonyms: a known address cannot be looked up without the
// key. An incident whose notices began before keys keeps the unkeyed scheme to its end, so its
// later runs still find who was notified.
func TestLedgerPseudonymsAreKeyed(t *testing.T) {
	const inc = "INC-20261128-0001"
	addr := "person7@example.net"
	tests := []struct {
		name   string
		before func(f *sgFixture) // the ledger before this worker's first notice
		keyed  bool
	}{
		{"a new incident", func(*sgFixture) {}, true},
		{"an incident whose notices began before keys", func(f *sgFixture) {
			require.NoError(t, f.led.MarkSending(context.Background(), inc, inc+"/notice/0123456789ab/0000001-0001000/gdpr-art34-notice.any.nc"))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSGFixture(t)
			ref := f.scope(dataset(t, 1200))
			tt.before(f)
			_, errs := f.run(ref, 3000, notice(), 1)
			require.Empty(t, errs)
			ctx := context.Background()
			keyed, legacy := f.subjectKey(inc, addr), unkeyed(inc, addr)
			require.NotEqual(t, keyed, legacy)
			o, err := f.led.Subject(ctx, inc, keyed)
			_, lerr := f.led.Subject(ctx, inc, legacy)
			if tt.keyed {
				require.NoError(t, err)
				require.Equal(t, ledger.Sent, o.Outcome)
				require.ErrorIs(t, lerr, ledger.ErrNotFound, "the unkeyed pseudonym confirms the address")
			} else {
				require.ErrorIs(t, err, ledger.ErrNotFound)
				require.NoError(t, lerr, "the incident kept its unkeyed scheme")
			}
		})
	}
}

// A worker with another key than the one an incident's notices began under sends nothing for
// it: its pseudonyms would not match the ledger's, and people would be notified twice. The
// error is retried (another worker may hold the right key) and says what to do.
func TestAWorkerWithAnotherKeySendsNothing(t *testing.T) {
	const inc = "INC-20261128-0001"
	f := newSGFixture(t)
	ref := f.scope(dataset(t, 1200))
	first := f.acts.Pseudonyms
	_, err := ledgerKeys(context.Background(), f.sg, first, inc) // the incident's notices begin under the first key
	require.NoError(t, err)

	other, err := pseudonym.NewKey([]byte("another key, also 32 bytes long!"))
	require.NoError(t, err)
	f.acts.Pseudonyms = other
	_, err = f.chunk(NoticeChunkInput{IncidentID: inc, Dataset: ref, MaxRows: 3000, Notice: notice()})
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, ErrTypePseudonymKey, ae.Type())
	require.False(t, ae.NonRetryable())
	require.Contains(t, err.Error(), first.ID())
	require.Contains(t, err.Error(), pseudonym.EnvKey)
	require.Empty(t, f.srv.Requests(), "nothing was sent")

	f.acts.Pseudonyms = nil
	_, err = f.chunk(NoticeChunkInput{IncidentID: inc, Dataset: ref, MaxRows: 3000, Notice: notice()})
	require.ErrorContains(t, err, "no pseudonym key")
}

// On the outbox path notices are files named by pseudonym: keyed for a new incident, unkeyed
// for one whose notices are in the outbox from before keys.
func TestOutboxPseudonyms(t *testing.T) {
	const inc = "INC-20261128-0001"
	for _, legacy := range []bool{false, true} {
		t.Run(map[bool]string{false: "a new incident", true: "an incident with notices from before"}[legacy], func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			a, _ := newTestActivities(t)
			env.RegisterActivity(a)
			notices := filepath.Join(a.Dir, "outbox", inc, "notices")
			if legacy {
				require.NoError(t, os.MkdirAll(notices, 0o750))
				require.NoError(t, os.WriteFile(filepath.Join(notices, unkeyed(inc, "person1@example.net")+".eml"), []byte("From: x\r\n\r\nold"), 0o640))
			}
			scope := assess(t, env, a, dataset(t, 3))
			runChunks(t, env, a, scope.Dataset, 10)
			keyed, err := subjectKey(a.Pseudonyms, inc, "person2@example.net")
			require.NoError(t, err)
			want, notWant := keyed, unkeyed(inc, "person2@example.net")
			if legacy {
				want, notWant = notWant, want
			}
			require.FileExists(t, filepath.Join(notices, want+".eml"))
			require.NoFileExists(t, filepath.Join(notices, notWant+".eml"))
		})
	}
}

// subjectKey is the pseudonym of the person with address email in an incident under key k (the
// scheme of incidents whose notices began under it), as the ledger names a person's outcome.
func subjectKey(k *pseudonym.Key, incidentID, email string) (string, error) {
	derive, err := k.For(k.Scheme())
	if err != nil {
		return "", err
	}
	return subjectKeys{incident: incidentID, derive: derive}.address(email), nil
}
