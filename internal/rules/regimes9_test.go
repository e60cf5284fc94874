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

var dora = sector("dora-investment-firm")

var section9Cases = []obligationCase{
	// GDPR Art. 33(2): a processor tells each controller; 24 hours as policy.
	{name: "processor", id: "gdpr-art33-controller", mods: ms(subj("FR", 1), processor()), due: "2026-06-11T08:00:00Z",
		check: all(rule("without undue delay (policy SLA: 24 elapsed hours"), lawEnforcement(false))},
	{name: "processor, unlikely risk: every breach", id: "gdpr-art33-controller", mods: ms(subj("FR", 1), processor(), risk("unlikely")), due: "2026-06-11T08:00:00Z"},
	{name: "controller", id: "gdpr-art33-controller", mods: ms(subj("FR", 1)), not: "controller: it notifies the supervisory authority itself"},

	// DORA initial: min(classification + 4 h, awareness + 24 h); classified 24 h or more after
	// awareness: classification + 4 h. Berlin entity, German holidays.
	{name: "classified 3 h after awareness: 4 h from classification", id: "dora-initial", mods: ms(dora, est("DE"), classified("2026-06-10T13:00:00+02:00")),
		due: "2026-06-10T15:00:00Z", check: all(trig("classified_major_at"), limit(""), lawEnforcement(false))},
	{name: "classified at 23 h: 24 h from awareness, 1 h left", id: "dora-initial", mods: ms(dora, est("DE"), classified("2026-06-11T09:00:00+02:00")),
		due: "2026-06-11T08:00:00Z", check: trig("aware_at")},
	{name: "classified at 23 h 59 m: still 24 h from awareness", id: "dora-initial", mods: ms(dora, est("DE"), classified("2026-06-11T09:59:00+02:00")),
		due: "2026-06-11T08:00:00Z", check: trig("aware_at")},
	{name: "classified at exactly 24 h: 4 h from classification (the discontinuity)", id: "dora-initial", mods: ms(dora, est("DE"), classified("2026-06-11T10:00:00+02:00")),
		due: "2026-06-11T12:00:00Z", check: trig("classified_major_at")},
	{name: "classified at 30 h: 4 h from classification", id: "dora-initial", mods: ms(dora, est("DE"), classified("2026-06-11T16:00:00+02:00")),
		due: "2026-06-11T18:00:00Z"},
	// Aware Friday 12 June 20:00, classified Saturday 09:00: due Saturday 13:00 CEST; Art. 5(4)
	// allows Monday 15 June 12:00 CEST.
	{name: "due on a Saturday: 12:00 the next working day", id: "dora-initial", mods: ms(dora, est("DE"), aware("2026-06-12T20:00:00+02:00"), classified("2026-06-13T09:00:00+02:00")),
		due: "2026-06-13T11:00:00Z", check: all(limit("2026-06-15T10:00:00Z"), statRule("RTS 2025/301 Art. 5(4)"), statRule("German nationwide public holidays"))},
	{name: "credit institution: no weekend rule for the initial notification", id: "dora-initial", mods: ms(sector("dora-credit-institution"), est("DE"), aware("2026-06-12T20:00:00+02:00"), classified("2026-06-13T09:00:00+02:00")),
		due: "2026-06-13T11:00:00Z", check: limit("")},
	{name: "NIS2 entity: no weekend rule for the initial notification", id: "dora-initial", mods: ms(dora, sector("nis2-important"), est("DE"), aware("2026-06-12T20:00:00+02:00"), classified("2026-06-13T09:00:00+02:00")),
		due: "2026-06-13T11:00:00Z", check: limit("")},
	// Aware Sunday 24 May 09:00, classified Whit Monday 08:00 (23 h later): due Whit Monday
	// 09:00 CEST, a German holiday; Tuesday 26 May 12:00 CEST.
	{name: "due on Whit Monday: 12:00 on Tuesday", id: "dora-initial", mods: ms(dora, est("DE"), aware("2026-05-24T09:00:00+02:00"), classified("2026-05-25T08:00:00+02:00")),
		due: "2026-05-25T07:00:00Z", check: all(trig("aware_at"), limit("2026-05-26T10:00:00Z"))},
	// Across the spring DST change: aware Saturday 28 March 20:00 CET (19:00Z), classified
	// Sunday 29 March 10:00 CEST (08:00Z): 4 elapsed hours, Sunday 14:00 CEST; Monday 30 March
	// 12:00 CEST as the limit.
	{name: "across the spring DST change, on a Sunday", id: "dora-initial", mods: ms(dora, est("DE"), aware("2026-03-28T20:00:00+01:00"), classified("2026-03-29T10:00:00+02:00")),
		due: "2026-03-29T12:00:00Z", check: all(trig("classified_major_at"), limit("2026-03-30T10:00:00Z"))},
	{name: "a Member State without a calendar: weekends only, said so", id: "dora-initial", mods: ms(dora, est("NL"), zone("Europe/Amsterdam"), aware("2026-06-12T20:00:00+02:00"), classified("2026-06-13T09:00:00+02:00")),
		due: "2026-06-13T11:00:00Z", check: all(limit("2026-06-15T10:00:00Z"), statRule("no holiday calendar for NL"))},
	{name: "not classified as major", id: "dora-initial", mods: ms(dora, est("DE")), not: "no classification as a major ICT-related incident"},
	{name: "not a financial entity", id: "dora-initial", mods: ms(est("DE"), classified("2026-06-10T13:00:00+02:00")), not: "not in scope: the organisation's sectors do not include dora-credit-institution"},

	// DORA intermediate: 72 h after the initial was submitted (Thursday 12:00 CEST: Sunday
	// 12:00 CEST; Monday 12:00 CEST as the limit).
	{name: "72 h after the initial, ending on a Sunday", id: "dora-intermediate", mods: ms(dora, est("DE"), classified("2026-06-10T13:00:00+02:00"), submitted("dora-initial", "2026-06-11T12:00:00+02:00")),
		due: "2026-06-14T10:00:00Z", check: all(trig("submitted.dora-initial"), limit("2026-06-15T10:00:00Z"))},
	{name: "credit institution: no weekend rule", id: "dora-intermediate", mods: ms(sector("dora-credit-institution"), est("DE"), classified("2026-06-10T13:00:00+02:00"), submitted("dora-initial", "2026-06-11T12:00:00+02:00")),
		due: "2026-06-14T10:00:00Z", check: limit("")},
	{name: "initial not yet submitted", id: "dora-intermediate", mods: ms(dora, est("DE"), classified("2026-06-10T13:00:00+02:00")), not: "chained: the clock starts when dora-initial is submitted"},
	{name: "not classified", id: "dora-intermediate", mods: ms(dora, est("DE"), submitted("dora-initial", "2026-06-11T12:00:00+02:00")), not: "depends on dora-initial"},

	// DORA final: a month after the intermediate (25 November 10:00 CET: Christmas Day, a
	// Friday; 26 December and the weekend follow: Monday 28 December 12:00 CET), for every entity.
	{name: "a month after the intermediate, on Christmas Day", id: "dora-final", mods: ms(sector("dora-credit-institution"), est("DE"), classified("2026-06-10T13:00:00+02:00"),
		submitted("dora-intermediate", "2026-11-25T10:00:00+01:00")), due: "2026-12-25T09:00:00Z", check: all(trig("submitted.dora-intermediate"), limit("2026-12-28T11:00:00Z"))},
	{name: "intermediate not yet submitted", id: "dora-final", mods: ms(dora, est("DE"), classified("2026-06-10T13:00:00+02:00")), not: "chained: the clock starts when dora-intermediate is submitted"},
	{name: "not classified", id: "dora-final", mods: ms(dora, est("DE"), submitted("dora-intermediate", "2026-11-25T10:00:00+01:00")), not: "depends on dora-initial"},

	{name: "clients, 72 h policy from classification", id: "dora-clients", mods: ms(dora, est("DE"), classified("2026-06-10T13:00:00+02:00")), due: "2026-06-13T11:00:00Z",
		check: rule("without undue delay (policy SLA")},
	{name: "not classified", id: "dora-clients", mods: ms(dora, est("DE")), not: "no classification"},

	// Japan: aware 17:00 on 10 June in Tokyo. Preliminary: 3 days (policy); final: day 30 is
	// 9 July, the statutory limit 10 July (first day excluded, a Friday).
	{name: "health data, one person", id: "jp-ppc-preliminary", mods: ms(subj("JP", 1), cats("health")), due: "2026-06-12T14:59:59Z", check: rule("promptly")},
	{name: "1001 people: more than 1,000", id: "jp-ppc-preliminary", mods: ms(subj("JP", 1001), cats("contact")), due: "2026-06-12T14:59:59Z"},
	{name: "1000 people: not more than 1,000", id: "jp-ppc-preliminary", mods: ms(subj("JP", 1000), cats("contact")), not: "1000 affected individuals, more than 1000 required"},
	{name: "wrongful purpose, five people", id: "jp-ppc-preliminary", mods: ms(subj("JP", 5), cats("contact"), wrongfulPurpose()), due: "2026-06-12T14:59:59Z"},
	{name: "card data: property damage", id: "jp-ppc-preliminary", mods: ms(subj("JP", 5), cats("financial")), due: "2026-06-12T14:59:59Z"},
	{name: "advanced encryption exempts", id: "jp-ppc-preliminary", mods: ms(subj("JP", 5000), cats("health"), encrypted()), not: "advanced encryption"},
	{name: "entrusted business", id: "jp-ppc-preliminary", mods: ms(subj("JP", 5000), processor()), not: "entrusted business"},
	{name: "established in Japan: everyone counts", id: "jp-ppc-preliminary", mods: ms(est("JP"), subj("JP", 600, "US-CA", 401), cats("contact")), due: "2026-06-12T14:59:59Z"},
	{name: "30 days, first day excluded for the limit", id: "jp-ppc-final", mods: ms(subj("JP", 1), cats("health")), due: "2026-07-09T14:59:59Z",
		check: all(limit("2026-07-10T14:59:59Z"), statRule("Civil Code Art. 140"))},
	{name: "year end: 30 November, day 30 is 29 December; the limit passes the closure to 4 January", id: "jp-ppc-final", mods: ms(subj("JP", 1), cats("health"), aware("2026-11-30T10:00:00+09:00")),
		due: "2026-12-29T14:59:59Z", check: limit("2027-01-04T14:59:59Z")},
	{name: "Golden Week 2027: day 30 is 3 May, the limit 6 May", id: "jp-ppc-final", mods: ms(subj("JP", 1), cats("health"), aware("2027-04-04T10:00:00+09:00")),
		due: "2027-05-03T14:59:59Z", check: limit("2027-05-06T14:59:59Z")},
	{name: "wrongful purpose: 60 days, day 60 is 8 August, the limit Monday 10 August", id: "jp-ppc-final", mods: ms(subj("JP", 1), cats("health"), wrongfulPurpose()),
		due: "2026-08-08T14:59:59Z", check: all(limit("2026-08-10T14:59:59Z"), rule("wrongful purpose"))},
	{name: "not reportable", id: "jp-ppc-final", mods: ms(subj("JP", 3), cats("contact")), not: "depends on jp-ppc-preliminary"},
	{name: "promptly: 72 h policy", id: "jp-individuals", mods: ms(subj("JP", 1), cats("health")), due: "2026-06-13T08:00:00Z"},
	{name: "not reportable", id: "jp-individuals", mods: ms(subj("JP", 3), cats("contact")), not: "depends on jp-ppc-preliminary"},

	// South Korea: 72 hours, versioned by the awareness date in Seoul.
	{name: "before the amendment", id: "kr-pipa-subjects", mods: ms(subj("KR", 1)), due: "2026-06-13T08:00:00Z", check: rule("before the amendment")},
	{name: "aware 23:30 on 10 September in Seoul: the old version", id: "kr-pipa-subjects", mods: ms(subj("KR", 1), aware("2026-09-10T23:30:00+09:00")), due: "2026-09-13T14:30:00Z",
		check: rule("before the amendment")},
	{name: "aware 00:30 on 11 September in Seoul: the amended Act", id: "kr-pipa-subjects", mods: ms(subj("KR", 1), aware("2026-09-11T00:30:00+09:00")), due: "2026-09-13T15:30:00Z",
		check: rule("as amended, in force 2026-09-11")},
	{name: "trustee", id: "kr-pipa-subjects", mods: ms(subj("KR", 1), processor()), not: "trustee"},
	{name: "1000 people", id: "kr-pipc", mods: ms(subj("KR", 1000), cats("contact")), due: "2026-06-13T08:00:00Z"},
	{name: "999 people, ordinary data", id: "kr-pipc", mods: ms(subj("KR", 999), cats("contact")), not: "999 affected data subjects, at least 1000 required"},
	{name: "unique identifiers", id: "kr-pipc", mods: ms(subj("KR", 2), cats("national-id")), due: "2026-06-13T08:00:00Z"},
	{name: "unlawful access from outside", id: "kr-pipc", mods: ms(subj("KR", 2), cats("contact"), externalAccess()), due: "2026-06-13T08:00:00Z"},

	// India: from 13 May 2027 in India.
	{name: "before the rules are in force", id: "in-dpb-intimation", mods: ms(subj("IN", 1)), not: "before 13 May 2027"},
	{name: "aware 23:50 on 12 May 2027 in India", id: "in-dpb-intimation", mods: ms(subj("IN", 1), aware("2027-05-12T23:50:00+05:30")), not: "before 13 May 2027"},
	{name: "aware 00:10 on 13 May 2027 in India", id: "in-dpb-intimation", mods: ms(subj("IN", 1), aware("2027-05-13T00:10:00+05:30")), due: "2027-05-13T18:40:00Z",
		check: rule("without delay (policy SLA: 24 elapsed hours")},
	{name: "no threshold, no risk test, no encryption exemption", id: "in-dpb-intimation", mods: ms(subj("IN", 1), risk("unlikely"), encrypted(), aware("2027-06-01T10:00:00+05:30")), due: "2027-06-02T04:30:00Z"},
	{name: "Data Processor", id: "in-dpb-intimation", mods: ms(subj("IN", 1), processor(), aware("2027-06-01T10:00:00+05:30")), not: "Data Processor"},
	{name: "72 h report", id: "in-dpb-report", mods: ms(subj("IN", 1), aware("2027-06-01T10:00:00+05:30")), due: "2027-06-04T04:30:00Z", check: rule("72 elapsed hours")},
	{name: "before the rules are in force", id: "in-dpb-report", mods: ms(subj("IN", 1)), not: "depends on in-dpb-intimation"},
	{name: "each Data Principal", id: "in-principals", mods: ms(subj("IN", 1), aware("2027-06-01T10:00:00+05:30")), due: "2027-06-04T04:30:00Z"},
	{name: "before the rules are in force", id: "in-principals", mods: ms(subj("IN", 1)), not: "depends on in-dpb-intimation"},

	// Switzerland.
	{name: "high risk", id: "ch-fdpic", mods: ms(subj("CH", 1)), due: "2026-06-13T08:00:00Z", check: all(authority("CH"), rule("as quickly as possible"))},
	{name: "risk, not high", id: "ch-fdpic", mods: ms(subj("CH", 1), risk("risk")), not: "not likely to lead to a high risk"},
	{name: "processor", id: "ch-fdpic", mods: ms(est("CH"), processor()), not: "processor: tell the controller"},
	{name: "high risk", id: "ch-subjects", mods: ms(subj("CH", 1)), due: "2026-06-13T08:00:00Z"},
	{name: "encrypted", id: "ch-subjects", mods: ms(subj("CH", 1), encrypted()), not: "unintelligible"},
	{name: "critical infrastructure in Switzerland: 24 h", id: "ch-ncsc", mods: ms(sector("critical-infrastructure"), est("CH"), risk("unlikely")), due: "2026-06-11T08:00:00Z"},
	{name: "Swiss subjects, no Swiss establishment", id: "ch-ncsc", mods: ms(sector("critical-infrastructure"), subj("CH", 10)), not: "not in scope: no establishment in CH"},
	{name: "before 1 April 2025", id: "ch-ncsc", mods: ms(sector("critical-infrastructure"), est("CH"), aware("2025-03-31T23:00:00+02:00")), not: "before 1 April 2025"},

	// China.
	{name: "immediately: 24 h policy", id: "cn-pipl-authority", mods: ms(subj("CN", 1)), due: "2026-06-11T08:00:00Z", check: rule("immediately (policy SLA")},
	{name: "entrusted party", id: "cn-pipl-authority", mods: ms(subj("CN", 1), processor()), not: "entrusted party"},
	{name: "harm possible", id: "cn-pipl-individuals", mods: ms(subj("CN", 1), risk("risk")), due: "2026-06-11T08:00:00Z"},
	{name: "measures avoid harm", id: "cn-pipl-individuals", mods: ms(subj("CN", 1), risk("unlikely")), not: "effectively avoid harm"},
	{name: "a million people: 4 h", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 1000000)), due: "2026-06-10T12:00:00Z"},
	{name: "999,999 people, not significant", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 999999)), not: "999999 people whose personal information is affected, at least 1000000 required"},
	{name: "significant incident: 4 h", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 10), significant()), due: "2026-06-10T12:00:00Z"},
	{name: "public body: 2 h", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 10), significant(), publicTask()), due: "2026-06-10T10:00:00Z", check: rule("central and state organs")},
	{name: "CII operator: 1 h", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 10), significant(), sector("cn-cii-operator")), due: "2026-06-10T09:00:00Z"},
	{name: "Chinese subjects only: no network operator in China", id: "cn-cac-report", mods: ms(subj("CN", 2000000)), not: "not in scope: no establishment in CN"},
	{name: "before 1 November 2025", id: "cn-cac-report", mods: ms(est("CN"), subj("CN", 2000000), aware("2025-10-31T23:00:00+08:00")), not: "before 1 November 2025"},

	// Massachusetts: 30 days policy, Eastern.
	{name: "resident", id: "us-ma-residents", mods: ms(subj("US-MA", 1), risk("unlikely")), due: "2026-07-10T03:59:59Z", check: all(rule("as soon as practicable"), lawEnforcement(true))},
	{name: "encrypted", id: "us-ma-residents", mods: ms(subj("US-MA", 1), encrypted()), not: "encrypted"},
	{name: "every breach", id: "us-ma-attorney-general", mods: ms(subj("US-MA", 1)), due: "2026-07-10T03:59:59Z", check: lawEnforcement(false)},
	{name: "encrypted", id: "us-ma-attorney-general", mods: ms(subj("US-MA", 1), encrypted()), not: "depends on us-ma-residents"},

	// New Jersey: the State Police first.
	{name: "72 h policy", id: "us-nj-state-police", mods: ms(subj("US-NJ", 1)), due: "2026-06-13T08:00:00Z", check: lawEnforcement(false)},
	{name: "misuse not reasonably possible", id: "us-nj-state-police", mods: ms(subj("US-NJ", 1), risk("unlikely")), not: "misuse"},
	{name: "police report filed", id: "us-nj-residents", mods: ms(subj("US-NJ", 1), submitted("us-nj-state-police", "2026-06-11T10:00:00-04:00")), due: "2026-07-10T03:59:59Z",
		check: lawEnforcement(true)},
	{name: "police not yet told", id: "us-nj-residents", mods: ms(subj("US-NJ", 1)), not: "waits for the State Police report"},

	// Illinois.
	{name: "resident", id: "us-il-residents", mods: ms(subj("US-IL", 1)), due: "2026-07-10T04:59:59Z"},
	{name: "encrypted", id: "us-il-residents", mods: ms(subj("US-IL", 1), encrypted()), not: "encrypted"},
	{name: "501", id: "us-il-attorney-general", mods: ms(subj("US-IL", 501)), due: "2026-07-10T04:59:59Z"},
	{name: "exactly 500", id: "us-il-attorney-general", mods: ms(subj("US-IL", 500)), not: "500 affected Illinois residents, more than 500 required"},

	// Oregon: 45 days, Mountain time (day 45 is 24 July, ending 05:59:59Z).
	{name: "45 days", id: "us-or-consumers", mods: ms(subj("US-OR", 1)), due: "2026-07-25T05:59:59Z"},
	{name: "harm not reasonably likely", id: "us-or-consumers", mods: ms(subj("US-OR", 1), risk("unlikely")), not: "harm to the consumers is not reasonably likely"},
	{name: "vendor", id: "us-or-consumers", mods: ms(subj("US-OR", 1), processor()), not: "vendor"},
	{name: "251", id: "us-or-attorney-general", mods: ms(subj("US-OR", 251)), due: "2026-07-25T05:59:59Z"},
	{name: "exactly 250", id: "us-or-attorney-general", mods: ms(subj("US-OR", 250)), not: "more than 250 required"},
	{name: "vendor: 10 days", id: "us-or-covered-entity", mods: ms(subj("US-OR", 1), processor()), due: "2026-06-20T05:59:59Z"},
	{name: "covered entity", id: "us-or-covered-entity", mods: ms(subj("US-OR", 1)), not: "a covered entity (not a vendor)"},

	// FTC Health Breach Notification Rule: 60 days in the organisation's zone (Berlin: day 60 is
	// 8 August), 499/500 for the FTC, more than 500 per State for the media.
	{name: "60 days", id: "ftc-hbnr-individuals", mods: ms(sector("phr-vendor"), subj("US-CA", 10)), due: "2026-08-08T21:59:59Z", check: lawEnforcement(true)},
	{name: "secured health information", id: "ftc-hbnr-individuals", mods: ms(sector("phr-vendor"), subj("US-CA", 10), encrypted()), not: "secured"},
	{name: "not a PHR vendor", id: "ftc-hbnr-individuals", mods: ms(subj("US-CA", 10)), not: "not in scope: the organisation's sectors do not include phr-vendor"},
	{name: "500: at the same time as the individuals", id: "ftc-hbnr-ftc", mods: ms(sector("phr-vendor"), subj("US-CA", 300, "US-NY", 200)), due: "2026-08-08T21:59:59Z", check: rule("500 or more")},
	{name: "499: annual log, 60 days after 2026 ends (1 March 2027, Berlin)", id: "ftc-hbnr-ftc", mods: ms(sector("phr-vendor"), subj("US-CA", 499)), due: "2027-03-01T22:59:59Z",
		check: rule("annual log")},
	{name: "encrypted", id: "ftc-hbnr-ftc", mods: ms(sector("phr-vendor"), subj("US-CA", 600), encrypted()), not: "depends on ftc-hbnr-individuals"},
	{name: "501 in one State", id: "ftc-hbnr-media", mods: ms(sector("phr-vendor"), subj("US-CA", 501)), due: "2026-08-08T21:59:59Z", check: audience(": US-CA")},
	{name: "500 in one State", id: "ftc-hbnr-media", mods: ms(sector("phr-vendor"), subj("US-CA", 500, "US-NV", 500)), not: "more than 500 affected residents of one State required"},

	// Québec: 72 h policy from the risk assessment, or from awareness while none is recorded.
	{name: "no assessment recorded: from awareness", id: "ca-qc-cai", mods: ms(subj("CA-QC", 1)), due: "2026-06-13T08:00:00Z", check: all(trig("aware_at"), rule("assessed_at not recorded"))},
	{name: "assessed: from the assessment", id: "ca-qc-cai", mods: ms(subj("CA-QC", 1), assessed("2026-06-11T05:00:00-04:00")), due: "2026-06-14T09:00:00Z", check: trig("assessed_at")},
	{name: "no risk of serious injury", id: "ca-qc-cai", mods: ms(subj("CA-QC", 1), risk("risk")), not: "no risk of serious injury"},
	{name: "Canada, province unknown", id: "ca-qc-cai", mods: ms(subj("CA", 10)), not: "not in scope: no establishment in CA-QC and no affected subjects resident in CA-QC"},
	{name: "established in Québec (a region of CA)", id: "ca-qc-cai", mods: ms(est("CA"), regions("CA-QC"), subj("FR", 2)), due: "2026-06-13T08:00:00Z"},
	{name: "persons", id: "ca-qc-persons", mods: ms(subj("CA-QC", 1), assessed("2026-06-11T05:00:00-04:00")), due: "2026-06-14T09:00:00Z", check: lawEnforcement(true)},
	{name: "no risk of serious injury", id: "ca-qc-persons", mods: ms(subj("CA-QC", 1), risk("risk")), not: "depends on ca-qc-cai"},

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
