package rules

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// Authority is one entry of the authority directory (authorities.yaml): a supervisory authority
// a breach is notified to, how to reach it and in which languages it accepts a notification.
type Authority struct {
	// Code is the directory's key: DE-BE, FR, DE-BFDI. A resolved obligation's id ends in it,
	// in lower case (gdpr-art33-authority-de-be).
	Code  string `yaml:"code" json:"code"`
	Name  string `yaml:"name" json:"name"`
	Short string `yaml:"short" json:"short,omitempty"`
	// Country and Region say where it is competent: an ISO 3166-1 code, and for a regional
	// authority the ISO 3166-2 code of its region.
	Country string `yaml:"country" json:"country"`
	Region  string `yaml:"region" json:"region,omitempty"`
	// Regime is the law whose breach notices it receives: gdpr, uk-gdpr or ch-fadp.
	Regime string `yaml:"regime" json:"regime"`
	// Supervises says whose processing: private and/or public bodies. Sectors: private bodies
	// of these sectors, wherever in the country they are (Germany's BfDI: telecom-postal).
	Supervises []string `yaml:"supervises" json:"supervises"`
	Sectors    []string `yaml:"sectors" json:"sectors,omitempty"`
	// Channel says how a notification is filed, as found; Portal, Email and Phone where known.
	Channel string `yaml:"channel" json:"channel,omitempty"`
	Portal  string `yaml:"portal" json:"portal,omitempty"`
	Email   string `yaml:"email" json:"email,omitempty"`
	Phone   string `yaml:"phone" json:"phone,omitempty"`
	// Languages are the ISO 639-1 codes of the languages a notification is accepted in, as far
	// as known; CrossBorderLanguages are accepted (Cyprus: required as well) in cross-border
	// cases or from controllers outside the EEA.
	Languages            []string `yaml:"languages" json:"languages,omitempty"`
	CrossBorderLanguages []string `yaml:"cross_border_languages" json:"cross_border_languages,omitempty"`
	Notes                string   `yaml:"notes" json:"notes,omitempty"`
	// Source is where the facts were found; Verified says the channel and the language rule are
	// stated there, and Unverified lists the facts that are not (channel, languages, source).
	Source     string   `yaml:"source" json:"source,omitempty"`
	Verified   bool     `yaml:"verified" json:"verified"`
	Unverified []string `yaml:"unverified" json:"unverified,omitempty"`
	// Configured lists the fields the organisation's configuration set (breach.yaml
	// authorities:); empty for the directory's own data.
	Configured []string `yaml:"-" json:"configured,omitempty"`
}

// Label is the authority's name, with its short name when the name does not already carry it.
func (a Authority) Label() string {
	if a.Short == "" || strings.Contains(a.Name, a.Short) {
		return a.Name
	}
	return a.Name + " (" + a.Short + ")"
}

// AuthorityRef names the authority an obligation is owed to, where the rules know it.
type AuthorityRef struct {
	// Code is the directory code (breach authorities lists them). An undetermined authority
	// carries the country's code, which the configuration may add as an entry to route it.
	Code string `json:"code"`
	Name string `json:"name"`
	// Undetermined: the law names no single authority for the facts (a controller with no
	// establishment in Germany and residents there: which Land?); Name says what to choose.
	Undetermined bool `json:"undetermined,omitempty"`
	// Channel, Portal, Email and Phone are how the directory says the authority takes a
	// notification, where known: the route a report takes unless the configuration gives one.
	Channel string `json:"channel,omitempty"`
	Portal  string `json:"portal,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// Ref names the authority, with its channel, for an obligation owed to it.
func (a Authority) Ref() AuthorityRef {
	return AuthorityRef{Code: a.Code, Name: a.Label(), Channel: a.Channel, Portal: a.Portal, Email: a.Email, Phone: a.Phone}
}

// Authority-directory vocabularies.
var (
	authorityRegimes  = []string{"gdpr", "uk-gdpr", "ch-fadp"}
	supervisionKinds  = []string{"private", "public"}
	unverifiableFacts = []string{"channel", "languages", "source"}
	authorityCode     = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{2,12}){0,2}$`)
	languageCode      = regexp.MustCompile(`^[a-z]{2}$`)
)

