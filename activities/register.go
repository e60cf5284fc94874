package activities

import (
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// hashes of the records closing left in the store.
func ClosedContent(ctx context.Context, st *store.Store, rec IncidentRecord) register.Content {
	c := RegisterContent(rec, time.Time{})
	c.Evidence = append(c.Evidence, closeEvidence(ctx, st, rec)...)
	return c
}

// closeEvidence hashes the records closing leaves as evidence: the reports submitted, the
// containment evidence, the post-incident report and the timeline.
func closeEvidence(ctx context.Context, st *store.Store, rec IncidentRecord) []register.Evidence {
	type record struct{ what, name string }
	var recs []record
	for _, o := range rec.Obligations {
		recs = append(recs, record{"report", o.ID + ".md"})
		for _, s := range o.Supplements {
			recs = append(recs, record{"report", fmt.Sprintf("%s.supplement-%d.md", o.ID, s.Sequence)})
		}
	}
	recs = append(recs, record{"containment-evidence", records.EvidenceLog},
		record{"post-incident-report", records.PostIncidentReport}, record{"timeline", records.Timeline})
	var ev []register.Evidence
	for _, r := range recs {
		var data []byte
		var err error
		switch r.what {
		case "report":
			var k string
			if k, err = records.ReportKey(rec.IncidentID, r.name); err == nil {
				data, err = st.Get(ctx, k)
			}
		case "containment-evidence":
			data, err = records.EvidenceLogOf(ctx, st, rec.IncidentID)
			if err == nil && len(data) == 0 {
				continue
			}
		default:
			var k string
			if k, err = records.Key(rec.IncidentID, r.name); err == nil {
				data, err = st.Get(ctx, k)
			}
		}
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		ev = append(ev, register.Evidence{What: r.what, Name: r.name, SHA256: hex.EncodeToString(sum[:])})
	}
	return ev
}
