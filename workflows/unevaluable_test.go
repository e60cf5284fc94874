package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// A declaration the rules could never evaluate, or that nobody could decide, does not start.
func TestValidateDeclarationRefusesWhatNobodyCouldDecide(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *incident.Declaration)
		errHas []string // empty: accepted
	}{
		{"as configured", func(*incident.Declaration) {}, nil},
		{"no sectors, role or zone", func(d *incident.Declaration) {
			d.Organisation.Sectors, d.Organisation.Role, d.Organisation.Timezone = nil, "", ""
		}, nil},
		{"known sectors", func(d *incident.Declaration) { d.Organisation.Sectors = []string{"us-listed", "nis2-important"} }, nil},
		{"unknown sector", func(d *incident.Declaration) { d.Organisation.Sectors = []string{"us-listed", "retail"} },
			[]string{`declaration: the organisation's sector "retail" is unknown to the rulebook`, "(breach.yaml, organisation.sectors)",
				"known sectors are health-covered-entity, nis2-essential, nis2-important, us-listed"}},
		{"misspelt sector", func(d *incident.Declaration) { d.Organisation.Sectors = []string{"nis2-importnat"} },
			[]string{"(did you mean nis2-important?)"}},
		{"UK for GB", func(d *incident.Declaration) { d.Organisation.Establishments = []string{"DE", "UK"} },
			[]string{`establishment "UK" is not a jurisdiction the rulebook knows`, "organisation.establishments", "use GB"}},
		{"unknown role", func(d *incident.Declaration) { d.Organisation.Role = "owner" },
			[]string{`role "owner" is unknown`, "organisation.role", "known roles are controller, processor"}},
		{"Local time zone", func(d *incident.Declaration) { d.Organisation.Timezone = "Local" },
			[]string{`time zone "Local" cannot be used`, "organisation.timezone", "IANA"}},
		{"no DPO", func(d *incident.Declaration) { d.Roles.DPO = nil },
			[]string{"nobody holds the dpo role", "roles.dpo"}},
		{"no commander", func(d *incident.Declaration) { d.Roles.Commander = nil },
			[]string{"nobody holds the commander role", "roles.commander"}},
		{"the shape is still checked", func(d *incident.Declaration) { d.Title = " " },
			[]string{"title is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := declaration()
			tt.change(&d)
			err := ValidateDeclaration(d)
			if len(tt.errHas) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tt.errHas {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// The workflows themselves check only the shape, as they always have, so incidents declared
// before the organisation facts were checked still start, and replay, unchanged.
func TestWorkflowsCheckOnlyTheShape(t *testing.T) {
	d := declaration()
	d.Organisation.Sectors = []string{"retail"}
	d.Roles = incident.Roles{}
	require.NoError(t, validateShape(d))
	d.Systems = nil
	require.Error(t, validateShape(d))
}

// The rules' refusal of an incident's facts becomes a reason the person acting can act on.
func TestUnevaluableSaysWhoCorrectsWhichFact(t *testing.T) {
	zero := time.Time{}
	tests := []struct {
		name   string
		change func(d *incident.Declaration, dec *incident.Decision)
		what   string
		errHas []string
	}{
		{"sector from the configuration", func(d *incident.Declaration, _ *incident.Decision) { d.Organisation.Sectors = []string{"retail"} }, "decision",
			[]string{`the organisation's sector "retail" is unknown to the rulebook; the configuration (breach.yaml, organisation.sectors) must be corrected: known sectors are`,
				"Incident INC-20261128-7E57 keeps the organisation facts it was declared with, so no decision can be recorded in it",
				"declare the breach again", "temporal workflow cancel --workflow-id incident/INC-20261128-7E57"}},
		{"sector of a drill", func(d *incident.Declaration, _ *incident.Decision) {
			d.Organisation.Sectors = []string{"retail"}
			d.Drill = true
		}, "decision",
			[]string{"(or, in a drill, the scenario's facts.sectors)"}},
		{"establishment", func(d *incident.Declaration, _ *incident.Decision) { d.Organisation.Establishments = []string{"EU"} }, "amendment",
			[]string{`establishment "EU"`, "organisation.establishments", "no amendment can be recorded"}},
		{"materiality of the decision", func(_ *incident.Declaration, dec *incident.Decision) { dec.MaterialityDeterminedAt = &zero }, "decision",
			[]string{"the decision's materiality_determined_at: zero time", "the DPO can send the decision again with it corrected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, dec := declaration(), highRisk("dpo")
			tt.change(&d, &dec)
			inc := &incidentImpl{decl: d}
			_, err := rules.Evaluate(inc.facts(dec))
			require.Error(t, err, "the rules should refuse these facts")
			err = inc.unevaluable(err, tt.what)
			for _, s := range tt.errHas {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}
