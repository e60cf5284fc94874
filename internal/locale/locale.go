// Package locale holds what the reports and notices need to speak to their reader: the
// official languages and the time zone of each place, the choice of a notice's language for a
// person and of a report's language for an authority, and dates written the way each language
// writes them, with UTC beside them.
//
// It holds no personal data and reads none: callers hand it a language a dataset recorded, a
// jurisdiction code, or an authority's accepted languages.
package locale

import (
	"regexp"
	"slices"
	"strings"
)

// English is the language every template exists in, and the one a missing translation falls
// back to.
const English = "en"

// languageTag is a BCP 47-like tag whose primary subtag is an ISO 639-1 code: de, de-AT, pt_BR,
// zh-Hant-TW.
var languageTag = regexp.MustCompile(`^([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*$`)

// Normalize returns the ISO 639-1 code of a language tag as datasets and account settings hold
// it ("de", "DE", "de-AT", "de_AT", "pt-BR" give de, de, de, de, pt), and false when tag is not
// one (empty, "German", "deu").
func Normalize(tag string) (string, bool) {
	m := languageTag.FindStringSubmatch(strings.TrimSpace(tag))
	if m == nil {
		return "", false
	}
	code := strings.ToLower(m[1])
	if alias, ok := deprecatedCodes[code]; ok {
		code = alias
	}
	return code, true
}

// deprecatedCodes are ISO 639-1 codes withdrawn in favour of others, still found in old data.
var deprecatedCodes = map[string]string{"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}

// Valid reports whether code is a lower-case two-letter language code, as the configuration
// takes it.
func Valid(code string) bool {
	return len(code) == 2 && code[0] >= 'a' && code[0] <= 'z' && code[1] >= 'a' && code[1] <= 'z'
}

// Name is the English name of a language ("German" for de), or the code itself when this
// package does not know it.
func Name(code string) string {
	if n, ok := names[code]; ok {
		return n
	}
	return code
}

// Official returns the official languages of a jurisdiction (an ISO 3166-1 country code, or a
// region such as CA-QC or US-PR), the one used first in notices first; nil when this package
// does not know them. A region without its own entry has its country's.
func Official(jurisdiction string) []string {
	if l, ok := official[jurisdiction]; ok {
		return slices.Clone(l)
	}
	country, _, _ := strings.Cut(jurisdiction, "-")
	return slices.Clone(official[country])
}

// Country is the country of a jurisdiction or region code: DE for DE-BE, US for US-CA.
func Country(jurisdiction string) string {
	c, _, _ := strings.Cut(jurisdiction, "-")
	return c
}

// Person is how the language of a person's notice was chosen.
type Person struct {
	Language string
	// Source is where it came from: SourceDataset, SourceConfig, SourceOfficial or
	// SourceDefault.
	Source string
}

// Sources of a person's language.
const (
	// SourceDataset: the language column of the affected-subjects dataset.
	SourceDataset = "dataset"
	// SourceConfig: the organisation's language for the person's country (breach.yaml
	// languages.countries).
	SourceConfig = "config"
	// SourceOfficial: the official language of the person's country.
	SourceOfficial = "official"
	// SourceDefault: nothing known of the country; English.
	SourceDefault = "default"
)

// ForPerson chooses the language of a notice to a person: the language their record names (a
// tag Normalize accepts), else the organisation's language for their jurisdiction or its
// country (countries, from the configuration), else the first official language of their
// jurisdiction, else English.
func ForPerson(recorded, jurisdiction string, countries map[string]string) Person {
	if l, ok := Normalize(recorded); ok {
		return Person{Language: l, Source: SourceDataset}
	}
	if l, ok := countries[jurisdiction]; ok && l != "" {
		return Person{Language: l, Source: SourceConfig}
	}
	if l, ok := countries[Country(jurisdiction)]; ok && l != "" {
		return Person{Language: l, Source: SourceConfig}
	}
	if off := Official(jurisdiction); len(off) > 0 {
		return Person{Language: off[0], Source: SourceOfficial}
	}
	return Person{Language: English, Source: SourceDefault}
}

// ForReport chooses the language of a report among candidates, the languages the reader accepts
// in the order given (an authority's, from the directory): the first of the organisation's
// preferred languages that is a candidate, else the first candidate, else English.
func ForReport(candidates, preferred []string) string {
	for _, p := range preferred {
		if slices.Contains(candidates, p) {
			return p
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	return English
}
