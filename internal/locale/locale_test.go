package locale

import (
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"de": "de", "DE": "de", "de-AT": "de", "de_at": "de", " pt-BR ": "pt", "zh-Hant-TW": "zh", "iw": "he", "sv-SE": "sv",
	} {
		if got, ok := Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "German", "deu", "d", "de-", "de--AT", "1a", "de AT"} {
		if got, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) = %q; want refused", in, got)
		}
	}
}

func TestForPerson(t *testing.T) {
	countries := map[string]string{"BE": "fr", "CA-QC": "en"}
	for _, tt := range []struct {
		recorded, jurisdiction string
		want                   Person
	}{
		{"it-IT", "DE", Person{"it", SourceDataset}},
		{"", "DE", Person{"de", SourceOfficial}},
		{"", "AT", Person{"de", SourceOfficial}},
		{"", "BE", Person{"fr", SourceConfig}},
		{"", "NL", Person{"nl", SourceOfficial}},
		{"", "CA-QC", Person{"en", SourceConfig}},
		{"", "CA-ON", Person{"en", SourceOfficial}},
		{"", "US-CA", Person{"en", SourceOfficial}},
		{"", "US-PR", Person{"es", SourceOfficial}},
		{"", "JP", Person{"ja", SourceOfficial}},
		{"Klingon", "PL", Person{"pl", SourceOfficial}},
		{"", "AQ", Person{"en", SourceDefault}},
	} {
		if got := ForPerson(tt.recorded, tt.jurisdiction, countries); got != tt.want {
			t.Errorf("ForPerson(%q, %q) = %+v; want %+v", tt.recorded, tt.jurisdiction, got, tt.want)
		}
	}
	if got := ForPerson("", "CA-QC", nil); got.Language != "fr" {
		t.Errorf("Québec without configuration: %+v; want French", got)
	}
}

func TestForReport(t *testing.T) {
	for _, tt := range []struct {
		accepted, preferred []string
		want                string
	}{
		{[]string{"de"}, nil, "de"},
		{[]string{"de"}, []string{"en"}, "de"},
		{[]string{"fr", "nl", "de"}, nil, "fr"},
		{[]string{"fr", "nl", "de"}, []string{"en", "de"}, "de"},
		{[]string{"el", "en"}, []string{"en"}, "en"},
		{nil, []string{"de"}, "en"},
	} {
		if got := ForReport(tt.accepted, tt.preferred); got != tt.want {
			t.Errorf("ForReport(%v, %v) = %q; want %q", tt.accepted, tt.preferred, got, tt.want)
		}
	}
}

// Every place has a zone the embedded database knows, and every official language a name.
func TestTablesAreComplete(t *testing.T) {
	for place, z := range zones {
		if z == "UTC" {
			continue
		}
		if LoadZone(z) == time.UTC {
			t.Errorf("zone %s of %s is not in the embedded database", z, place)
		}
	}
	for place, langs := range official {
		if len(langs) == 0 {
			t.Errorf("%s has no language", place)
		}
		for _, l := range langs {
			if !Valid(l) || Name(l) == l {
				t.Errorf("%s: language %q has no name", place, l)
			}
		}
		if _, ok := zones[place]; !ok {
			if _, ok := zones[Country(place)]; !ok {
				t.Errorf("%s has languages but no zone", place)
			}
		}
	}
	for _, c := range strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB CH") {
		if len(Official(c)) == 0 || Zone(c) == "UTC" && c != "GB" {
			t.Errorf("%s: no official language or zone", c)
		}
	}
}

func TestDateTime(t *testing.T) {
	winter := time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)
	night := time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC) // 1 April in Paris (summer time)
	for _, tt := range []struct {
		t          time.Time
		lang, zone string
		want       string
	}{
		{winter, "de", "Europe/Berlin", "5. März 2026, 15:30 Uhr (UTC+1; 14:30 Uhr UTC)"},
		{winter, "en", "Europe/Berlin", "5 March 2026, 15:30 (UTC+1; 14:30 UTC)"},
		{night, "fr", "Europe/Paris", "1er avril 2026, 00 h 30 (UTC+2 ; 31 mars 2026, 22 h 30 UTC)"},
		{winter, "it", "Europe/Rome", "5 marzo 2026, ore 15:30 (UTC+1; ore 14:30 UTC)"},
		{winter, "es", "Atlantic/Canary", "5 de marzo de 2026, 14:30 (UTC)"},
		{winter, "nl", "Europe/Amsterdam", "5 maart 2026, 15.30 uur (UTC+1; 14.30 uur UTC)"},
		{winter, "pl", "Europe/Warsaw", "5 marca 2026 r., godz. 15:30 (UTC+1; godz. 14:30 UTC)"},
		{winter, "pt", "Europe/Lisbon", "5 de março de 2026, 14h30 (UTC)"},
		{winter, "sv", "Europe/Stockholm", "5 mars 2026 kl. 15.30 (UTC+1; kl. 14.30 UTC)"},
		{winter, "de", "UTC", "5. März 2026, 14:30 Uhr UTC"},
		{winter, "de", "", "5. März 2026, 14:30 Uhr UTC"},
		{winter, "en", "Asia/Kolkata", "5 March 2026, 20:00 (UTC+5:30; 14:30 UTC)"},
		{winter, "en", "-07:00", "5 March 2026, 07:30 (UTC-7; 14:30 UTC)"},
		{winter, "ja", "Asia/Tokyo", "5 March 2026, 23:30 (UTC+9; 14:30 UTC)"},
		{time.Time{}, "de", "Europe/Berlin", "nicht erfasst"},
	} {
		if got := DateTime(tt.t, tt.lang, tt.zone); got != tt.want {
			t.Errorf("DateTime(%s, %s, %s) = %q; want %q", tt.t, tt.lang, tt.zone, got, tt.want)
		}
	}
	if got := Date(night, "pl", "Europe/Warsaw"); got != "1 kwietnia 2026 r." {
		t.Errorf("Date = %q", got)
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		n    int
		lang string
		want string
	}{
		{1234, "en", "1,234"}, {1234, "de", "1234"}, {12345, "de", "12.345"}, {1234567, "fr", "1\u00a0234\u00a0567"},
		{999, "en", "999"}, {-12345, "it", "-12.345"}, {0, "sv", "0"}, {100000, "en", "100,000"},
	} {
		if got := Number(tt.n, tt.lang); got != tt.want {
			t.Errorf("Number(%d, %s) = %q; want %q", tt.n, tt.lang, got, tt.want)
		}
	}
}
