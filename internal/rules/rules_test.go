package rules

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The expected instants below were worked out by hand from the calendars and cross-checked with
// an independent computation (Python zoneinfo); they are not copied from this package's output.

type mod func(*Facts)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func aware(s string) mod     { return func(f *Facts) { f.AwareAt = ts(s) } }
func zone(z string) mod      { return func(f *Facts) { f.Timezone = z } }
func risk(r string) mod      { return func(f *Facts) { f.Risk = r } }
func encrypted() mod         { return func(f *Facts) { f.EncryptedUnintelligible = true } }
func processor() mod         { return func(f *Facts) { f.Role = "processor" } }
func significant() mod       { return func(f *Facts) { f.SignificantIncident = true } }
func sector(s ...string) mod { return func(f *Facts) { f.Sectors = append(f.Sectors, s...) } }
func est(c ...string) mod {
	return func(f *Facts) { f.Establishments = append(f.Establishments, c...) }
}
func cats(c ...string) mod {
	return func(f *Facts) { f.DataCategories = append(f.DataCategories, c...) }
}
func material(s string) mod {
	return func(f *Facts) { t := ts(s); f.MaterialityDeterminedAt = &t }
}
func classified(s string) mod { return func(f *Facts) { t := ts(s); f.ClassifiedMajorAt = &t } }
func assessed(s string) mod   { return func(f *Facts) { t := ts(s); f.AssessedAt = &t } }
func regions(r ...string) mod {
	return func(f *Facts) { f.EstablishmentRegions = append(f.EstablishmentRegions, r...) }
}
func mainEst(c string) mod { return func(f *Facts) { f.MainEstablishment = c } }
func publicTask() mod      { return func(f *Facts) { f.PublicTask = true } }
func wrongfulPurpose() mod { return func(f *Facts) { f.WrongfulPurpose = true } }
func externalAccess() mod  { return func(f *Facts) { f.ExternalUnlawfulAccess = true } }

func submitted(id, s string) mod {
	return func(f *Facts) {
		if f.Submitted == nil {
			f.Submitted = map[string]time.Time{}
		}
		f.Submitted[id] = ts(s)
	}
}

// subj adds affected subjects: subj("US-CA", 501, "FR", 3).
func subj(kv ...any) mod {
	return func(f *Facts) {
		if f.SubjectsByJurisdiction == nil {
			f.SubjectsByJurisdiction = map[string]int{}
		}
		for i := 0; i < len(kv); i += 2 {
			f.SubjectsByJurisdiction[kv[i].(string)] = kv[i+1].(int)
		}
	}
}

// base: aware Wednesday 2026-06-10 10:00 in Berlin (08:00Z), high risk, a controller.
func build(mods []mod) Facts {
	f := Facts{AwareAt: ts("2026-06-10T10:00:00+02:00"), Timezone: "Europe/Berlin", Risk: "high"}
	for _, m := range mods {
		m(&f)
	}
	return f
}

type obligationCase struct {
	name  string
	id    string
	mods  []mod
	due   string // the expected due_at, if the obligation applies
	not   string // else: a substring of the reason it does not
	check func(t *testing.T, o Obligation)
}

func rule(substr string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if !strings.Contains(o.Rule, substr) {
			t.Errorf("rule %q does not contain %q", o.Rule, substr)
		}
	}
}

func trig(name string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if o.Trigger != name {
			t.Errorf("trigger = %q, want %q", o.Trigger, name)
		}
	}
}

func audience(substr string) func(*testing.T, Obligation) {
	return func(t *testing.T, o Obligation) {
		t.Helper()
		if !strings.Contains(o.Audience, substr) {
			t.Errorf("audience %q does not contain %q", o.Audience, substr)
		}
	}
}

func ms(m ...mod) []mod { return m }