// gdprAuthorityID is the GDPR Art. 33 obligation that resolves into one obligation per
// competent authority.
const gdprAuthorityID = "gdpr-art33-authority"

type authoritiesFile struct {
	Authorities []Authority `yaml:"authorities"`
}

// loadAuthorities reads authorities.yaml into the book: every entry well formed, codes unique,
// and every EEA country reachable by the resolution (a national authority, or Germany's Länder).
func (b *book) loadAuthorities(fsys fs.FS) error {
	var af authoritiesFile
	if err := decodeStrict(fsys, "authorities.yaml", &af); err != nil {
		return err
	}
	b.authorityIndex = map[string]int{}
	for i, a := range af.Authorities {
		if err := b.checkAuthority(a); err != nil {
			return fmt.Errorf("authorities.yaml: entry %d (%s): %w", i, a.Code, err)
		}
		if _, dup := b.authorityIndex[a.Code]; dup {
			return fmt.Errorf("authorities.yaml: code %s listed twice", a.Code)
		}
		b.authorityIndex[a.Code] = i
		for _, s := range a.Sectors {
			b.tested[s] = true
		}
	}
	b.authorities = af.Authorities
	b.resolvedIDs = map[string]bool{}
	for _, a := range b.authorities {
		if a.Regime == "gdpr" {
			b.resolvedIDs[gdprAuthorityID+"-"+strings.ToLower(a.Code)] = true
		}
	}
	for _, c := range sortedKeys(eea) {
		if b.nationalAuthority(c, "private") == nil && c != "DE" {
			return fmt.Errorf("authorities.yaml: no national authority for %s, an EEA country", c)
		}
		// A country with no national authority for private bodies resolves to its code when
		// no region decides (Germany without an establishment there).
		if b.nationalAuthority(c, "private") == nil {
			b.resolvedIDs[gdprAuthorityID+"-"+strings.ToLower(c)] = true
		}
	}
	for _, l := range sortedKeys(deLaender) {
		if b.regionalAuthority("DE-"+l, "private") == nil {
			return fmt.Errorf("authorities.yaml: no authority for the private sector of DE-%s", l)
		}
	}
	return nil
}

func (b *book) checkAuthority(a Authority) error {
	switch {
	case !authorityCode.MatchString(a.Code):
		return fmt.Errorf("code %q: want an ISO country or region code, optionally with a suffix (DE-BY-PUBLIC)", a.Code)
	case a.Name == "":
		return fmt.Errorf("no name")
	case !countryCodes[a.Country]:
		return fmt.Errorf("country %q: want an ISO 3166-1 code", a.Country)
	case a.Region != "" && (!validRegion(a.Region) || countryOf(a.Region) != a.Country):
		return fmt.Errorf("region %q: want an ISO 3166-2 code of %s", a.Region, a.Country)
	case !oneOf(a.Regime, authorityRegimes):
		return fmt.Errorf("regime %q: want one of %s", a.Regime, strings.Join(authorityRegimes, ", "))
	case len(a.Supervises) == 0:
		return fmt.Errorf("supervises: name private and/or public")
	case a.Email != "" && !plausibleEmail(a.Email):
		return fmt.Errorf("email %q: want one bare address", a.Email)
	case a.Verified && (a.Source == "" || len(a.Unverified) > 0):
		return fmt.Errorf("verified, but without a source or with unverified facts")
	case !a.Verified && len(a.Unverified) == 0:
		return fmt.Errorf("not verified: list the unverified facts (%s)", strings.Join(unverifiableFacts, ", "))
	}
	for _, k := range a.Supervises {
		if !oneOf(k, supervisionKinds) {
			return fmt.Errorf("supervises %q: want private or public", k)
		}
	}
	for _, s := range a.Sectors {
		if !b.sectorSet[s] {
			return fmt.Errorf("unknown sector %q (sectors.yaml lists the known ones)", s)
		}
	}
	for _, u := range []string{a.Portal, a.Source} {
		if u != "" && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%q: want an https:// address", u)
		}
	}
	for _, l := range append(append([]string{}, a.Languages...), a.CrossBorderLanguages...) {
		if !languageCode.MatchString(l) {
			return fmt.Errorf("language %q: want an ISO 639-1 code such as de", l)
		}
	}
	for _, u := range a.Unverified {
		if !oneOf(u, unverifiableFacts) {
			return fmt.Errorf("unverified %q: want one of %s", u, strings.Join(unverifiableFacts, ", "))
		}
	}
	if slices.Contains(a.Unverified, "languages") != (len(a.Languages) == 0) {
		return fmt.Errorf("languages: give them, or list languages as unverified, not both")
	}
	return nil
}

