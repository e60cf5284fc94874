package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/templates"
)

type CloseOutput = incident.CloseOutput

// RegisterDir holds one breach-register entry per incident.
func RegisterDir(root string) string { return filepath.Join(root, "register") }

// RegisterPath is the breach-register entry of an incident, <root>/register/<id>.json.
func RegisterPath(root, incidentID string) (string, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return "", err
	}
	return Under(RegisterDir(root), incidentID+".json")
}

// WriteRecords writes the breach-register entry, the post-incident report and the timeline.
func (a *Activities) WriteRecords(ctx context.Context, rec IncidentRecord) (CloseOutput, error) {
	var out CloseOutput
	var err error
	for _, p := range []struct {
		dst *string
		get func() (string, error)
	}{
		{&out.Register, func() (string, error) { return RegisterPath(a.Dir, rec.IncidentID) }},
		{&out.Report, func() (string, error) { return IncidentPath(a.Dir, rec.IncidentID, "post-incident-report.md") }},
		{&out.Timeline, func() (string, error) { return IncidentPath(a.Dir, rec.IncidentID, "timeline.md") }},
		{&out.Evidence, func() (string, error) { return EvidencePath(a.Dir, rec.IncidentID) }},
	} {
		if *p.dst, err = p.get(); err != nil {
			return CloseOutput{}, pathError(err)
		}
	}
	entry, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return CloseOutput{}, err
	}
	if err := writeFileAtomic(out.Register, append(entry, '\n')); err != nil {
		return CloseOutput{}, fmt.Errorf("write register entry for %s: %w", rec.IncidentID, err)
	}
	for name, path := range map[string]string{"post-incident-report": out.Report, "timeline": out.Timeline} {
		text, err := templates.Render(name, rec)
		if err != nil {
			return CloseOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
		}
		if err := writeFileAtomic(path, []byte(strings.TrimLeft(text, "\n"))); err != nil {
			return CloseOutput{}, fmt.Errorf("write %s for %s: %w", name, rec.IncidentID, err)
		}
	}
	// The register's last version: the closed incident, with the hashes of what closing left.
	reg, err := a.recordRegister(ctx, ClosedContent(a.Dir, rec))
	if err != nil {
		return CloseOutput{}, err
	}
	out.RegisterVersion, out.RegisterSHA256 = reg.Version, reg.SHA256
	return out, nil
}