var obligationCases = []obligationCase{
	// GDPR Art 33: 72 elapsed hours, also across both European DST changes.
	{name: "EEA subject, some risk", id: "gdpr-art33-authority", mods: ms(subj("FR", 1), risk("risk")), due: "2026-06-13T08:00:00Z",
		check: rule("72 elapsed hours")},
	{name: "spring DST in Europe: 72h, not wall clock", id: "gdpr-art33-authority", mods: ms(subj("FR", 1), aware("2026-03-27T10:00:00+01:00")), due: "2026-03-30T09:00:00Z"},
	{name: "autumn DST in Europe", id: "gdpr-art33-authority", mods: ms(subj("DE", 1), aware("2026-10-23T10:00:00+02:00")), due: "2026-10-26T08:00:00Z"},
	{name: "EEA establishment without EEA subjects", id: "gdpr-art33-authority", mods: ms(est("DE"), subj("US-CA", 5)), due: "2026-06-13T08:00:00Z"},
	{name: "Norway is EEA", id: "gdpr-art33-authority", mods: ms(subj("NO", 1)), due: "2026-06-13T08:00:00Z"},
	{name: "risk not yet decided counts as high", id: "gdpr-art33-authority", mods: ms(subj("FR", 1), risk("")), due: "2026-06-13T08:00:00Z"},
	{name: "risk unlikely", id: "gdpr-art33-authority", mods: ms(subj("FR", 1), risk("unlikely")), not: "unlikely to result in a risk"},
	{name: "processor", id: "gdpr-art33-authority", mods: ms(subj("FR", 1), processor()), not: "processor: notify the controller"},
	{name: "Switzerland is not EEA", id: "gdpr-art33-authority", mods: ms(est("CH"), subj("CH", 10)), not: "not in scope"},
	{name: "no EEA link", id: "gdpr-art33-authority", mods: ms(est("US"), subj("US-CA", 10, "FR", 0)), not: "not in scope: no establishment in EEA"},

	{name: "high risk", id: "gdpr-art34-subjects", mods: ms(subj("FR", 1)), due: "2026-06-13T08:00:00Z", check: rule("without undue delay (policy SLA")},
	{name: "risk but not high", id: "gdpr-art34-subjects", mods: ms(subj("FR", 1), risk("risk")), not: "no high risk"},
	{name: "encrypted: Art 34(3)(a)", id: "gdpr-art34-subjects", mods: ms(subj("FR", 1), encrypted()), not: "34(3)(a)"},
	{name: "processor", id: "gdpr-art34-subjects", mods: ms(subj("FR", 1), processor()), not: "processor"},

	{name: "GB subject", id: "uk-gdpr-art33-ico", mods: ms(subj("GB", 1), risk("risk")), due: "2026-06-13T08:00:00Z"},
	{name: "GB establishment", id: "uk-gdpr-art33-ico", mods: ms(est("GB")), due: "2026-06-13T08:00:00Z"},
	{name: "EEA only", id: "uk-gdpr-art33-ico", mods: ms(subj("FR", 10)), not: "not in scope: no establishment in GB"},
	{name: "unlikely", id: "uk-gdpr-art33-ico", mods: ms(subj("GB", 1), risk("unlikely")), not: "unlikely"},
	{name: "high risk", id: "uk-gdpr-art34-subjects", mods: ms(subj("GB", 1)), due: "2026-06-13T08:00:00Z"},
	{name: "encrypted", id: "uk-gdpr-art34-subjects", mods: ms(subj("GB", 1), encrypted()), not: "unintelligible"},
	{name: "risk only", id: "uk-gdpr-art34-subjects", mods: ms(subj("GB", 1), risk("risk")), not: "no high risk"},

	// NIS2.
	{name: "significant incident", id: "nis2-early-warning", mods: ms(sector("nis2-important"), significant()), due: "2026-06-11T08:00:00Z", check: rule("24 elapsed hours")},
	{name: "not significant", id: "nis2-early-warning", mods: ms(sector("nis2-essential")), not: "not a significant incident"},
	{name: "not a NIS2 entity", id: "nis2-early-warning", mods: ms(significant()), not: "not in scope: the organisation's sectors do not include nis2-essential or nis2-important"},
	{name: "significant incident", id: "nis2-notification", mods: ms(sector("nis2-essential"), significant()), due: "2026-06-13T08:00:00Z"},
	{name: "not significant", id: "nis2-notification", mods: ms(sector("nis2-essential")), not: "not a significant incident"},
	{name: "chained: notification not submitted", id: "nis2-final-report", mods: ms(sector("nis2-essential"), significant()), not: "chained: the clock starts when nis2-notification is submitted"},
	{name: "month-end clamp 31 Jan -> 28 Feb", id: "nis2-final-report", mods: ms(sector("nis2-essential"), significant(), submitted("nis2-notification", "2027-01-31T10:00:00+01:00")),
		due: "2027-02-28T09:00:00Z", check: trig("submitted.nis2-notification")},
	{name: "leap year clamp 31 Jan -> 29 Feb 2028", id: "nis2-final-report", mods: ms(sector("nis2-essential"), significant(), submitted("nis2-notification", "2028-01-31T10:00:00+01:00")), due: "2028-02-29T09:00:00Z"},
	{name: "month across spring DST keeps local time", id: "nis2-final-report", mods: ms(sector("nis2-essential"), significant(), submitted("nis2-notification", "2026-03-15T10:00:00+01:00")), due: "2026-04-15T08:00:00Z"},
	{name: "submitted but not significant", id: "nis2-final-report", mods: ms(sector("nis2-essential"), submitted("nis2-notification", "2026-06-12T10:00:00+02:00")), not: "depends on nis2-notification"},

	// HIPAA: 60 calendar days from discovery, in the organisation's zone.
	{name: "across US spring DST", id: "hipaa-individuals", mods: ms(sector("health-covered-entity"), zone("America/New_York"), aware("2026-01-15T09:00:00-05:00"), subj("US-NY", 10)), due: "2026-03-16T03:59:59Z"},
	{name: "organisation zone Berlin", id: "hipaa-individuals", mods: ms(sector("health-covered-entity"), subj("US-NY", 10)), due: "2026-08-08T21:59:59Z"},
	{name: "low probability of compromise", id: "hipaa-individuals", mods: ms(sector("health-covered-entity"), subj("US-NY", 10), risk("unlikely")), not: "low probability"},
	{name: "encryption safe harbor", id: "hipaa-individuals", mods: ms(sector("health-covered-entity"), subj("US-NY", 10), encrypted()), not: "safe harbor"},
	{name: "not a covered entity", id: "hipaa-individuals", mods: ms(subj("US-NY", 10)), not: "not in scope"},
	{name: "more than 500 in one State", id: "hipaa-media", mods: ms(sector("health-covered-entity"), subj("US-CA", 501, "US-NV", 3)), due: "2026-08-08T21:59:59Z", check: audience(": US-CA")},
	{name: "exactly 500 in one State", id: "hipaa-media", mods: ms(sector("health-covered-entity"), subj("US-CA", 500)), not: "more than 500 affected residents of one State required; the largest count is 500 (US-CA)"},
	{name: "800 across two States, 400 each", id: "hipaa-media", mods: ms(sector("health-covered-entity"), subj("US-CA", 400, "US-NV", 400)), not: "threshold not met"},
	{name: "encrypted", id: "hipaa-media", mods: ms(sector("health-covered-entity"), subj("US-CA", 900), encrypted()), not: "depends on hipaa-individuals"},
	{name: "exactly 500: with the individual notice", id: "hipaa-hhs", mods: ms(sector("health-covered-entity"), subj("US-CA", 300, "FR", 200)), due: "2026-08-08T21:59:59Z", check: rule("500 or more")},
	{name: "499: annual log, leap day 2028-02-29", id: "hipaa-hhs", mods: ms(sector("health-covered-entity"), zone("America/New_York"), aware("2027-06-01T09:00:00-04:00"), subj("US-CA", 499)),
		due: "2028-03-01T04:59:59Z", check: func(t *testing.T, o Obligation) {
			if got := o.DueAt.In(mustLoc("America/New_York")).Format("2006-01-02"); got != "2028-02-29" {
				t.Errorf("local due day = %s, want 2028-02-29", got)
			}
			if !o.ClockStart.Equal(ts("2028-01-01T00:00:00-05:00")) {
				t.Errorf("clock_start = %s, want the end of 2027", o.ClockStart)
			}
		}},
	{name: "499: annual log, 1 March in a common year", id: "hipaa-hhs", mods: ms(sector("health-covered-entity"), zone("America/New_York"), aware("2026-06-01T09:00:00-04:00"), subj("US-CA", 499)), due: "2027-03-02T04:59:59Z"},
	{name: "encrypted", id: "hipaa-hhs", mods: ms(sector("health-covered-entity"), subj("US-CA", 900), encrypted()), not: "depends on hipaa-individuals"},

	// SEC 8-K Item 1.05: 4 business days, 17:30 New York.
	{name: "weekend and US spring DST", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2026-03-05T15:00:00-05:00")), due: "2026-03-11T21:30:00Z",
		check: trig("materiality_determined_at")},
	{name: "Thanksgiving", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2026-11-23T10:00:00-05:00")), due: "2026-11-30T22:30:00Z"},
	{name: "Independence Day observed on Friday 3 July", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2026-06-30T10:00:00-04:00")), due: "2026-07-07T21:30:00Z"},
	{name: "New Year 2028 observed on 31 December 2027", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2027-12-28T10:00:00-05:00")), due: "2028-01-04T22:30:00Z"},
	{name: "trigger day is New York's day", id: "sec-8k-item105", mods: ms(sector("us-listed"), material("2026-03-05T23:30:00-08:00")), due: "2026-03-12T21:30:00Z"},
	{name: "2029 holiday data: Washington's Birthday skipped", id: "sec-8k-item105", mods: ms(sector("us-listed"), aware("2029-02-14T10:00:00-05:00"), material("2029-02-15T10:00:00-05:00")), due: "2029-02-22T22:30:00Z"},
	{name: "no holiday data: weekends only, said so, across US spring DST", id: "sec-8k-item105", mods: ms(sector("us-listed"), aware("2031-03-05T10:00:00-05:00"), material("2031-03-06T10:00:00-05:00")), due: "2031-03-12T21:30:00Z",
		check: rule("no holiday data for [2031]")},
	{name: "no materiality determination", id: "sec-8k-item105", mods: ms(sector("us-listed")), not: "no materiality determination"},
	{name: "not listed", id: "sec-8k-item105", mods: ms(material("2026-06-11T10:00:00-04:00")), not: "not in scope"},

	// California.
	{name: "30 days, Pacific", id: "us-ca-residents", mods: ms(subj("US-CA", 1)), due: "2026-07-10T06:59:59Z"},
	{name: "across US spring DST", id: "us-ca-residents", mods: ms(subj("US-CA", 1), aware("2026-03-01T12:00:00-08:00")), due: "2026-03-31T06:59:59Z"},
	{name: "across US autumn DST", id: "us-ca-residents", mods: ms(subj("US-CA", 1), aware("2026-10-15T12:00:00-07:00")), due: "2026-11-14T07:59:59Z"},
	{name: "across the leap day 2028-02-29", id: "us-ca-residents", mods: ms(subj("US-CA", 1), aware("2028-02-15T12:00:00-08:00")), due: "2028-03-16T06:59:59Z"},
	{name: "day 1 is California's day", id: "us-ca-residents", mods: ms(subj("US-CA", 1), aware("2026-06-10T05:00:00+02:00")), due: "2026-07-09T06:59:59Z"},
	{name: "encrypted", id: "us-ca-residents", mods: ms(subj("US-CA", 1), encrypted()), not: "unencrypted"},
	{name: "service provider", id: "us-ca-residents", mods: ms(subj("US-CA", 1), processor()), not: "owner or licensee"},
	{name: "zero California residents", id: "us-ca-residents", mods: ms(subj("US-CA", 0, "US-NY", 4)), not: "not in scope: no affected subjects resident in US-CA"},
	{name: "501 residents, notice submitted: 15 days after", id: "us-ca-attorney-general", mods: ms(subj("US-CA", 501), submitted("us-ca-residents", "2026-07-01T09:00:00-07:00")),
		due: "2026-07-16T06:59:59Z", check: trig("submitted.us-ca-residents")},
	{name: "500 residents", id: "us-ca-attorney-general", mods: ms(subj("US-CA", 500), submitted("us-ca-residents", "2026-07-01T09:00:00-07:00")), not: "500 affected California residents, more than 500 required"},
	{name: "chained: resident notice not yet submitted", id: "us-ca-attorney-general", mods: ms(subj("US-CA", 501)), not: "chained: the clock starts when us-ca-residents is submitted"},
	{name: "encrypted", id: "us-ca-attorney-general", mods: ms(subj("US-CA", 900), encrypted()), not: "depends on us-ca-residents"},

	// New York.
	{name: "30 days, Eastern", id: "us-ny-residents", mods: ms(subj("US-NY", 1)), due: "2026-07-10T03:59:59Z"},
	{name: "encrypted", id: "us-ny-residents", mods: ms(subj("US-NY", 1), encrypted()), not: "encrypted"},
	{name: "with the resident notice", id: "us-ny-attorney-general", mods: ms(subj("US-NY", 1)), due: "2026-07-10T03:59:59Z", check: rule("with the resident notice")},
	{name: "covered entity, HHS not yet notified", id: "us-ny-attorney-general", mods: ms(subj("US-NY", 1), sector("health-covered-entity")), due: "2026-07-10T03:59:59Z", check: trig("aware_at")},
	{name: "covered entity: 5 business days after HHS, over Juneteenth", id: "us-ny-attorney-general",
		mods: ms(subj("US-NY", 600), sector("health-covered-entity"), submitted("hipaa-hhs", "2026-06-12T12:00:00-04:00")), due: "2026-06-23T03:59:59Z", check: trig("submitted.hipaa-hhs")},
	{name: "HHS submitted but not a covered entity", id: "us-ny-attorney-general", mods: ms(subj("US-NY", 1), submitted("hipaa-hhs", "2026-06-12T12:00:00-04:00")), due: "2026-07-10T03:59:59Z"},
	{name: "encrypted", id: "us-ny-attorney-general", mods: ms(subj("US-NY", 1), encrypted()), not: "depends on us-ny-residents"},

	// Texas: days end in Central time.
	{name: "60 days, Central", id: "us-tx-individuals", mods: ms(subj("US-TX", 1)), due: "2026-08-09T04:59:59Z"},
	{name: "encrypted", id: "us-tx-individuals", mods: ms(subj("US-TX", 1), encrypted()), not: "encrypted"},
	{name: "no harm test in Texas", id: "us-tx-individuals", mods: ms(subj("US-TX", 1), risk("unlikely")), due: "2026-08-09T04:59:59Z"},
	{name: "exactly 250", id: "us-tx-attorney-general", mods: ms(subj("US-TX", 250)), due: "2026-07-10T04:59:59Z"},
	{name: "249", id: "us-tx-attorney-general", mods: ms(subj("US-TX", 249)), not: "249 affected Texas residents, at least 250 required"},

	// Florida.
	{name: "30 days, Eastern", id: "us-fl-individuals", mods: ms(subj("US-FL", 1)), due: "2026-07-10T03:59:59Z"},
	{name: "no-harm determination", id: "us-fl-individuals", mods: ms(subj("US-FL", 1), risk("unlikely")), not: "no-harm determination"},
	{name: "encrypted", id: "us-fl-individuals", mods: ms(subj("US-FL", 1), encrypted()), not: "encrypted"},
	{name: "exactly 500", id: "us-fl-legal-affairs", mods: ms(subj("US-FL", 500)), due: "2026-07-10T03:59:59Z"},
	{name: "499", id: "us-fl-legal-affairs", mods: ms(subj("US-FL", 499)), not: "499 affected Florida residents, at least 500 required"},
	{name: "no-harm determination goes to the Department", id: "us-fl-legal-affairs", mods: ms(subj("US-FL", 10), risk("unlikely")), due: "2026-07-10T03:59:59Z"},
	{name: "encrypted", id: "us-fl-legal-affairs", mods: ms(subj("US-FL", 600), encrypted()), not: "encrypted"},

	// Colorado.
	{name: "30 days, Mountain", id: "us-co-residents", mods: ms(subj("US-CO", 1)), due: "2026-07-10T05:59:59Z"},
	{name: "misuse not likely", id: "us-co-residents", mods: ms(subj("US-CO", 1), risk("unlikely")), not: "misuse"},
	{name: "exactly 500", id: "us-co-attorney-general", mods: ms(subj("US-CO", 500)), due: "2026-07-10T05:59:59Z"},
	{name: "499", id: "us-co-attorney-general", mods: ms(subj("US-CO", 499)), not: "at least 500 required"},
	{name: "600 but misuse not likely", id: "us-co-attorney-general", mods: ms(subj("US-CO", 600), risk("unlikely")), not: "depends on us-co-residents"},

	// Washington.
	{name: "30 days, Pacific", id: "us-wa-residents", mods: ms(subj("US-WA", 1)), due: "2026-07-10T06:59:59Z"},
	{name: "harm not reasonably likely", id: "us-wa-residents", mods: ms(subj("US-WA", 1), risk("unlikely")), not: "risk of harm"},
	{name: "encrypted", id: "us-wa-residents", mods: ms(subj("US-WA", 1), encrypted()), not: "secured"},
	{name: "501", id: "us-wa-attorney-general", mods: ms(subj("US-WA", 501)), due: "2026-07-10T06:59:59Z"},
	{name: "exactly 500", id: "us-wa-attorney-general", mods: ms(subj("US-WA", 500)), not: "500 affected Washington residents, more than 500 required"},

	// PIPEDA (CA is Canada; US-CA is California).
	{name: "real risk of significant harm", id: "ca-pipeda-commissioner", mods: ms(subj("CA", 1)), due: "2026-06-13T08:00:00Z", check: rule("as soon as feasible")},
	{name: "Canadian establishment", id: "ca-pipeda-commissioner", mods: ms(est("CA")), due: "2026-06-13T08:00:00Z"},
	{name: "risk but not significant harm", id: "ca-pipeda-commissioner", mods: ms(subj("CA", 1), risk("risk")), not: "no real risk of significant harm"},
	{name: "California is not Canada", id: "ca-pipeda-commissioner", mods: ms(subj("US-CA", 50)), not: "not in scope"},
	{name: "real risk of significant harm", id: "ca-pipeda-individuals", mods: ms(subj("CA", 1)), due: "2026-06-13T08:00:00Z"},
	{name: "service provider", id: "ca-pipeda-individuals", mods: ms(subj("CA", 1), processor()), not: "organisation in control"},

	// Australia.
	{name: "30-day assessment", id: "au-ndb-assessment", mods: ms(subj("AU", 1), risk("unlikely")), due: "2026-07-09T21:59:59Z"},
	{name: "no Australian link", id: "au-ndb-assessment", mods: ms(subj("NZ", 1)), not: "not in scope"},
	{name: "likely serious harm", id: "au-ndb-commissioner", mods: ms(subj("AU", 1)), due: "2026-06-13T08:00:00Z", check: rule("as soon as practicable")},
	{name: "serious harm not likely", id: "au-ndb-commissioner", mods: ms(subj("AU", 1), risk("risk")), not: "serious harm is not likely"},

	// Singapore: 3 calendar days, in Singapore; before assessed_at is recorded, from aware_at's
	// day (16:00 in Singapore on 10 June: day 3 ends 12 June 23:59:59 +08:00).
	{name: "significant harm", id: "sg-pdpc", mods: ms(subj("SG", 1)), due: "2026-06-12T15:59:59Z", check: rule("assessed_at not recorded")},
	{name: "exactly 500: significant scale", id: "sg-pdpc", mods: ms(subj("SG", 500), risk("risk")), due: "2026-06-12T15:59:59Z"},
	{name: "prescribed data: harm deemed", id: "sg-pdpc", mods: ms(subj("SG", 1), risk("unlikely"), cats("Financial")), due: "2026-06-12T15:59:59Z"},
	{name: "established in SG: every subject counts", id: "sg-pdpc", mods: ms(est("SG"), subj("SG", 400, "MY", 100), risk("risk")), due: "2026-06-12T15:59:59Z"},
	{name: "499, no harm, no prescribed data", id: "sg-pdpc", mods: ms(subj("SG", 499), risk("risk"), cats("contact")), not: "499 affected individuals, at least 500 required"},
	{name: "not established: only SG subjects count", id: "sg-pdpc", mods: ms(subj("SG", 400, "MY", 100), risk("risk")), not: "400 affected individuals"},
	{name: "data intermediary", id: "sg-pdpc", mods: ms(subj("SG", 1), processor()), not: "data intermediary"},

	// Brazil: 3 business days, São Paulo.
	{name: "sensitive data", id: "br-anpd", mods: ms(subj("BR", 1), risk("risk"), cats("health")), due: "2026-06-16T02:59:59Z"},
	{name: "over Tiradentes", id: "br-anpd", mods: ms(subj("BR", 1), cats("financial"), aware("2026-04-17T10:00:00-03:00")), due: "2026-04-24T02:59:59Z"},
	{name: "over Good Friday", id: "br-anpd", mods: ms(subj("BR", 1), cats("credentials"), aware("2026-04-01T10:00:00-03:00")), due: "2026-04-08T02:59:59Z"},
	{name: "exactly 1000: large scale", id: "br-anpd", mods: ms(subj("BR", 1000), cats("contact")), due: "2026-06-16T02:59:59Z"},
	{name: "999, ordinary data", id: "br-anpd", mods: ms(subj("BR", 999), cats("contact")), not: "999 affected data subjects"},
	{name: "no relevant risk", id: "br-anpd", mods: ms(subj("BR", 1), risk("unlikely"), cats("health")), not: "relevant risk"},
	{name: "operator", id: "br-anpd", mods: ms(subj("BR", 1), cats("health"), processor()), not: "operator"},
	{name: "sensitive data", id: "br-subjects", mods: ms(subj("BR", 1), cats("health")), due: "2026-06-16T02:59:59Z"},
	{name: "999, ordinary data", id: "br-subjects", mods: ms(subj("BR", 999)), not: "depends on br-anpd"},
}

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func TestObligations(t *testing.T) {
	applies, ruledOut := map[string]bool{}, map[string]bool{}
	for _, c := range append(append([]obligationCase{}, obligationCases...), section9Cases...) {
		t.Run(c.id+"/"+c.name, func(t *testing.T) {
			if (c.due == "") == (c.not == "") {
				t.Fatal("case must set exactly one of due and not")
			}
			res, err := Evaluate(build(c.mods))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, res)
			o, nr := find(res, c.id)
			if c.due != "" {
				applies[c.id] = true
				if o == nil {
					t.Fatalf("%s not required: %s", c.id, nr.Reason)
				}
				if !o.DueAt.Equal(ts(c.due)) {
					t.Errorf("due_at = %s, want %s (rule: %s)", o.DueAt.Format(time.RFC3339), c.due, o.Rule)
				}
				if c.check != nil {
					c.check(t, *o)
				}
				return
			}
			ruledOut[c.id] = true
			if nr == nil {
				t.Fatalf("%s applies (due %s), want not required: %q", c.id, o.DueAt, c.not)
			}
			if !strings.Contains(nr.Reason, c.not) {
				t.Errorf("reason = %q, want it to contain %q", nr.Reason, c.not)
			}
		})
	}
	for _, id := range ObligationIDs() {
		if !applies[id] || !ruledOut[id] {
			t.Errorf("%s: the table needs a case where it applies and one where it does not", id)
		}
	}
}

func find(res Result, id string) (*Obligation, *NotRequired) {
	for i := range res.Obligations {
		if res.Obligations[i].ID == id {
			return &res.Obligations[i], nil
		}
	}
	for i := range res.NotRequired {
		if res.NotRequired[i].ID == id {
			return nil, &res.NotRequired[i]
		}
	}
	return nil, nil
}

// checkInvariants: every id exactly once, a resolved id only with its base ruled out as
// resolved; obligations sorted by due_at then id; UTC instants; due after the clock starts; a
// statutory limit after the deadline; reasons given.
func checkInvariants(t *testing.T, res Result) {
	t.Helper()
	seen := map[string]int{}
	resolved := 0
	for _, o := range res.Obligations {
		if base, ok := strings.CutPrefix(o.ID, gdprAuthorityID+"-"); ok && !slices.Contains(ObligationIDs(), o.ID) {
			if !KnownObligation(o.ID) || o.Authority == nil || len(o.Reasoning) == 0 {
				t.Errorf("%s (%s): a resolved id must be known and carry its authority and reasoning: %+v", o.ID, base, o)
			}
			resolved++
			if seen[o.ID] > 0 {
				t.Errorf("%s resolved twice", o.ID)
			}
			seen[o.ID] = -1
			continue
		}
		seen[o.ID]++
		if !o.StatutoryLimit.IsZero() && (!o.StatutoryLimit.After(o.DueAt) || o.StatutoryLimit.Location() != time.UTC || o.StatutoryRule == "") {
			t.Errorf("%s: statutory limit %s must be a UTC instant after the deadline %s, with its rule", o.ID, o.StatutoryLimit, o.DueAt)
		}
		if o.DueAt.Location() != time.UTC || o.ClockStart.Location() != time.UTC {
			t.Errorf("%s: instants not in UTC", o.ID)
		}
		if !o.DueAt.After(o.ClockStart) {
			t.Errorf("%s: due %s not after clock start %s", o.ID, o.DueAt, o.ClockStart)
		}
		if o.Regime == "" || o.Audience == "" || o.Basis == "" || o.Trigger == "" || o.Rule == "" || o.Template == "" {
			t.Errorf("%s: empty field in %+v", o.ID, o)
		}
	}
	for _, n := range res.NotRequired {
		seen[n.ID]++
		if n.Reason == "" {
			t.Errorf("%s: not required without a reason", n.ID)
		}
	}
	for _, id := range ObligationIDs() {
		if seen[id] != 1 {
			t.Errorf("%s appears %d times", id, seen[id])
		}
	}
	if len(seen) != len(ObligationIDs())+resolved {
		t.Errorf("result has %d ids, the rules know %d and %d were resolved", len(seen), len(ObligationIDs()), resolved)
	}
	if _, nr := find(res, gdprAuthorityID); (resolved > 0) != (nr != nil && strings.HasPrefix(nr.Reason, "resolved to")) {
		t.Errorf("%d resolved authorities, but %s is %+v", resolved, gdprAuthorityID, nr)
	}
	if !slices.IsSortedFunc(res.Obligations, func(a, b Obligation) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}) {
		t.Error("obligations not sorted by due_at, then id")
	}
}

func TestObligationIDsAreTheContract(t *testing.T) {
	want := []string{"gdpr-art33-authority", "gdpr-art34-subjects", "uk-gdpr-art33-ico", "uk-gdpr-art34-subjects",
		"nis2-early-warning", "nis2-notification", "nis2-final-report", "hipaa-individuals", "hipaa-media", "hipaa-hhs",
		"sec-8k-item105", "us-ca-residents", "us-ca-attorney-general", "us-ny-residents", "us-ny-attorney-general",
		"us-tx-individuals", "us-tx-attorney-general", "us-fl-individuals", "us-fl-legal-affairs", "us-co-residents",
		"us-co-attorney-general", "us-wa-residents", "us-wa-attorney-general", "ca-pipeda-commissioner",
		"ca-pipeda-individuals", "au-ndb-assessment", "au-ndb-commissioner", "sg-pdpc", "br-anpd", "br-subjects",
		// Issue 14.
		"gdpr-art33-controller", "dora-initial", "dora-intermediate", "dora-final", "dora-clients",
		"jp-ppc-preliminary", "jp-ppc-final", "jp-individuals", "kr-pipa-subjects", "kr-pipc",
		"in-dpb-intimation", "in-dpb-report", "in-principals", "ch-fdpic", "ch-subjects", "ch-ncsc",
		"cn-pipl-authority", "cn-pipl-individuals", "cn-cac-report", "us-ma-residents", "us-ma-attorney-general",
		"us-nj-state-police", "us-nj-residents", "us-il-residents", "us-il-attorney-general", "us-or-consumers",
		"us-or-attorney-general", "us-or-covered-entity", "ftc-hbnr-individuals", "ftc-hbnr-media", "ftc-hbnr-ftc",
		"ca-qc-cai", "ca-qc-persons"}
	got := ObligationIDs()
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("obligation ids\n got %v\nwant %v", got, want)
	}
}

