package activities

import (
	"github.com/breachops/breach/incident"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/register"
)

// RegisterStore keeps the breach register (internal/register): every incident from its
// declaration, a new version at each change, none rewritten.
type RegisterStore interface {
	Record(ctx context.Context, c register.Content) (register.Entry, bool, error)
}

type RegisterInput = incident.RegisterInput

// RegisterOutput names the version that holds the entry.
type RegisterOutput struct {
	Seq     int64  `json:"seq,omitempty"`
	Version int    `json:"version,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// Added is false when the latest version already said the same (a retried activity).
	Added bool `json:"added,omitempty"`
}

const (
	ErrTypeRegisterInput = incident.ErrTypeRegisterInput
)

// RecordRegister records the incident's register entry as its latest version, unless that
// version says the same already. Without a register (tests) it records nothing.
func (a *Activities) RecordRegister(ctx context.Context, in RegisterInput) (RegisterOutput, error) {
	return a.recordRegister(ctx, in.Content)
}

func (a *Activities) recordRegister(ctx context.Context, c register.Content) (RegisterOutput, error) {
	if a.Register == nil {
		return RegisterOutput{}, nil
	}
	e, added, err := a.Register.Record(ctx, c)
	if err != nil {
		var ie *register.InputError
		if errors.As(err, &ie) {
			return RegisterOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRegisterInput, nil)
		}
		return RegisterOutput{}, fmt.Errorf("record the register entry of %s: %w", c.IncidentID, err)
	}
	return RegisterOutput{Seq: e.Seq, Version: e.Version, SHA256: e.Hash, Added: added}, nil
}

var RegisterContent = incident.RegisterContentOf

// ClosedContent is the register's last version of a closed incident: RegisterContent with the
// hashes of the files closing left under root, where this machine has them.
func ClosedContent(root string, rec IncidentRecord) register.Content {
	c := RegisterContent(rec, time.Time{})
	c.Evidence = append(c.Evidence, closeEvidence(root, rec)...)
	return c
}

// closeEvidence hashes the files closing leaves as evidence: the reports submitted, the
// containment evidence, the post-incident report and the timeline.
func closeEvidence(root string, rec IncidentRecord) []register.Evidence {
	type file struct{ what, name string }
	var files []file
	for _, o := range rec.Obligations {
		files = append(files, file{"report", o.ID + ".md"})
		for _, s := range o.Supplements {
			files = append(files, file{"report", fmt.Sprintf("%s.supplement-%d.md", o.ID, s.Sequence)})
		}
	}
	files = append(files, file{"containment-evidence", "containment-evidence.jsonl"},
		file{"post-incident-report", "post-incident-report.md"}, file{"timeline", "timeline.md"})
	var ev []register.Evidence
	for _, f := range files {
		var p string
		var err error
		if f.what == "report" {
			p, err = reportPath(root, rec.IncidentID, f.name)
		} else {
			p, err = IncidentPath(root, rec.IncidentID, f.name)
		}
		if err != nil {
			continue
		}
		if sum, err := fileSHA256(p); err == nil {
			ev = append(ev, register.Evidence{What: f.what, Name: f.name, SHA256: sum})
		}
	}
	return ev
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
