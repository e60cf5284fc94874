package rules

import (
	"strings"
	"testing"
	"time"
)

// Where the law bounds a law-enforcement delay, the obligation carries the bound; where it does
// not, the request's own period (or the lift) decides; the GDPR has no delay at all.
func TestLawEnforcementDelayLimits(t *testing.T) {
	aware := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	materiality := aware.Add(24 * time.Hour)
	res, err := Evaluate(Facts{AwareAt: aware, Timezone: "America/Los_Angeles", Establishments: []string{"US"}, Sectors: []string{"health-covered-entity", "us-listed"},
		SubjectsByJurisdiction: map[string]int{"US-CA": 700, "DE": 3}, Risk: "high", MaterialityDeterminedAt: &materiality})
	if err != nil {
		t.Fatal(err)
	}
	obs := map[string]Obligation{}
	for _, o := range res.Obligations {
		obs[o.ID] = o
	}
	requested := aware.Add(48 * time.Hour)
	written := requested.Add(90 * 24 * time.Hour)
	for _, c := range []struct {
		id          string
		delayable   bool
		oral, until time.Time // the delay's end for an oral request and a written one until written
		law         string
	}{
		{"hipaa-individuals", true, requested.AddDate(0, 0, 30), written, "164.412(b)"},
		{"hipaa-hhs", true, requested.AddDate(0, 0, 30), written, "164.412(b)"},
		{"sec-8k-item105", true, requested.AddDate(0, 0, 30), requested.AddDate(0, 0, 30), "Item 1.05(c)"},
		{"us-ca-residents", true, written, written, ""},
		{"gdpr-art33-authority", false, written, written, ""},
	} {
		o, ok := obs[c.id]
		if !ok {
			t.Errorf("%s: not an obligation of the facts", c.id)
			continue
		}
		if o.LawEnforcementDelay != c.delayable {
			t.Errorf("%s: law_enforcement_delay %t, want %t", c.id, o.LawEnforcementDelay, c.delayable)
		}
		if c.law == "" && o.LawEnforcementDelayLimit != nil {
			t.Errorf("%s: a limit %+v where the law sets none", c.id, o.LawEnforcementDelayLimit)
		}
		if c.law != "" && (o.LawEnforcementDelayLimit == nil || !strings.Contains(o.LawEnforcementDelayLimit.Law, c.law)) {
			t.Errorf("%s: limit %+v, want one citing %s", c.id, o.LawEnforcementDelayLimit, c.law)
		}
		if got, _ := o.LawEnforcementDelayLimit.Until(requested, written, true); !got.Equal(c.oral) {
			t.Errorf("%s: an oral request ends %s, want %s", c.id, got, c.oral)
		}
		if got, _ := o.LawEnforcementDelayLimit.Until(requested, written, false); !got.Equal(c.until) {
			t.Errorf("%s: a written request until %s ends %s, want %s", c.id, written, got, c.until)
		}
	}
	// A request without an end runs until it is lifted, except where the law bounds it.
	if got, limited := obs["us-ca-residents"].LawEnforcementDelayLimit.Until(requested, time.Time{}, true); !got.IsZero() || limited {
		t.Errorf("California: an open request ends %s (%t), want until lifted", got, limited)
	}
	if got, limited := obs["hipaa-individuals"].LawEnforcementDelayLimit.Until(requested, time.Time{}, true); !got.Equal(requested.AddDate(0, 0, 30)) || !limited {
		t.Errorf("HIPAA: an open oral request ends %s (%t), want 30 days after it", got, limited)
	}
}
