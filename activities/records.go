package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/templates"
)

type CloseOutput = incident.CloseOutput

// WriteRecords writes the breach-register entry, the post-incident report and the timeline.
func (a *Activities) WriteRecords(ctx context.Context, rec IncidentRecord) (CloseOutput, error) {
	keys := map[string]string{}
	var err error
	for name, key := range map[string]func() (string, error){
		"register":             func() (string, error) { return records.RegisterEntryKey(rec.IncidentID) },
		"post-incident-report": func() (string, error) { return records.Key(rec.IncidentID, records.PostIncidentReport) },
		"timeline":             func() (string, error) { return records.Key(rec.IncidentID, records.Timeline) },
		"evidence":             func() (string, error) { return records.EvidencePrefix(rec.IncidentID) },
	} {
		if keys[name], err = key(); err != nil {
			return CloseOutput{}, pathError(err)
		}
	}
	st, err := a.records()
	if err != nil {
		return CloseOutput{}, err
	}
	out := CloseOutput{Register: st.Where(keys["register"]), Report: st.Where(keys["post-incident-report"]),
		Timeline: st.Where(keys["timeline"]), Evidence: st.Where(keys["evidence"])}
	entry, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return CloseOutput{}, err
	}
	if err := st.Put(ctx, keys["register"], append(entry, '\n')); err != nil {
		return CloseOutput{}, fmt.Errorf("write register entry for %s: %w", rec.IncidentID, err)
	}
	for _, name := range []string{"post-incident-report", "timeline"} {
		text, err := templates.Render(name, rec)
		if err != nil {
			return CloseOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
		}
		if err := st.Put(ctx, keys[name], []byte(strings.TrimLeft(text, "\n"))); err != nil {
			return CloseOutput{}, fmt.Errorf("write %s for %s: %w", name, rec.IncidentID, err)
		}
	}
	// The register's last version: the closed incident, with the hashes of what closing left.
	reg, err := a.recordRegister(ctx, ClosedContent(ctx, st, rec))
	if err != nil {
		return CloseOutput{}, err
	}
	out.RegisterVersion, out.RegisterSHA256 = reg.Version, reg.SHA256
	return out, nil
}
