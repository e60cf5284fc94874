package templates_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/breachops/breach/incident"
)

// A state attorney general asks whether law enforcement is investigating: the report says who
// asked for a delay, and when it was lifted.
func TestStateAGReportSaysLawEnforcementIsInvestigating(t *testing.T) {
	o := audObligation(t, "us-tx-attorney-general")
	in := audInput(o)
	_, body := audRenderReport(t, in, true)
	assert.Contains(t, body, "Whether law enforcement is investigating: not recorded")
	asked := time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)
	in.Delays = []incident.LawEnforcementDelay{{Sequence: 1, Agency: "FBI Dallas field office", Official: "SA J. Roe", Reference: "FBI-DL-7",
		RequestedAt: asked, LiftedAt: asked.Add(72 * time.Hour), LiftedBy: "cli:dana"}}
	_, body = audRenderReport(t, in, true)
	assert.Contains(t, body, "Whether law enforcement is investigating: yes; FBI Dallas field office (SA J. Roe) asked in writing on 2026-03-12T16:00:00Z, reference FBI-DL-7, until it is lifted (the delay it asked for was lifted 2026-03-15 16:00 UTC)")
}
