package rules

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The competent GDPR authority, determined from the organisation's facts by the procedure of
// AUTHORITIES.md. Each case names the obligations gdpr-art33-authority resolves to, their
// authorities, and words of their audience and reasoning.
func TestAuthorityResolution(t *testing.T) {
	type want struct {
		id, code  string
		audience  []string
		reasoning []string
		subjects  []string
	}
	eu5 := subj("DE", 300, "FR", 200, "IT", 100, "ES", 50, "NL", 25)
	cases := []struct {
		name string
		mods []mod
		want []want
	}{
		{"Berlin shop, customers in four Member States", ms(est("DE"), regions("DE-BE"), subj("DE", 800, "FR", 200, "IT", 100, "AT", 50)), []want{{
			id: "gdpr-art33-authority-de-be", code: "DE-BE",
			audience:  []string{"Berliner Beauftragte für Datenschutz (BlnBDI)", "lead supervisory authority", "Art. 56(1)"},
			reasoning: []string{"5. cross-border processing with one establishment, in Germany (DE)", "BDSG §40(1)", "DE-BE", "7. Member States whose residents are affected: AT, DE, FR, IT"},
		}}},
		{"Berlin shop, German customers only: the local authority", ms(est("DE"), regions("DE-BE"), subj("DE", 800)), []want{{
			id: "gdpr-art33-authority-de-be", code: "DE-BE",
			audience:  []string{"competent supervisory authority", "Art. 55(1)"},
			reasoning: []string{"4. established in one Member State (Germany (DE)) and the processing is not cross-border"},
		}}},
		{"Munich shop", ms(est("DE"), regions("DE-BY"), subj("DE", 500, "AT", 20)), []want{{
			id: "gdpr-art33-authority-de-by", code: "DE-BY", audience: []string{"BayLDA", "lead supervisory authority"},
			reasoning: []string{"DE-BY, the BayLDA"},
		}}},
		{"Munich telecom: the BfDI, not the BayLDA", ms(est("DE"), regions("DE-BY"), sector("telecom-postal"), subj("DE", 5000)), []want{{
			id: "gdpr-art33-authority-de-bfdi", code: "DE-BFDI", audience: []string{"BfDI"},
			reasoning: []string{"the organisation's sector (telecom-postal) is supervised by the BfDI"},
		}}},
		{"Irish-headquartered group with Paris and Warsaw establishments", ms(est("IE", "FR", "PL"), mainEst("IE"), subj("IE", 100, "FR", 900, "PL", 400, "DE", 10)), []want{{
			id: "gdpr-art33-authority-ie", code: "IE", audience: []string{"Data Protection Commission (DPC)", "lead supervisory authority", "main establishment in Ireland (IE)"},
			reasoning: []string{"6. establishments in several Member States (FR, IE, PL)", "Art. 4(16)(a)", "7. Member States whose residents are affected: DE, FR, IE, PL"},
		}}},
		{"US shop, no EEA establishment, customers in five Member States", ms(est("US"), mainEst("US"), eu5), []want{
			{id: "gdpr-art33-authority-de", code: "DE", audience: []string{"German Land", "not determined"}, reasoning: []string{"⚠ no establishment in Germany", "Art. 27 representative"}, subjects: []string{"DE"}},
			{id: "gdpr-art33-authority-es", code: "ES", audience: []string{"AEPD", "supervisory authority of Spain (ES)", "Art. 3(2)"}, reasoning: []string{"3. no establishment in the EEA", "¶73"}, subjects: []string{"ES"}},
			{id: "gdpr-art33-authority-fr", code: "FR", audience: []string{"CNIL"}, subjects: []string{"FR"}},
			{id: "gdpr-art33-authority-it", code: "IT", audience: []string{"Garante"}, subjects: []string{"IT"}},
			{id: "gdpr-art33-authority-nl", code: "NL", audience: []string{"Autoriteit Persoonsgegevens"}, subjects: []string{"NL"}},
		}},
		{"a group deciding in the US, with establishments in France and Berlin: no main establishment", ms(est("US", "FR", "DE"), regions("DE-BE"), mainEst("US"), subj("FR", 5, "AT", 5)), []want{
			{id: "gdpr-art33-authority-at", code: "AT", audience: []string{"Österreichische Datenschutzbehörde (DSB)"}, reasoning: []string{"EDPB Opinion 04/2024"}, subjects: []string{"AT"}},
			{id: "gdpr-art33-authority-fr", code: "FR", audience: []string{"CNIL"}, subjects: []string{"FR"}},
		}},
		{"Hamburg headquarters with a Berlin branch", ms(est("DE"), regions("DE-BE", "DE-HH"), mainEst("DE-HH"), subj("DE", 10)), []want{{
			id: "gdpr-art33-authority-de-hh", code: "DE-HH", audience: []string{"HmbBfDI Hamburg"},
		}}},
		{"a Bavarian public body: the BayLfD", ms(est("DE"), regions("DE-BY"), publicTask(), subj("DE", 10, "AT", 1)), []want{{
			id: "gdpr-art33-authority-de-by-public", code: "DE-BY-PUBLIC", audience: []string{"BayLfD", "public task", "Art. 55(2)"},
			reasoning: []string{"2. public task", "a Land's public body is supervised by the authority of its Land"},
		}}},
		{"a German public body with no Land: the BfDI (federal)", ms(est("DE"), publicTask(), subj("DE", 10)), []want{{
			id: "gdpr-art33-authority-de-bfdi", code: "DE-BFDI", reasoning: []string{"⚠ a public body with no Land named: read as a federal public body"},
		}}},
		{"a Catalan public body: the APDCAT", ms(est("ES"), regions("ES-CT"), publicTask(), subj("ES", 10)), []want{{
			id: "gdpr-art33-authority-es-ct", code: "ES-CT", audience: []string{"APDCAT"},
		}}},
		{"a Catalan company: the AEPD", ms(est("ES"), regions("ES-CT"), subj("ES", 10)), []want{{
			id: "gdpr-art33-authority-es", code: "ES", reasoning: []string{"ES-CT has no authority of its own for private bodies"},
		}}},
		{"a French shop naming its main establishment", ms(est("FR"), mainEst("FR"), subj("FR", 10, "BE", 3)), []want{{
			id: "gdpr-art33-authority-fr", code: "FR", audience: []string{"CNIL", "lead supervisory authority"},
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Evaluate(build(c.mods))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, res)
			var got []Obligation
			for _, o := range res.Obligations {
				if strings.HasPrefix(o.ID, gdprAuthorityID+"-") {
					got = append(got, o)
				}
			}
			slices.SortFunc(got, func(a, b Obligation) int { return strings.Compare(a.ID, b.ID) })
			if len(got) != len(c.want) {
				var ids []string
				for _, o := range got {
					ids = append(ids, o.ID)
				}
				t.Fatalf("resolved to %v, want %d obligations", ids, len(c.want))
			}
			_, base := find(res, gdprAuthorityID)
			if base == nil || !strings.HasPrefix(base.Reason, "resolved to the competent authorities") {
				t.Errorf("%s should be ruled out as resolved, got %+v", gdprAuthorityID, base)
			}
			for i, w := range c.want {
				o := got[i]
				if o.ID != w.id || o.Authority == nil || o.Authority.Code != w.code {
					t.Errorf("obligation %d: %s (%+v), want %s (%s)", i, o.ID, o.Authority, w.id, w.code)
				}
				if !strings.Contains(base.Reason, o.ID) {
					t.Errorf("the base's reason %q does not name %s", base.Reason, o.ID)
				}
				if o.Template != "gdpr-art33-report" || o.Basis != "GDPR Art. 33(1)" || !o.DueAt.Equal(ts("2026-06-13T08:00:00Z")) || o.LawEnforcementDelay {
					t.Errorf("%s: the resolved obligation keeps the clock and content of Art. 33: %+v", o.ID, o)
				}
				for _, s := range w.audience {
					if !strings.Contains(o.Audience, s) {
						t.Errorf("%s: audience %q does not say %q", o.ID, o.Audience, s)
					}
				}
				reasoning := strings.Join(o.Reasoning, "\n")
				for _, s := range w.reasoning {
					if !strings.Contains(reasoning, s) {
						t.Errorf("%s: reasoning does not say %q:\n%s", o.ID, s, reasoning)
					}
				}
				if !strings.HasPrefix(reasoning, "1. controller") {
					t.Errorf("%s: reasoning starts with the role step:\n%s", o.ID, reasoning)
				}
				if !reflect.DeepEqual(o.Subjects, w.subjects) {
					t.Errorf("%s: subjects %v, want %v", o.ID, o.Subjects, w.subjects)
				}
			}
		})
	}
}

