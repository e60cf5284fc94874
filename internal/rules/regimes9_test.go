package rules

import (
	"strings"
	"testing"
)

// The regimes of REGULATIONS.md §9 (issue 14). As in rules_test.go, the expected instants were
// worked out by hand from the calendars (each case says how) and not copied from this package's
// output. The base facts: aware Wednesday 2026-06-10 10:00 in Berlin (08:00Z), high risk, a
// controller.

// limit checks the statutory outer limit; "" means there must be none.
func limit(want string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		switch {
		case want == "" && !o.StatutoryLimit.IsZero():
			t.Errorf("statutory limit %s (%s), want none", o.StatutoryLimit, o.StatutoryRule)
		case want != "" && !o.StatutoryLimit.Equal(ts(want)):
			t.Errorf("statutory limit %s (%s), want %s", o.StatutoryLimit, o.StatutoryRule, want)
		}
	}
}

// all runs several checks.
func all(checks ...func(*testing.T, Obligation)) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		for _, c := range checks {
			c(t, o)
		}
	}
}

func statRule(substr string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if !strings.Contains(o.StatutoryRule, substr) {
			t.Errorf("statutory rule %q does not contain %q", o.StatutoryRule, substr)
		}
	}
}

func lawEnforcement(want bool) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if o.LawEnforcementDelay != want {
			t.Errorf("law_enforcement_delay = %t, want %t", o.LawEnforcementDelay, want)
		}
	}
}

func authority(code string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if o.Authority == nil || o.Authority.Code != code {
			t.Errorf("authority = %+v, want %s", o.Authority, code)
		}
	}
}

var section9Cases = []obligationCase{
	// GDPR Art. 33(2): a processor tells each controller; 24 hours as policy.
	{name: "processor", id: "gdpr-art33-controller", mods: ms(subj("FR", 1), processor()), due: "2026-06-11T08:00:00Z",
		check: all(rule("without undue delay (policy SLA: 24 elapsed hours"), lawEnforcement(false))},
	{name: "processor, unlikely risk: every breach", id: "gdpr-art33-controller", mods: ms(subj("FR", 1), processor(), risk("unlikely")), due: "2026-06-11T08:00:00Z"},
	{name: "controller", id: "gdpr-art33-controller", mods: ms(subj("FR", 1)), not: "controller: it notifies the supervisory authority itself"},

	// Singapore from the assessment day: day 3 with the assessment day as day 1, the statutory
	// limit one day later (assessed Saturday 20 June 11:00 in Singapore).
	{name: "assessed: 3 days, the assessment day excluded for the limit", id: "sg-pdpc", mods: ms(subj("SG", 1), assessed("2026-06-20T11:00:00+08:00")), due: "2026-06-22T15:59:59Z",
		check: all(trig("assessed_at"), limit("2026-06-23T15:59:59Z"), statRule("PDPA s.26D(1)"))},
	{name: "assessed on 30 December: over the year end, no roll for calendar days", id: "sg-pdpc", mods: ms(subj("SG", 1), aware("2026-12-28T10:00:00+08:00"), assessed("2026-12-30T10:00:00+08:00")),
		due: "2027-01-01T15:59:59Z", check: limit("2027-01-02T15:59:59Z")},

	// New York's statutory limit (GCL §§20, 25-a). Aware 10 June: day 30 is 9 July; the limit
	// 10 July.
	{name: "30 days and the statutory limit", id: "us-ny-residents", mods: ms(subj("US-NY", 1)), due: "2026-07-10T03:59:59Z",
		check: all(limit("2026-07-11T03:59:59Z"), statRule("Gen. Constr. Law"), lawEnforcement(true))},
	// Aware Friday 5 June: day 30 is Saturday 4 July; the limit's day 30 is Sunday 5 July,
	// then Monday 6 July (4 July on a Saturday moves no New York holiday).
	{name: "limit on a Sunday: the next business day", id: "us-ny-residents", mods: ms(subj("US-NY", 1), aware("2026-06-05T10:00:00-04:00")), due: "2026-07-05T03:59:59Z",
		check: limit("2026-07-07T03:59:59Z")},
	// Aware Saturday 8 August: day 30 is Sunday 6 September; the limit's Monday 7 September is
	// Labor Day, so Tuesday 8 September.
	{name: "limit on Labor Day", id: "us-ny-residents", mods: ms(subj("US-NY", 1), aware("2026-08-08T10:00:00-04:00")), due: "2026-09-07T03:59:59Z",
		check: limit("2026-09-09T03:59:59Z")},
	// Across the autumn DST change: aware 15 October (EDT); day 30 is 13 November (EST); the
	// limit's Saturday 14 November rolls to Monday 16 November.
	{name: "across US autumn DST", id: "us-ny-attorney-general", mods: ms(subj("US-NY", 1), aware("2026-10-15T12:00:00-04:00")), due: "2026-11-14T04:59:59Z",
		check: limit("2026-11-17T04:59:59Z")},

	// Brazil's later reading: Carnival 2027 (8-9 February). Aware Friday 5 February: the
	// deadline counts Monday and Tuesday (Wednesday 10 February); the limit skips them (Friday
	// 12 February).
	{name: "Carnival counted, and skipped for the limit", id: "br-anpd", mods: ms(subj("BR", 1), cats("health"), aware("2027-02-05T10:00:00-03:00")), due: "2027-02-11T02:59:59Z",
		check: all(limit("2027-02-13T02:59:59Z"), statRule("pontos facultativos"))},

	// Law-enforcement delay marks.
	{name: "California allows it", id: "us-ca-residents", mods: ms(subj("US-CA", 1)), due: "2026-07-10T06:59:59Z", check: lawEnforcement(true)},
	{name: "HIPAA allows it", id: "hipaa-hhs", mods: ms(sector("health-covered-entity"), subj("US-CA", 600)), due: "2026-08-08T21:59:59Z", check: lawEnforcement(true)},
	{name: "SEC national-security delay", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2026-06-11T10:00:00-04:00")), due: "2026-06-17T21:30:00Z", check: lawEnforcement(true)},
	{name: "GDPR does not", id: "gdpr-art33-authority", mods: ms(subj("FR", 1)), due: "2026-06-13T08:00:00Z", check: lawEnforcement(false)},
	{name: "the ICO is the authority", id: "uk-gdpr-art33-ico", mods: ms(subj("GB", 1)), due: "2026-06-13T08:00:00Z", check: authority("GB")},
}