func TestTemplatesAreTheContract(t *testing.T) {
	allowed := map[string]bool{}
	for _, n := range strings.Fields(`gdpr-art33-report gdpr-art34-notice uk-ico-report uk-subject-notice
		nis2-early-warning nis2-notification nis2-final-report hipaa-individual-notice hipaa-media-notice
		hipaa-hhs-report sec-8k-item105 us-ca-notice us-state-notice us-state-ag-report pipeda-report
		pipeda-notice au-ndb-statement sg-pdpc-report br-anpd-report br-subject-notice
		processor-controller-report dora-initial-notification dora-intermediate-report dora-final-report
		dora-client-notice jp-ppc-report jp-individual-notice kr-pipc-report kr-subject-notice
		in-dpb-intimation in-dpb-report in-principal-notice ch-fdpic-report ch-subject-notice ch-ncsc-report
		cn-pipl-report cn-pipl-notice cn-cac-report ftc-hbnr-notice ftc-hbnr-media-notice ftc-hbnr-report
		qc-cai-report qc-person-notice`) {
		allowed[n] = true
	}
	for _, r := range rulebook.regimes {
		for _, o := range r.Obligations {
			if !allowed[o.Template] {
				t.Errorf("%s: template %q is not one of the agreed names", o.ID, o.Template)
			}
		}
	}
}