// plausibleEmail is a cheap shape check: one @, no spaces, a dot in the domain. The
// configuration checks addresses it takes with the mail package.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " <>,;") && !strings.Contains(domain, "@")
}

func supervises(a *Authority, kind string) bool { return oneOf(kind, a.Supervises) }

// nationalAuthority is the GDPR authority of country with no region that supervises kind, and
// no sector restriction for private bodies; nil if none.
func (b *book) nationalAuthority(country, kind string) *Authority {
	for i := range b.authorities {
		a := &b.authorities[i]
		if a.Regime == "gdpr" && a.Country == country && a.Region == "" && supervises(a, kind) {
			return a
		}
	}
	return nil
}

// regionalAuthority is the GDPR authority of region that supervises kind; nil if none.
func (b *book) regionalAuthority(region, kind string) *Authority {
	for i := range b.authorities {
		a := &b.authorities[i]
		if a.Regime == "gdpr" && a.Region == region && supervises(a, kind) {
			return a
		}
	}
	return nil
}

// sectorAuthority is the GDPR authority of country for private bodies of one of sectors.
func (b *book) sectorAuthority(country string, sectors []string) *Authority {
	for i := range b.authorities {
		a := &b.authorities[i]
		if a.Regime == "gdpr" && a.Country == country && intersects(sectors, a.Sectors) {
			return a
		}
	}
	return nil
}

// Authorities lists the authority directory (authorities.yaml), in file order.
func Authorities() []Authority {
	out := make([]Authority, len(rulebook.authorities))
	for i, a := range rulebook.authorities {
		out[i] = a.clone()
	}
	return out
}

// LookupAuthority returns the directory entry with code.
func LookupAuthority(code string) (Authority, bool) {
	i, ok := rulebook.authorityIndex[code]
	if !ok {
		return Authority{}, false
	}
	return rulebook.authorities[i].clone(), true
}

func (a Authority) clone() Authority {
	c := a
	for _, s := range []*[]string{&c.Supervises, &c.Sectors, &c.Languages, &c.CrossBorderLanguages, &c.Unverified, &c.Configured} {
		*s = slices.Clone(*s)
	}
	return c
}

// AuthorityObligationIDs lists the ids the GDPR Art. 33 obligation may resolve to: one per
// GDPR authority of the directory, and gdpr-art33-authority-de for a controller with residents
// in Germany and no establishment there (no Land is determined).
func AuthorityObligationIDs() []string { return sortedKeys(rulebook.resolvedIDs) }

// Organisation is what the rules need to know about the organisation itself: the part of the
// facts a configuration gives.
type Organisation struct {
	Role                 string
	Establishments       []string
	EstablishmentRegions []string
	MainEstablishment    string
	PublicTask           bool
	Sectors              []string
}

func (f Facts) organisation() Organisation {
	return Organisation{Role: f.Role, Establishments: f.Establishments, EstablishmentRegions: f.EstablishmentRegions,
		MainEstablishment: f.MainEstablishment, PublicTask: f.PublicTask, Sectors: f.Sectors}
}

func (o Organisation) resolves() bool {
	return len(o.EstablishmentRegions) > 0 || o.MainEstablishment != "" || o.PublicTask
}

// CheckOrganisation checks the organisation's regions and main establishment, and that the
// competent GDPR authority can be determined from them (AUTHORITIES.md), as Facts.Validate
// does. It returns nil or a *UsageError whose field is the fact's name
// (establishment_regions[1], main_establishment). Roles, establishments and sectors are
// checked by the caller; a bad establishment is skipped here.
func CheckOrganisation(o Organisation) error {
	if err := rulebook.checkOrganisation(o); err != nil {
		return err
	}
	return nil
}

