package rules

import (
	"strings"

	"github.com/breachops/breach/internal/spelling"
)

// The rules' vocabulary: the words facts may use, from the rule data, so that whatever feeds the
// rules (the configuration, a scenario, a facts file) checks against one source.

// Sector is a sector the regimes test; an organisation lists the ones that apply to it.
type Sector struct {
	Name string `yaml:"name"`
	// Title says what the sector means, in a few words.
	Title string `yaml:"title"`
}

// Sectors lists the sectors the rules know (sectors.yaml), in file order.
func Sectors() []Sector { return append([]Sector(nil), rulebook.sectors...) }

// SectorNames lists the names of Sectors.
func SectorNames() []string {
	names := make([]string, 0, len(rulebook.sectors))
	for _, s := range rulebook.sectors {
		names = append(names, s.Name)
	}
	return names
}

// KnownSector reports whether the rules know the sector name.
func KnownSector(name string) bool { return rulebook.sectorSet[name] }

// Category is a data category: a kind of personal data a breach may affect.
type Category struct {
	Name string `yaml:"name"`
	// Title says what the category covers, in a few words.
	Title string `yaml:"title"`
}

// OtherCategory is the category an unknown data category counts as.
const OtherCategory = "other"

// Categories lists the data categories (categories.yaml), in file order: the closed vocabulary
// of a dataset's data_categories column and of the data_categories fact.
func Categories() []Category { return append([]Category(nil), rulebook.categories...) }

// CategoryNames lists the names of Categories.
func CategoryNames() []string {
	names := make([]string, 0, len(rulebook.categories))
	for _, c := range rulebook.categories {
		names = append(names, c.Name)
	}
	return names
}

// KnownCategory reports whether name is a data category of the vocabulary (lower case).
func KnownCategory(name string) bool { return rulebook.categorySet[name] }

// Roles lists the organisation roles the rules tell apart (the role fact).
func Roles() []string { return append([]string(nil), roles...) }

// KnownObligation reports whether id is an obligation id of some regime, or one the GDPR
// authority obligation resolves to (gdpr-art33-authority-de-be).
func KnownObligation(id string) bool { return rulebook.known[id] || rulebook.resolvedIDs[id] }

// CheckTimezone checks an organisation time zone as the rules do: an IANA name, not "Local"
// (which differs between machines). It returns nil or a *UsageError for field "timezone".
func CheckTimezone(name string) error {
	if _, err := validTimezone(name); err != nil {
		return err
	}
	return nil
}

// JurisdictionHint says how to fix a code that KnownJurisdiction refuses.
func JurisdictionHint(code string) string { return jurisdictionHint(code) }

// didYouMean is " (did you mean X?)" when word looks like a misspelling of one of known.
func didYouMean(word string, known []string) string {
	if n := spelling.Nearest(word, known); n != "" {
		return " (did you mean " + n + "?)"
	}
	return ""
}

// sectorList is the known sectors with what each means, for messages.
func sectorList() string {
	parts := make([]string, 0, len(rulebook.sectors))
	for _, s := range rulebook.sectors {
		parts = append(parts, s.Name+" ("+s.Title+")")
	}
	return strings.Join(parts, ", ")
}