// The German shop of the issue: customers in France, California and the UK.
func TestGermanShopScenario(t *testing.T) {
	f := build(ms(est("DE"), subj("FR", 1200, "US-CA", 640, "GB", 90), cats("contact", "financial")))
	res, err := Evaluate(f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range res.Obligations {
		ids = append(ids, o.ID)
	}
	want := []string{"gdpr-art33-authority", "gdpr-art34-subjects", "uk-gdpr-art33-ico", "uk-gdpr-art34-subjects", "us-ca-residents"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("obligations = %v, want %v", ids, want)
	}
	if _, nr := find(res, "us-ca-attorney-general"); nr == nil || !strings.Contains(nr.Reason, "chained") {
		t.Errorf("us-ca-attorney-general should wait for the resident notice, got %+v", nr)
	}
	// Filing the resident notice starts the AG clock; nothing already found is lost.
	f.Submitted = map[string]time.Time{"us-ca-residents": ts("2026-06-20T16:00:00-07:00")}
	res2, err := Evaluate(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Obligations) != len(res.Obligations)+1 {
		t.Fatalf("after the resident notice: %d obligations, want %d", len(res2.Obligations), len(res.Obligations)+1)
	}
	if o, _ := find(res2, "us-ca-attorney-general"); o == nil || !o.DueAt.Equal(ts("2026-07-05T06:59:59Z")) {
		t.Errorf("us-ca-attorney-general = %+v, want due 2026-07-05T06:59:59Z", o)
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	f := build(ms(aware("2027-06-10T10:00:00+02:00"), est("DE", "SG", "BR", "CH", "CN"), regions("DE-BE"), sector("health-covered-entity", "us-listed", "nis2-essential",
		"dora-investment-firm", "phr-vendor", "critical-infrastructure"), significant(),
		subj("FR", 1, "US-CA", 900, "US-TX", 300, "US-NY", 2, "US-FL", 600, "US-CO", 700, "US-WA", 800, "CA", 4, "AU", 5, "SG", 6, "BR", 7, "GB", 8,
			"JP", 2, "KR", 3, "IN", 4, "CH", 5, "CN", 1000000, "US-MA", 6, "US-NJ", 7, "US-IL", 501, "US-OR", 251, "CA-QC", 8),
		cats("health"), material("2027-06-11T10:00:00-04:00"), classified("2027-06-10T12:00:00+02:00"),
		submitted("us-ca-residents", "2027-06-20T10:00:00-07:00"), submitted("nis2-notification", "2027-06-12T10:00:00+02:00"),
		submitted("hipaa-hhs", "2027-06-25T10:00:00-04:00"), submitted("dora-initial", "2027-06-10T15:00:00+02:00"),
		submitted("dora-intermediate", "2027-06-12T15:00:00+02:00"), submitted("us-nj-state-police", "2027-06-11T15:00:00-04:00")))
	first, err := Evaluate(f)
	if err != nil {
		t.Fatal(err)
	}
	// Everything applies but the processors' duties and the resolved authority's base.
	var ruledOut []string
	for _, n := range first.NotRequired {
		ruledOut = append(ruledOut, n.ID)
	}
	if want := []string{"gdpr-art33-authority", "gdpr-art33-controller", "us-or-covered-entity"}; !reflect.DeepEqual(ruledOut, want) {
		t.Errorf("not required: %+v, want only %v", first.NotRequired, want)
	}
	for range 50 {
		again, _ := Evaluate(f)
		if !reflect.DeepEqual(first, again) {
			t.Fatal("two evaluations of the same facts differ")
		}
	}
}

func TestEvaluateRefusesInvalidFacts(t *testing.T) {
	f := build(ms(subj("US-CA", -1)))
	_, err := Evaluate(f)
	if ue, ok := err.(*UsageError); !ok || ue.Field != "subjects_by_jurisdiction.US-CA" {
		t.Errorf("err = %v, want a UsageError for subjects_by_jurisdiction.US-CA", err)
	}
}

// Whether an obligation is met by notices is data of the rulebook; obligations recorded before
// it was (no kind) are told by their template's name, as they were then.
func TestObligationKind(t *testing.T) {
	notices := map[string]bool{}
	for _, o := range mustEvaluateAll(t) {
		notices[o.ID] = o.IsNotice()
		if o.Kind != KindReport && o.Kind != KindNotice {
			t.Errorf("%s has kind %q", o.ID, o.Kind)
		}
	}
	for id, want := range map[string]bool{"gdpr-art34-subjects": true, "us-ca-residents": true, "hipaa-individuals": true,
		"gdpr-art33-authority": false, "hipaa-media": false, "nis2-early-warning": false} {
		if got, ok := notices[id]; !ok || got != want {
			t.Errorf("%s: notice %t (present %t), want %t", id, got, ok, want)
		}
	}
	for tmpl, want := range map[string]bool{"gdpr-art34-notice": true, "hipaa-media-notice": false, "gdpr-art33-report": false} {
		if got := (Obligation{Template: tmpl}).IsNotice(); got != want {
			t.Errorf("a recorded obligation without kind, template %s: notice %t, want %t", tmpl, got, want)
		}
	}
}

// mustEvaluateAll evaluates facts under which most regimes apply.
func mustEvaluateAll(t *testing.T) []Obligation {
	t.Helper()
	f := Facts{AwareAt: ts("2026-06-10T10:00:00+02:00"), Timezone: "Europe/Berlin", Risk: "high", Role: "controller",
		Establishments: []string{"DE", "GB", "US-CA"}, Sectors: []string{"health-covered-entity", "nis2-essential", "us-listed"},
		SignificantIncident: true, DataCategories: []string{"contact", "health"},
		SubjectsByJurisdiction: map[string]int{"DE": 600, "GB": 600, "US-CA": 600, "US-TX": 600, "BR": 10, "CA": 10, "SG": 600, "AU": 10}}
	res, err := Evaluate(f)
	if err != nil {
		t.Fatal(err)
	}
	return res.Obligations
}

// Zones come from the embedded database, whatever the machine has: a worker with other (or no)
// system tzdata computes the same deadlines.
func TestZonesAreEmbedded(t *testing.T) {
	t.Setenv("ZONEINFO", t.TempDir()) // a system database that is empty
	zoneMu.Lock()
	zoneCache = map[string]*time.Location{}
	zoneMu.Unlock()
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Singapore"} {
		loc, err := location(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if loc.String() != name {
			t.Errorf("%s loaded as %s", name, loc)
		}
	}
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	berlin, _ := location("Europe/Berlin")
	if _, off := summer.In(berlin).Zone(); off != 2*3600 {
		t.Errorf("Berlin in July is UTC%+d, want +2h", off/3600)
	}
	if _, err := location("Mars/Olympus"); err == nil {
		t.Error("an unknown zone was loaded")
	}
	if !strings.Contains(Version, "+tz"+tzRelease) || !strings.HasPrefix(Version, "rules-") {
		t.Errorf("rulebook version %q", Version)
	}
}