func (b *book) checkOrganisation(o Organisation) *UsageError {
	for i, r := range o.EstablishmentRegions {
		field := fmt.Sprintf("establishment_regions[%d]", i)
		switch {
		case !validRegion(r):
			return usage(field, "unknown region %q; %s", r, regionHint(r))
		case !establishedIn(o.Establishments, countryOf(r)):
			return usage(field, "%s lies in %s, which is not one of establishments (%s); add %s to establishments",
				r, countryOf(r), orNone(o.Establishments), countryOf(r))
		case slices.Index(o.EstablishmentRegions, r) < i:
			return usage(field, "%s is listed twice; remove one", r)
		}
	}
	if m := o.MainEstablishment; m != "" {
		const what = "give the country or region where decisions on the purposes and means of processing are taken and implemented (DE-BE, IE; or US when they are taken outside the EEA)"
		switch {
		case !validJurisdiction(m) && !validRegion(m):
			return usage("main_establishment", "unknown code %q; %s", m, what)
		case eea[countryOf(m)] && validRegion(m) && !slices.Contains(o.EstablishmentRegions, m):
			return usage("main_establishment", "%s is not one of establishment_regions (%s); add it there, or correct it", m, orNone(o.EstablishmentRegions))
		case eea[countryOf(m)] && !establishedIn(o.Establishments, countryOf(m)):
			return usage("main_establishment", "%s is in the EEA but not one of establishments (%s): a main establishment is an establishment; add %s to establishments, or %s",
				m, orNone(o.Establishments), countryOf(m), what)
		}
	}
	if o.resolves() && (o.Role == "" || o.Role == "controller") {
		if _, err := b.resolveGDPR(o, nil); err != nil {
			return err
		}
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// establishedIn reports whether one of establishments lies in country.
func establishedIn(establishments []string, country string) bool {
	for _, e := range establishments {
		if countryOf(e) == country {
			return true
		}
	}
	return false
}

// resolvedAuthority is one competent authority found by resolveGDPR.
type resolvedAuthority struct {
	ref       AuthorityRef
	audience  string
	reasoning []string
	// subjects are the jurisdiction patterns of the people the obligation concerns; nil:
	// every affected person.
	subjects []string
}

// resolveGDPR follows the procedure of AUTHORITIES.md for a controller: public task (Art.
// 55(2)); no EEA establishment (Art. 3(2), EDPB Guidelines 9/2022 ¶73: every authority whose
// residents are affected); one Member State of establishment (Art. 55(1), 56(1)); several
// (Art. 4(16)(a): the main establishment; decisions taken outside the EEA: none, EDPB Opinion
// 04/2024). Within Germany the Land of the establishment (BDSG §40), the BfDI for telecom and
// postal companies and federal bodies; within Spain the regional authority for a region's
// public bodies. affected are the EEA countries with affected residents, sorted; without them
// (a configuration check) only establishment-based answers are tried, and an error says which
// fact is missing.
func (b *book) resolveGDPR(o Organisation, affected []string) ([]resolvedAuthority, *UsageError) {
	est := eeaEstablishments(o.Establishments)
	steps := []string{"1. controller: it notifies the authority itself (a processor would tell each controller instead, Art. 33(2))"}
	affectedNote := ""
	if len(affected) > 0 {
		affectedNote = "7. Member States whose residents are affected: " + strings.Join(affected, ", ") + " (the notification lists them)"
	}
	finish := func(r []resolvedAuthority) []resolvedAuthority {
		for i := range r {
			if affectedNote != "" {
				r[i].reasoning = append(r[i].reasoning, affectedNote)
			}
		}
		return r
	}
	one := func(country, role, why string, step []string) ([]resolvedAuthority, *UsageError) {
		a, how, err := b.authorityIn(o, country)
		if err != nil {
			return nil, err
		}
		reasoning := append(append(append([]string{}, steps...), step...), how...)
		return finish([]resolvedAuthority{{ref: a.Ref(),
			audience: a.Label() + ": " + role + " (" + why + ")", reasoning: reasoning}}), nil
	}
	main := o.MainEstablishment
	switch {
	case o.PublicTask && len(est) > 0:
		steps = append(steps, "2. public task: the authority of the Member State concerned, no one-stop shop (Art. 55(2))")
		var out []resolvedAuthority
		for _, c := range est {
			r, err := one(c, "competent authority for processing under a public task", "Art. 55(2); established in "+countryName(c),
				[]string{"3-6. not applied: Art. 55(2) decides"})
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	case len(est) == 0:
		if o.PublicTask {
			steps = append(steps, "2. public task, but no establishment in the EEA: not a Member State's public body, so step 3 decides")
		} else {
			steps = append(steps, "2. no public task")
		}
		steps = append(steps, "3. no establishment in the EEA (Art. 3(2)): every authority of a Member State whose residents are affected; an Art. 27 representative does not bring the one-stop shop (EDPB Guidelines 9/2022 ¶73)")
		return b.everyAffected(o, steps, affected), nil
	case len(est) == 1:
		c := est[0]
		step, role, why := singleEstablishment(c, affected)
		return one(c, role, why, []string{"2. no public task: the one-stop shop applies", step})
	case main == "":
		return nil, usage("main_establishment", "establishments in several Member States (%s): name the main establishment, where decisions on the purposes and means of processing are taken and implemented (Art. 4(16)(a)), or the country outside the EEA where they are taken",
			strings.Join(est, ", "))
	case !eea[countryOf(main)]:
		step := "6. several establishments (" + strings.Join(est, ", ") + "), but decisions on purposes and means are taken in " + countryOf(main) +
			", outside the EEA: no main establishment (EDPB Opinion 04/2024), so step 3 decides: every authority whose residents are affected"
		return b.everyAffected(o, append(steps, "2. no public task: the one-stop shop would apply", step), affected), nil
	default:
		c := countryOf(main)
		step := "6. establishments in several Member States (" + strings.Join(est, ", ") + "): the authority of the main establishment, " + main +
			", where decisions on purposes and means are taken, leads (Art. 4(16)(a), 56(1))"
		return one(c, "lead supervisory authority", "Art. 56(1); main establishment in "+countryName(c), []string{"2. no public task: the one-stop shop applies", step})
	}
}

// eeaEstablishments are the EEA countries among establishments, sorted, once each.
func eeaEstablishments(establishments []string) []string {
	var est []string
	for _, e := range establishments {
		if c := countryOf(e); eea[c] && !slices.Contains(est, c) {
			est = append(est, c)
		}
	}
	slices.Sort(est)
	return est
}

// singleEstablishment is the step, role and reason when the only EEA establishment is in c:
// the local authority (step 4), or the lead authority when residents of other Member States
// are affected, which makes the processing cross-border (step 5).
func singleEstablishment(c string, affected []string) (step, role, why string) {
	step = "4. established in one Member State (" + countryName(c) + ") and the processing is not cross-border: the local authority (Art. 55(1))"
	role, why = "competent supervisory authority", "Art. 55(1); the only EEA establishment is in "+countryName(c)
	var others []string
	for _, a := range affected {
		if a != c {
			others = append(others, a)
		}
	}
	if len(others) > 0 {
		step = "5. cross-border processing with one establishment, in " + countryName(c) + " (residents of " + strings.Join(others, ", ") +
			" are affected, Art. 4(23)(b)): the authority of that establishment leads (Art. 56(1))"
		role, why = "lead supervisory authority", "Art. 56(1); the only EEA establishment is in "+countryName(c)
	}
	return step, role, why
}

// everyAffected is one authority per Member State with affected residents (step 3).
func (b *book) everyAffected(o Organisation, steps []string, affected []string) []resolvedAuthority {
	var out []resolvedAuthority
	note := ""
	if len(affected) > 0 {
		note = "7. Member States whose residents are affected: " + strings.Join(affected, ", ") + " (each authority is told of all of them)"
	}
	for _, c := range affected {
		r := resolvedAuthority{subjects: []string{c}, reasoning: append([]string{}, steps...)}
		a := b.sectorAuthority(c, o.Sectors)
		how := ""
		switch {
		case a != nil:
			how = "the " + a.Label() + " supervises the organisation's sector (" + strings.Join(a.Sectors, ", ") + ") in " + countryName(c)
		default:
			a = b.nationalAuthority(c, "private")
		}
		if a == nil {
			// Germany: BDSG §40 names the Land of an establishment, and there is none.
			r.ref = AuthorityRef{Code: c, Undetermined: true,
				Name: "the supervisory authority of a German Land (not determined: no establishment in Germany)"}
			r.audience = r.ref.Name + ": " + "residents of " + countryName(c) + " are affected (Art. 3(2)); choose the Land and record why"
			r.reasoning = append(r.reasoning, "⚠ no establishment in Germany: BDSG §40 names no Land. Reading: notify the authority of the Land of the Art. 27 representative, or of the Land where most affected residents live, and record the choice; add the chosen authority as entry "+c+" of the configuration's authorities to route the report")
		} else {
			r.ref = a.Ref()
			r.audience = a.Label() + ": supervisory authority of " + countryName(c) + " (Art. 3(2); its residents are affected, no EEA establishment)"
			if how != "" {
				r.reasoning = append(r.reasoning, how)
			}
		}
		if note != "" {
			r.reasoning = append(r.reasoning, note)
		}
		out = append(out, r)
	}
	return out
}

// authorityIn picks the authority of country for the organisation, with the reasoning, or says
// which fact is missing.
func (b *book) authorityIn(o Organisation, country string) (*Authority, []string, *UsageError) {
	kind := "private"
	if o.PublicTask {
		kind = "public"
	}
	if kind == "private" {
		if a := b.sectorAuthority(country, o.Sectors); a != nil {
			return a, []string{"the organisation's sector (" + strings.Join(a.Sectors, ", ") + ") is supervised by the " + a.Label() +
				" in " + countryName(country) + ", not by a regional authority"}, nil
		}
	}
	var regions []string
	for _, r := range o.EstablishmentRegions {
		if countryOf(r) == country {
			regions = append(regions, r)
		}
	}
	region := ""
	switch {
	case len(regions) == 1:
		region = regions[0]
	case len(regions) > 1 && slices.Contains(regions, o.MainEstablishment):
		region = o.MainEstablishment
	case len(regions) > 1:
		return nil, nil, usage("main_establishment", "establishments in several regions of %s (%s): name the one where decisions on the purposes and means of processing are taken as main_establishment (BDSG §40(2) applies Art. 4(16) between the Länder)",
			country, strings.Join(regions, ", "))
	}
	if region != "" {
		if a := b.regionalAuthority(region, kind); a != nil {
			law := "the authority of the region of the establishment"
			if country == "DE" {
				law = "private bodies are supervised by the authority of the Land of their headquarters (BDSG §40(1))"
				if kind == "public" {
					law = "a Land's public body is supervised by the authority of its Land"
				}
			}
			if country == "ES" {
				law = "a public body of an autonomous community with its own authority is supervised by it"
			}
			return a, []string{law + ": " + region + ", the " + a.Label()}, nil
		}
	}
	if a := b.nationalAuthority(country, kind); a != nil {
		var how []string
		switch {
		case country == "DE" && kind == "public":
			how = append(how, "⚠ a public body with no Land named: read as a federal public body, supervised by the "+a.Label()+"; a Land's public body names its Land in establishment_regions")
		case region != "":
			how = append(how, region+" has no authority of its own for "+kind+" bodies: the national "+a.Label())
		default:
			how = append(how, "the national authority of "+countryName(country)+": the "+a.Label())
		}
		return a, how, nil
	}
	return nil, nil, usage("establishment_regions", "the establishment in %s is supervised by the authority of its %s (BDSG §40(1)): name it in establishment_regions, e.g. DE-BE for Berlin or DE-BY for Bavaria",
		countryName(country), map[bool]string{true: "Land", false: "region"}[country == "DE"])
}

// countryNames are the EEA countries' English names, for audiences and reasons.
var countryNames = map[string]string{
	"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus", "CZ": "Czechia", "DK": "Denmark",
	"EE": "Estonia", "FI": "Finland", "FR": "France", "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland",
	"IT": "Italy", "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "the Netherlands",
	"PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia", "ES": "Spain", "SE": "Sweden",
	"IS": "Iceland", "LI": "Liechtenstein", "NO": "Norway",
}

func countryName(code string) string {
	if n, ok := countryNames[code]; ok {
		return n + " (" + code + ")"
	}
	return code
}

// AuthorityOverride is the configuration's change to a directory entry (its code is in the
// directory) or a new entry (it is not): the address, portal or languages an organisation has
// agreed with its authority, or an authority the directory lacks, such as the German Land
// authority chosen for residents in Germany (code DE).
type AuthorityOverride struct {
	Code      string
	Name      string
	Short     string
	Country   string
	Region    string
	Channel   string
	Portal    string
	Email     string
	Phone     string
	Languages []string
	Notes     string
}

// Check lists what is wrong with the override, each problem naming its field (code, name,
// country, region, portal, email, languages[1]).
func (o AuthorityOverride) Check() []*UsageError {
	var p []*UsageError
	_, known := rulebook.authorityIndex[o.Code]
	switch {
	case o.Code == "":
		p = append(p, usage("code", "missing: give the directory code to change (breach authorities lists them) or a new one, e.g. DE for the German Land authority you notify"))
	case !authorityCode.MatchString(o.Code):
		p = append(p, usage("code", "%q is not a directory code: an ISO country or region code in capitals, optionally with a suffix (DE-BE, FR, DE-BY-PUBLIC)", o.Code))
	}
	if !known && o.Code != "" {
		if o.Name == "" {
			p = append(p, usage("name", "a new entry (%s is not in the directory) needs the authority's name", o.Code))
		}
		if o.Country == "" {
			p = append(p, usage("country", "a new entry (%s is not in the directory) needs the ISO code of the authority's country", o.Code))
		}
	}
	if known {
		a := rulebook.authorities[rulebook.authorityIndex[o.Code]]
		if o.Country != "" && o.Country != a.Country {
			p = append(p, usage("country", "%s is an authority of %s; an entry's country cannot change: add a new code instead", o.Code, a.Country))
		}
		if o.Region != "" && o.Region != a.Region {
			p = append(p, usage("region", "%s is the authority of %s; an entry's region cannot change: add a new code instead", o.Code, orNone([]string{a.Region})))
		}
	}
	if o.Country != "" && !countryCodes[o.Country] {
		p = append(p, usage("country", "%q is not an ISO 3166-1 country code (DE, FR, GB)", o.Country))
	}
	if o.Region != "" && (!validRegion(o.Region) || (o.Country != "" && countryOf(o.Region) != o.Country)) {
		p = append(p, usage("region", "%q: %s", o.Region, regionHint(o.Region)))
	}
	if o.Portal != "" && !strings.HasPrefix(o.Portal, "https://") {
		p = append(p, usage("portal", "%q: give the portal's https:// address", o.Portal))
	}
	if o.Email != "" && !plausibleEmail(o.Email) {
		p = append(p, usage("email", "%q is not one bare email address (breach-reports@authority.example)", o.Email))
	}
	for i, l := range o.Languages {
		if !languageCode.MatchString(l) {
			p = append(p, usage(fmt.Sprintf("languages[%d]", i), "%q is not an ISO 639-1 language code: two lower-case letters such as de, fr, en", l))
		}
	}
	return p
}

// WithOverrides is the directory with the configuration's overrides applied: changed entries
// in place, new ones after the directory's, each listing the fields the configuration set in
// Configured. Overrides are assumed checked (Check).
func WithOverrides(overrides []AuthorityOverride) []Authority {
	out := Authorities()
	index := map[string]int{}
	for i, a := range out {
		index[a.Code] = i
	}
	for _, o := range overrides {
		i, ok := index[o.Code]
		if !ok {
			out = append(out, Authority{Code: o.Code, Country: o.Country, Regime: "gdpr", Supervises: []string{"private", "public"},
				Unverified: []string{"channel", "languages", "source"}})
			if o.Country == "GB" {
				out[len(out)-1].Regime = "uk-gdpr"
			}
			if o.Country == "CH" {
				out[len(out)-1].Regime = "ch-fadp"
			}
			i = len(out) - 1
			index[o.Code] = i
		}
		a := &out[i]
		set := func(field string, dst *string, v string) {
			if v != "" {
				*dst = v
				a.Configured = append(a.Configured, field)
			}
		}
		set("name", &a.Name, o.Name)
		set("short", &a.Short, o.Short)
		set("region", &a.Region, o.Region)
		set("channel", &a.Channel, o.Channel)
		set("portal", &a.Portal, o.Portal)
		set("email", &a.Email, o.Email)
		set("phone", &a.Phone, o.Phone)
		set("notes", &a.Notes, o.Notes)
		if len(o.Languages) > 0 {
			a.Languages = slices.Clone(o.Languages)
			a.Configured = append(a.Configured, "languages")
		}
	}
	return out
}