// A processor has no authority to resolve: it tells each controller, and the authority
// obligation says why it is not required.
func TestAuthorityResolutionProcessor(t *testing.T) {
	res, err := Evaluate(build(ms(est("DE"), regions("DE-BE"), processor(), subj("DE", 10, "FR", 5))))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	for _, o := range res.Obligations {
		if strings.HasPrefix(o.ID, gdprAuthorityID) {
			t.Errorf("a processor got %s", o.ID)
		}
	}
	if _, nr := find(res, gdprAuthorityID); nr == nil || !strings.Contains(nr.Reason, "processor") {
		t.Errorf("%s: %+v, want ruled out for a processor", gdprAuthorityID, nr)
	}
	if o, _ := find(res, "gdpr-art33-controller"); o == nil || !o.DueAt.Equal(ts("2026-06-11T08:00:00Z")) {
		t.Errorf("gdpr-art33-controller = %+v, want due 24 hours after awareness", o)
	}
}

// Facts without the organisation fields keep the one obligation of before, with an audience
// that says it is not resolved; an unlikely risk rules the resolution out with the obligation.
func TestAuthorityNotResolvedWithoutTheFacts(t *testing.T) {
	res, err := Evaluate(build(ms(est("DE"), subj("DE", 10, "FR", 5))))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := find(res, gdprAuthorityID)
	if o == nil || o.Authority != nil || len(o.Reasoning) > 0 || !strings.Contains(o.Audience, "not resolved") {
		t.Fatalf("%s = %+v, want the one obligation, not resolved", gdprAuthorityID, o)
	}
	res, err = Evaluate(build(ms(est("DE"), regions("DE-BE"), subj("DE", 10), risk("unlikely"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, nr := find(res, gdprAuthorityID); nr == nil || !strings.Contains(nr.Reason, "unlikely to result in a risk") {
		t.Errorf("%s with an unlikely risk: %+v", gdprAuthorityID, nr)
	}
}

// Facts that opt in to the resolution but cannot resolve are refused, naming the fact to give.
func TestAuthorityFactsThatCannotResolve(t *testing.T) {
	cases := []struct {
		name         string
		mods         []mod
		field, words string
	}{
		{"a German establishment without its Land", ms(est("DE"), mainEst("DE"), subj("DE", 1)), "establishment_regions", "DE-BE for Berlin"},
		{"several Member States, no main establishment", ms(est("DE", "FR"), regions("DE-BE"), subj("FR", 1)), "main_establishment", "several Member States (DE, FR)"},
		{"several Länder, no main establishment", ms(est("DE"), regions("DE-BE", "DE-HH"), subj("DE", 1)), "main_establishment", "BDSG §40(2)"},
		{"a region outside the establishments", ms(est("FR"), regions("DE-BE")), "establishment_regions[0]", "add DE to establishments"},
		{"an unknown region", ms(est("FR"), regions("FR-IDF")), "establishment_regions[0]", "only in DE, ES, CA and US"},
		{"a country as a region", ms(est("DE"), regions("DE")), "establishment_regions[0]", "belongs in establishments"},
		{"lower case region", ms(est("DE"), regions("de-be")), "establishment_regions[0]", "write it as DE-BE"},
		{"a region twice", ms(est("DE"), regions("DE-BE", "DE-BE")), "establishment_regions[1]", "listed twice"},
		{"a main establishment that is no establishment", ms(est("FR"), mainEst("IE")), "main_establishment", "not one of establishments (FR)"},
		{"a main region that is not listed", ms(est("DE"), regions("DE-BE"), mainEst("DE-BY")), "main_establishment", "not one of establishment_regions"},
		{"an unknown main establishment", ms(est("DE"), mainEst("EU")), "main_establishment", "unknown code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Evaluate(build(c.mods))
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Field != c.field || !strings.Contains(ue.Msg, c.words) {
				t.Fatalf("err = %v, want a UsageError for %s saying %q", err, c.field, c.words)
			}
			f := build(c.mods)
			err = CheckOrganisation(Organisation{Role: f.Role, Establishments: f.Establishments, EstablishmentRegions: f.EstablishmentRegions,
				MainEstablishment: f.MainEstablishment, PublicTask: f.PublicTask, Sectors: f.Sectors})
			if !errors.As(err, &ue) || ue.Field != c.field {
				t.Errorf("CheckOrganisation: %v, want the same problem", err)
			}
		})
	}
	// A processor never resolves, so it needs no Land.
	if err := CheckOrganisation(Organisation{Role: "processor", Establishments: []string{"DE"}, MainEstablishment: "DE"}); err != nil {
		t.Errorf("processor: %v", err)
	}
	if err := CheckOrganisation(Organisation{Establishments: []string{"DE"}, EstablishmentRegions: []string{"DE-BE"}}); err != nil {
		t.Errorf("Berlin shop: %v", err)
	}
}

// The directory holds every authority the issue names, with the facts of AUTHORITIES.md.
func TestAuthorityDirectory(t *testing.T) {
	dir := Authorities()
	count := map[string]int{}
	for _, a := range dir {
		count[a.Regime]++
		if a.Verified && a.Source == "" {
			t.Errorf("%s: verified without a source", a.Code)
		}
	}
	// 29 national EEA authorities and the BfDI, 16 Länder and the BayLfD, 3 Spanish regions.
	if count["gdpr"] != 30+17+3 || count["uk-gdpr"] != 1 || count["ch-fadp"] != 1 {
		t.Errorf("directory sizes %v, want 50 GDPR authorities, the ICO and the FDPIC", count)
	}
	for _, c := range sortedKeys(eea) {
		if c != "DE" && rulebook.nationalAuthority(c, "private") == nil {
			t.Errorf("no national authority for %s", c)
		}
	}
	for _, l := range sortedKeys(deLaender) {
		if rulebook.regionalAuthority("DE-"+l, "private") == nil || rulebook.regionalAuthority("DE-"+l, "public") == nil {
			t.Errorf("DE-%s: no Land authority for both sectors", l)
		}
	}
	facts := []struct {
		code  string
		check func(Authority) bool
		what  string
	}{
		{"BE", func(a Authority) bool {
			return reflect.DeepEqual(a.Languages, []string{"fr", "nl", "de"}) && strings.Contains(a.Notes, "inadmissible")
		}, "FR/NL/DE only"},
		{"DE-HE", func(a Authority) bool {
			return strings.Contains(a.Channel, "HessenDrive") && strings.Contains(a.Notes, "does not meet the deadline")
		}, "Hessen's upload link"},
		{"CY", func(a Authority) bool {
			return a.Email == "commissioner@dataprotection.gov.cy" && slices.Contains(a.CrossBorderLanguages, "en")
		}, "Cyprus by e-mail, English for cross-border"},
		{"DE-BY", func(a Authority) bool {
			return a.Portal == "https://lda.bayern.de/datenpanne" && reflect.DeepEqual(a.Supervises, []string{"private"})
		}, "BayLDA: private sector, its portal"},
		{"DE-BY-PUBLIC", func(a Authority) bool { return !a.Verified && reflect.DeepEqual(a.Supervises, []string{"public"}) }, "BayLfD: public sector, unverified"},
		{"LI", func(a Authority) bool {
			return !a.Verified && a.Channel == "" && len(a.Languages) == 0 && a.Source == ""
		}, "Liechtenstein: nothing found, nothing invented"},
		{"GB", func(a Authority) bool { return a.Phone == "0303 123 1113" && a.Regime == "uk-gdpr" }, "the ICO's helpline"},
		{"CH", func(a Authority) bool { return a.Regime == "ch-fadp" && slices.Contains(a.Unverified, "languages") }, "the FDPIC, languages unverified"},
	}
	for _, f := range facts {
		a, ok := LookupAuthority(f.code)
		if !ok || !f.check(a) {
			t.Errorf("%s: %s: got %+v", f.code, f.what, a)
		}
	}
	if _, ok := LookupAuthority("DE"); ok {
		t.Error("DE is no directory entry: Germany's authorities are its Länder and the BfDI")
	}
	// A copy: changing it does not change the directory.
	dir[0].Languages[0] = "xx"
	if a, _ := LookupAuthority(dir[0].Code); a.Languages[0] == "xx" {
		t.Error("Authorities returned the directory itself")
	}
	ids := AuthorityObligationIDs()
	for _, id := range []string{"gdpr-art33-authority-de-be", "gdpr-art33-authority-de", "gdpr-art33-authority-de-bfdi", "gdpr-art33-authority-fr"} {
		if !slices.Contains(ids, id) || !KnownObligation(id) {
			t.Errorf("%s is not a known resolved id", id)
		}
	}
	for _, id := range []string{"gdpr-art33-authority-gb", "gdpr-art33-authority-ch", "gdpr-art33-authority-us"} {
		if KnownObligation(id) {
			t.Errorf("%s should not be a resolved id", id)
		}
	}
}

func TestBrokenAuthorityDirectoryIsRefused(t *testing.T) {
	const good = "authorities:\n"
	entry := func(extra string) string {
		return "  - {code: XX, name: N, country: FR, regime: gdpr, supervises: [private], languages: [fr], source: https://x.example, verified: true" + extra + "}\n"
	}
	cases := map[string]struct{ file, want string }{
		"verified without a source":  {good + strings.Replace(entry(""), "source: https://x.example, ", "", 1), "verified, but without a source"},
		"unverified without a list":  {good + strings.Replace(entry(""), "verified: true", "verified: false", 1), "list the unverified facts"},
		"languages both ways":        {good + strings.Replace(entry(", unverified: [languages]"), "verified: true", "verified: false", 1), "languages: give them"},
		"a bad language":             {good + strings.Replace(entry(""), "[fr]", "[french]", 1), "ISO 639-1"},
		"an http source":             {good + strings.Replace(entry(""), "https://", "http://", 1), "https://"},
		"an unknown sector":          {good + entry(", sectors: [banking]"), `unknown sector "banking"`},
		"a region of another nation": {good + entry(", region: DE-BE"), "ISO 3166-2 code of FR"},
		"an unknown field":           {good + entry(", fax: 1"), "field fax not found"},
		"no national authority":      {good, "no national authority for AT"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := load(withRealData(t, map[string]string{"authorities.yaml": c.file}))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// The configuration may change an entry or add one; WithOverrides marks what it set.
func TestAuthorityOverrides(t *testing.T) {
	overrides := []AuthorityOverride{
		{Code: "DE-BE", Email: "meldung@datenschutz-berlin.example"},
		{Code: "DE", Name: "LDI NRW (chosen for residents in Germany)", Country: "DE", Email: "poststelle@ldi.example", Languages: []string{"de"}},
	}
	for _, o := range overrides {
		if p := o.Check(); len(p) > 0 {
			t.Fatalf("%s: %v", o.Code, p[0])
		}
	}
	dir := WithOverrides(overrides)
	var be, de *Authority
	for i := range dir {
		switch dir[i].Code {
		case "DE-BE":
			be = &dir[i]
		case "DE":
			de = &dir[i]
		}
	}
	if be == nil || be.Email != "meldung@datenschutz-berlin.example" || be.Portal != "https://datenpannen.datenschutz-berlin.de" || !reflect.DeepEqual(be.Configured, []string{"email"}) {
		t.Errorf("DE-BE = %+v", be)
	}
	if de == nil || de.Name != "LDI NRW (chosen for residents in Germany)" || de.Verified || !reflect.DeepEqual(de.Configured, []string{"name", "email", "languages"}) {
		t.Errorf("DE = %+v", de)
	}
	if a, _ := LookupAuthority("DE-BE"); a.Email != "" {
		t.Error("WithOverrides changed the directory")
	}
	bad := []struct {
		o     AuthorityOverride
		field string
	}{
		{AuthorityOverride{}, "code"},
		{AuthorityOverride{Code: "de-be"}, "code"},
		{AuthorityOverride{Code: "XK"}, "name"},
		{AuthorityOverride{Code: "DE-BE", Country: "AT"}, "country"},
		{AuthorityOverride{Code: "DE-BE", Region: "DE-BY"}, "region"},
		{AuthorityOverride{Code: "FR", Portal: "http://x.example"}, "portal"},
		{AuthorityOverride{Code: "FR", Email: "CNIL <x@cnil.example>"}, "email"},
		{AuthorityOverride{Code: "FR", Languages: []string{"fr", "French"}}, "languages[1]"},
	}
	for _, b := range bad {
		p := b.o.Check()
		found := false
		for _, e := range p {
			found = found || e.Field == b.field
		}
		if !found {
			t.Errorf("%+v: problems %v, want one for %s", b.o, p, b.field)
		}
	}
}
