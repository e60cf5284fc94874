package rules

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

const goodFacts = `{
  "aware_at": "2026-06-10T10:00:00+02:00",
  "timezone": "Europe/Berlin",
  "role": "controller",
  "establishments": ["DE"],
  "sectors": ["nis2-important", "us-listed"],
  "subjects_by_jurisdiction": {"FR": 1200, "US-CA": 640, "GB": 0},
  "data_categories": ["contact", "financial"],
  "risk": "high",
  "encrypted_unintelligible": false,
  "materiality_determined_at": "2026-06-11T09:00:00-04:00",
  "significant_incident": true,
  "submitted": {"us-ca-residents": "2026-06-20T16:00:00Z"}
}`

func TestParseFactsGood(t *testing.T) {
	f, err := ParseFacts([]byte(goodFacts))
	if err != nil {
		t.Fatal(err)
	}
	if !f.AwareAt.Equal(ts("2026-06-10T08:00:00Z")) {
		t.Errorf("aware_at = %s", f.AwareAt)
	}
	if _, off := f.AwareAt.Zone(); off != 2*3600 {
		t.Errorf("aware_at lost its offset: %d", off)
	}
	if f.MaterialityDeterminedAt == nil || !f.MaterialityDeterminedAt.Equal(ts("2026-06-11T13:00:00Z")) {
		t.Errorf("materiality_determined_at = %v", f.MaterialityDeterminedAt)
	}
	if n, ok := f.SubjectsByJurisdiction["GB"]; f.SubjectsByJurisdiction["US-CA"] != 640 || !ok || n != 0 {
		t.Errorf("subjects = %v", f.SubjectsByJurisdiction)
	}
	if got := f.Submitted["us-ca-residents"]; !got.Equal(ts("2026-06-20T16:00:00Z")) {
		t.Errorf("submitted = %v", f.Submitted)
	}
	if f.Risk != "high" || f.Role != "controller" || !f.SignificantIncident || len(f.Sectors) != 2 || len(f.DataCategories) != 2 {
		t.Errorf("facts = %+v", f)
	}
	// The facts of issue 14.
	f, err = ParseFacts([]byte(`{"aware_at":"2026-06-10T10:00:00+02:00","establishments":["DE","US"],"establishment_regions":["DE-BY"],
		"main_establishment":"DE-BY","public_task":false,"classified_major_at":"2026-06-10T12:00:00+02:00",
		"assessed_at":"2026-06-11T09:00:00+02:00","wrongful_purpose":true,"external_unlawful_access":true,"sectors":["telecom-postal"],
		"submitted":{"gdpr-art33-authority-de-bfdi":"2026-06-11T10:00:00+02:00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.ClassifiedMajorAt == nil || !f.ClassifiedMajorAt.Equal(ts("2026-06-10T10:00:00Z")) || f.AssessedAt == nil || !f.AssessedAt.Equal(ts("2026-06-11T07:00:00Z")) ||
		!f.WrongfulPurpose || !f.ExternalUnlawfulAccess || f.MainEstablishment != "DE-BY" || len(f.EstablishmentRegions) != 1 {
		t.Errorf("facts of issue 14 = %+v", f)
	}
	if _, ok := f.Submitted["gdpr-art33-authority-de-bfdi"]; !ok {
		t.Error("a filing of a resolved authority obligation was not kept")
	}
	// Minimal facts: only aware_at.
	if _, err := ParseFacts([]byte(`{"aware_at":"2026-06-10T08:00:00Z"}`)); err != nil {
		t.Errorf("minimal facts: %v", err)
	}
}

func TestParseFactsBadInput(t *testing.T) {
	const at = `"aware_at":"2026-06-10T10:00:00+02:00"`
	cases := []struct {
		name, json, field, msg string
	}{
		{"missing aware_at", `{}`, "aware_at", "required"},
		{"null aware_at", `{"aware_at":null}`, "aware_at", "required"},
		{"aware_at without offset", `{"aware_at":"2026-06-10T10:00:00"}`, "aware_at", "no UTC offset"},
		{"aware_at with unknown offset -00:00", `{"aware_at":"2026-06-10T10:00:00-00:00"}`, "aware_at", "-00:00"},
		{"aware_at date only", `{"aware_at":"2026-06-10"}`, "aware_at", "not an RFC 3339 time"},
		{"aware_at not a string", `{"aware_at":1781078400}`, "aware_at", "expected a string"},
		{"aware_at hour 24", `{"aware_at":"2026-06-10T24:00:00Z"}`, "aware_at", "not an RFC 3339 time"},
		{"materiality without offset", `{` + at + `,"materiality_determined_at":"2026-06-11T09:00:00"}`, "materiality_determined_at", "no UTC offset"},
		{"submitted without offset", `{` + at + `,"submitted":{"us-ca-residents":"2026-06-20T16:00:00"}}`, "submitted.us-ca-residents", "no UTC offset"},
		{"unknown obligation id in submitted", `{` + at + `,"submitted":{"gdpr-art99":"2026-06-20T16:00:00Z"}}`, "submitted.gdpr-art99", "unknown obligation id"},
		{"negative count", `{` + at + `,"subjects_by_jurisdiction":{"US-CA":-1}}`, "subjects_by_jurisdiction.US-CA", "negative count"},
		{"fractional count", `{` + at + `,"subjects_by_jurisdiction":{"FR":1.5}}`, "subjects_by_jurisdiction.FR", "whole number"},
		{"count as string", `{` + at + `,"subjects_by_jurisdiction":{"FR":"3"}}`, "subjects_by_jurisdiction.FR", "whole number"},
		{"count too large", `{` + at + `,"subjects_by_jurisdiction":{"FR":1e40}}`, "subjects_by_jurisdiction.FR", "whole number"},
		{"UK is not ISO 3166-1", `{` + at + `,"subjects_by_jurisdiction":{"UK":3}}`, "subjects_by_jurisdiction.UK", "use GB"},
		{"lower-case code", `{` + at + `,"subjects_by_jurisdiction":{"fr":3}}`, "subjects_by_jurisdiction.fr", "write it as FR"},
		{"unknown country", `{` + at + `,"subjects_by_jurisdiction":{"XX":3}}`, "subjects_by_jurisdiction.XX", "unknown jurisdiction code"},
		{"unknown US state", `{` + at + `,"subjects_by_jurisdiction":{"US-ZZ":3}}`, "subjects_by_jurisdiction.US-ZZ", "US-XX"},
		{"subdivision the rules do not route by", `{` + at + `,"subjects_by_jurisdiction":{"AU-NSW":3}}`, "subjects_by_jurisdiction.AU-NSW", "unknown jurisdiction code"},
		{"a German Land as a place of residence", `{` + at + `,"subjects_by_jurisdiction":{"DE-BE":3}}`, "subjects_by_jurisdiction.DE-BE", "DE-BE is a region"},
		{"bad establishment", `{` + at + `,"establishments":["DE","EU"]}`, "establishments[1]", "unknown jurisdiction code"},
		{"unknown risk", `{` + at + `,"risk":"medium"}`, "risk", "unlikely, risk, high"},
		{"unknown role", `{` + at + `,"role":"owner"}`, "role", "controller, processor"},
		{"unknown sector", `{` + at + `,"sectors":["us-listed","bank"]}`, "sectors[1]", "unknown sector"},
		{"unknown sector lists the known", `{` + at + `,"sectors":["retail"]}`, "sectors[0]", "health-covered-entity (a HIPAA covered entity"},
		{"misspelt sector", `{` + at + `,"sectors":["nis2-esential"]}`, "sectors[0]", "did you mean nis2-essential?"},
		{"misspelt role", `{` + at + `,"role":"proccessor"}`, "role", "did you mean processor?"},
		{"misspelt obligation id", `{` + at + `,"submitted":{"gdpr-art33-authorty":"2026-06-20T16:00:00Z"}}`, "submitted.gdpr-art33-authorty", "did you mean gdpr-art33-authority?"},
		{"unknown timezone", `{` + at + `,"timezone":"Mars/Olympus_Mons"}`, "timezone", "unknown IANA time zone"},
		{"Local timezone", `{` + at + `,"timezone":"Local"}`, "timezone", "not an IANA time zone"},
		{"path as timezone", `{` + at + `,"timezone":"../../etc/passwd"}`, "timezone", "not an IANA time zone"},
		{"empty category", `{` + at + `,"data_categories":["health",""]}`, "data_categories[1]", "empty category"},
		{"free-text category", `{` + at + `,"data_categories":["health","IBAN DE89370400440532013000"]}`, "data_categories[1]", "not a data category"},
		{"unknown category lists the vocabulary", `{` + at + `,"data_categories":["born 1984-02-29"]}`, "data_categories[0]", "contact, address, date-of-birth"},
		{"unknown field", `{` + at + `,"awareAt":"2026-06-10T10:00:00Z"}`, "awareAt", "unknown field"},
		{"duplicate field", `{` + at + `,"risk":"unlikely","risk":"high"}`, "risk", "given twice"},
		{"duplicate jurisdiction", `{` + at + `,"subjects_by_jurisdiction":{"FR":1,"FR":2}}`, "subjects_by_jurisdiction.FR", "given twice"},
		{"boolean as string", `{` + at + `,"significant_incident":"yes"}`, "significant_incident", "true or false"},
		{"classified before awareness", `{` + at + `,"classified_major_at":"2026-06-10T07:59:00Z"}`, "classified_major_at", "is before aware_at"},
		{"assessed without offset", `{` + at + `,"assessed_at":"2026-06-12T10:00:00"}`, "assessed_at", "no UTC offset"},
		{"assessed before awareness", `{` + at + `,"assessed_at":"2026-06-01T10:00:00Z"}`, "assessed_at", "only after becoming aware"},
		{"public task as a string", `{` + at + `,"public_task":"yes"}`, "public_task", "true or false"},
		{"wrongful purpose as a number", `{` + at + `,"wrongful_purpose":1}`, "wrongful_purpose", "true or false"},
		{"a region as a string", `{` + at + `,"establishment_regions":"DE-BE"}`, "establishment_regions", "an array of strings"},
		{"a region without its country", `{` + at + `,"establishments":["FR"],"establishment_regions":["DE-BE"]}`, "establishment_regions[0]", "add DE to establishments"},
		{"a Land without the country but a main establishment", `{` + at + `,"establishments":["DE"],"main_establishment":"DE"}`, "establishment_regions", "BDSG §40(1)"},
		{"trailing data", `{` + at + `} {}`, "facts", "unexpected data"},
		{"array", `[]`, "facts", "expected an object"},
		{"empty", ``, "facts", "empty or truncated"},
		{"truncated", `{` + at, "facts", "truncated"},
		{"syntax", `{"aware_at":}`, "facts", "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFacts([]byte(c.json))
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T), want *UsageError", err, err)
			}
			for _, secret := range []string{"DE89370400440532013000", "1984-02-29"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats the value %q", err, secret)
				}
			}
			if ue.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", ue.Field, c.field, err)
			}
			if !strings.Contains(ue.Msg, c.msg) {
				t.Errorf("message %q does not contain %q", ue.Msg, c.msg)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q does not name the field", err)
			}
			// Wrapped, as the CLI returns it, it is still recognisable.
			if !errors.As(fmt.Errorf("obligations: %w", err), &ue) {
				t.Error("wrapped error lost its type")
			}
		})
	}
}

func TestValidateStruct(t *testing.T) {
	ok := build(nil)
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid facts: %v", err)
	}
	cases := []struct {
		name  string
		mod   mod
		field string
	}{
		{"zero aware_at", func(f *Facts) { f.AwareAt = time.Time{} }, "aware_at"},
		{"negative count", subj("US-TX", -5), "subjects_by_jurisdiction.US-TX"},
		{"bad code", subj("ZZ", 1), "subjects_by_jurisdiction.ZZ"},
		{"bad establishment", est("GB", "UK"), "establishments[1]"},
		{"unknown submitted id", submitted("us-xx-residents", "2026-06-20T16:00:00Z"), "submitted.us-xx-residents"},
		{"zero submitted time", func(f *Facts) { f.Submitted = map[string]time.Time{"br-anpd": {}} }, "submitted.br-anpd"},
		{"zero materiality", func(f *Facts) { f.MaterialityDeterminedAt = &time.Time{} }, "materiality_determined_at"},
		{"unknown risk", risk("severe"), "risk"},
		{"unknown role", func(f *Facts) { f.Role = "joint-controller" }, "role"},
		{"unknown sector", sector("bank"), "sectors[0]"},
		{"bad timezone", zone("Europe/Atlantis"), "timezone"},
		{"first bad key in sorted order", subj("ZZ", 1, "AA", 1), "subjects_by_jurisdiction.AA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := build([]mod{c.mod})
			err := f.Validate()
			ue, isUsage := err.(*UsageError)
			if !isUsage {
				t.Fatalf("err = %v (%T), want *UsageError", err, err)
			}
			if ue.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", ue.Field, c.field, err)
			}
		})
	}
}

// Known categories are accepted in any case; ParseFacts keeps them as given.
func TestParseFactsAcceptsTheCategoryVocabulary(t *testing.T) {
	f, err := ParseFacts([]byte(`{"aware_at":"2026-06-10T10:00:00Z","data_categories":["Health"," financial ","other"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.DataCategories) != 3 {
		t.Errorf("categories %v", f.DataCategories)
	}
}

// endless is an input that never ends, like /dev/zero.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestReadFactsStopsAtTheSizeCap(t *testing.T) {
	cases := []struct {
		name    string
		in      func() io.Reader
		wantErr string
	}{
		{"endless input", func() io.Reader { return &endless{} }, "larger than 1048576 bytes"},
		{"valid facts padded past the cap", func() io.Reader {
			return strings.NewReader(`{"aware_at":"2026-06-10T10:00:00Z"}` + strings.Repeat(" ", MaxFactsBytes))
		}, "larger than 1048576 bytes"},
		{"valid facts padded to the cap", func() io.Reader {
			doc := `{"aware_at":"2026-06-10T10:00:00Z"}`
			return strings.NewReader(doc + strings.Repeat(" ", MaxFactsBytes-len(doc)))
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.in()
			_, err := ReadFacts(r)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadFacts: %v", err)
				}
				return
			}
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want a UsageError saying %q", err, c.wantErr)
			}
			if e, ok := r.(*endless); ok && e.read > 2*MaxFactsBytes {
				t.Errorf("read %d bytes of an endless input; the cap is %d", e.read, MaxFactsBytes)
			}
		})
	}
}
