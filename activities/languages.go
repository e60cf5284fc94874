package activities

import (
	"fmt"
	"slices"
	"strings"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/locale"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

// reportLanguage is the language a report is written for: the one it was drafted in (so that
// what is submitted is what was approved), English for incidents declared before languages
// were chosen, else the language its reader accepts (reportCandidates), the organisation's
// preferred one among several. why says how it was chosen, for the timeline.
func reportLanguage(in incident.ReportInput) (lang, why string) {
	switch {
	case in.Language != "":
		return in.Language, "the language the report was drafted in"
	case in.Languages == nil:
		return locale.English, ""
	}
	candidates, whose := reportCandidates(in)
	lang = locale.ForReport(candidates, in.Languages.Reports)
	switch {
	case len(candidates) == 0:
		why = "no language is known for " + whose + ": English"
	case len(candidates) == 1:
		why = whose + " takes " + locale.Name(lang)
	case slices.Contains(in.Languages.Reports, lang):
		why = fmt.Sprintf("%s takes %s; the organisation prefers %s", whose, languageList(candidates), locale.Name(lang))
	default:
		why = fmt.Sprintf("%s takes %s; the first is used (the organisation names none of them in languages.reports)", whose, languageList(candidates))
	}
	return lang, why
}

// reportCandidates are the languages a report's reader accepts, in the order they are offered,
// and who the reader is, for the timeline:
//   - an authority the rules name: the configuration's languages for it, else the directory's
//     (with those it accepts in cross-border cases, where others' residents are affected),
//     else the official languages of its place;
//   - else the place the obligation protects, where it is one (JP, US-CA: that place's
//     official languages), or the organisation's first establishment (NIS2, DORA: the
//     authorities of the Member State of establishment).
func reportCandidates(in incident.ReportInput) ([]string, string) {
	o := in.Obligation
	if a := o.Authority; a != nil && !a.Undetermined && a.Code != "" {
		if l := in.Languages.Authorities[a.Code]; len(l) > 0 {
			return l, a.Code + " (as the configuration says)"
		}
		if ent, ok := rules.LookupAuthority(a.Code); ok {
			langs := slices.Clone(ent.Languages)
			if crossBorder(in.Scope, ent.Country) {
				for _, l := range ent.CrossBorderLanguages {
					if !slices.Contains(langs, l) {
						langs = append(langs, l)
					}
				}
			}
			if len(langs) > 0 {
				return langs, a.Code
			}
			place := ent.Region
			if place == "" {
				place = ent.Country
			}
			return locale.Official(place), a.Code + " (the directory does not say which languages it accepts; those of " + place + ")"
		}
	}
	if place := reportPlace(in); place != "" {
		return locale.Official(place), "the authority of " + place
	}
	return nil, "the authority"
}

// reportPlace is where a report's reader is: the authority's region or country, the one place
// the obligation protects, or the organisation's first establishment.
func reportPlace(in incident.ReportInput) string {
	o := in.Obligation
	if a := o.Authority; a != nil && !a.Undetermined {
		if ent, ok := rules.LookupAuthority(a.Code); ok {
			if ent.Region != "" {
				return ent.Region
			}
			return ent.Country
		}
	}
	if len(o.Subjects) == 1 && rules.KnownJurisdiction(o.Subjects[0]) {
		return o.Subjects[0]
	}
	if len(o.Subjects) > 0 && strings.HasPrefix(o.Subjects[0], "US-") {
		return "US"
	}
	if e := in.Organisation.Establishments; len(e) > 0 {
		return e[0]
	}
	return ""
}

// reportZone is the time zone of a report's reader, for the dates of a translation.
func reportZone(in incident.ReportInput) string {
	if p := reportPlace(in); p != "" {
		return locale.Zone(p)
	}
	if in.Organisation.Timezone != "" {
		return in.Organisation.Timezone
	}
	return "UTC"
}

// crossBorder reports whether people resident outside country, in the EEA, are affected.
func crossBorder(s incident.ScopeSummary, country string) bool {
	for j, n := range s.ByJurisdiction {
		if n > 0 && rules.IsEEA(j) && locale.Country(j) != country {
			return true
		}
	}
	return false
}

func languageList(langs []string) string {
	names := make([]string, len(langs))
	for i, l := range langs {
		names[i] = locale.Name(l)
	}
	return strings.Join(names, ", ")
}

// noticeLanguage is the language of a person's notice: English for incidents declared before
// languages were chosen (localized false), else the person's (locale.ForPerson).
func noticeLanguage(n incident.NoticeContent, row subjects.Row) (lang string, localized bool) {
	if n.Languages == nil {
		return locale.English, false
	}
	return locale.ForPerson(row.Language, row.Jurisdiction, n.Languages.Countries).Language, true
}

// countLanguage counts a person's notice in c: by the language it is written in, and, when
// that is not the one wanted, as a fallback of its template.
func countLanguage(c *incident.NoticeCounts, tmpl, wanted, used string) {
	if c.Languages == nil {
		c.Languages = map[string]int{}
	}
	c.Languages[used]++
	if used != wanted {
		if c.Fallbacks == nil {
			c.Fallbacks = map[string]int{}
		}
		c.Fallbacks[tmpl+":"+wanted]++
	}
}
