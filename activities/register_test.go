package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/register"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

var registerAware = time.Date(2026, 11, 28, 8, 10, 0, 0, time.UTC)

func registerRecord() IncidentRecord {
	return IncidentRecord{
		IncidentID: testIncident, Title: "Backup bucket exposed", Source: "cli", DeclaredBy: "cli:ic",
		AwareAt: registerAware, AwareZone: "Europe/Berlin", Organisation: Organisation{Name: "Example Shop"},
		Systems:     []string{"shop-db"},
		Containment: []SystemStatus{{System: "shop-db", State: ContainContained, Provider: "dry-run", Updated: registerAware}},
		Dataset:     DatasetRef{URI: "dataset:export", SHA256: "6b48ad1dbb9397de78047f553ef8218387666c59cc715af51137f7f736a42d58"},
		Scope: &subjects.Summary{Subjects: 10, Records: 20, ByJurisdiction: map[string]int{"DE": 10},
			ByCategory: map[string]int{"contact": 10}, SHA256: "6b48ad1dbb9397de78047f553ef8218387666c59cc715af51137f7f736a42d58"},
		Timeline: []Event{{At: registerAware.Add(time.Hour), Kind: "declared", Text: "declared"}},
	}
}

func TestRegisterContentCarriesTheArticle33_5FieldsAndNoProgress(t *testing.T) {
	rec := registerRecord()
	c := RegisterContent(rec, time.Time{})
	require.Equal(t, register.StatusOpen, c.Status)
	require.Equal(t, registerAware.Add(time.Hour), c.DeclaredAt)
	require.Equal(t, "Example Shop", c.Organisation)
	require.Equal(t, []register.Evidence{{What: "dataset", Name: "dataset:export", SHA256: rec.Dataset.SHA256}}, c.Evidence)

	rec.Decision = &Decision{By: "cli:dpo", Risk: "high", NotifyAuthority: true, NotifySubjects: true, Reasoning: "exfiltrated",
		Consequences: "phishing", Measures: "keys rotated", DecidedAt: registerAware.Add(2 * time.Hour),
		Signature: &incident.Signature{Signer: "cli:dpo", KeyID: "ed25519:k1"}}
	rec.Obligations = []ObligationStatus{
		{Obligation: rules.Obligation{ID: "gdpr-art33-authority", Basis: "GDPR Art. 33(1)", DueAt: registerAware.Add(72 * time.Hour)},
			State: OblAwaitingFiling, Late: true, Reasons: "portal down"},
	}
	rec.Alerts = AlertProgress{State: "sending", Total: 9, Sent: 3}
	c = RegisterContent(rec, time.Time{})
	require.Equal(t, register.StatusNotifying, c.Status)
	require.Equal(t, "phishing", c.Consequences)
	require.Equal(t, "keys rotated", c.Measures)
	require.Equal(t, "ed25519:k1", c.Decision.KeyID)
	require.Equal(t, register.ObligationPending, c.Obligations[0].State)
	require.False(t, c.Obligations[0].Late, "late is a filing's, not a pending obligation's")

	// Progress is not a change of the register: the same content while notices go out.
	rec.Alerts.Sent = 7
	require.Equal(t, c, RegisterContent(rec, time.Time{}))

	rec.Obligations[0].State, rec.Obligations[0].SubmittedAt, rec.Obligations[0].Reference = OblFiled, registerAware.Add(80*time.Hour), "DPA-1"
	rec.Alerts = AlertProgress{State: "done", Total: 9, Sent: 9}
	c = RegisterContent(rec, time.Time{})
	require.Equal(t, register.StatusNotified, c.Status)
	require.True(t, c.Obligations[0].Late)
	require.Equal(t, "portal down", c.Obligations[0].Reasons)
	require.Equal(t, 9, c.Notices.Sent)

	require.Equal(t, register.StatusCancelled, RegisterContent(rec, registerAware.Add(90*time.Hour)).Status)
}

// Closing records the last version, with the hashes of what closing wrote; the same close
// retried adds nothing.
func TestWriteRecordsRecordsTheClosedVersion(t *testing.T) {
	root := t.TempDir()
	reg, err := register.OpenFiles(filepath.Join(root, "register", "entries"))
	require.NoError(t, err)
	a := &Activities{Dir: root, Register: reg}
	rec := registerRecord()
	rec.Decision = &Decision{By: "cli:dpo", Risk: "unlikely", Reasoning: "encrypted", DecidedAt: registerAware.Add(2 * time.Hour)}
	rec.NotRequired = []rules.NotRequired{{ID: "gdpr-art33-authority", Reason: "unlikely to result in a risk"}}
	ctx := context.Background()
	_, err = a.RecordRegister(ctx, RegisterInput{Content: RegisterContent(rec, time.Time{})})
	require.NoError(t, err)

	rec.ClosedAt, rec.ClosedBy = registerAware.Add(3*time.Hour), "cli:ic"
	out, err := a.WriteRecords(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, 2, out.RegisterVersion)
	require.Len(t, out.RegisterSHA256, 64)
	again, err := a.WriteRecords(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, out.RegisterSHA256, again.RegisterSHA256, "a retried close records no second version")

	versions, err := reg.History(ctx, testIncident)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	last := versions[1].Effective()
	require.Equal(t, register.StatusNotNotified, last.Status)
	require.False(t, last.ClosedAt.IsZero())
	what := map[string]string{}
	for _, e := range last.Evidence {
		what[e.What] = e.SHA256
	}
	report, err := os.ReadFile(out.Report)
	require.NoError(t, err)
	require.NotEmpty(t, report)
	sum := sha256.Sum256(report)
	require.Equal(t, hex.EncodeToString(sum[:]), what["post-incident-report"])
	require.Contains(t, what, "timeline")
	require.Contains(t, what, "dataset")
}
