package rules

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// withRealData copies the embedded rule files into a MapFS so a test can add or break one.
func withRealData(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(dataFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(dataFS, path)
		m[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range extra {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// Adding a regime is a data change: Japan's APPI (REGULATIONS.md §1) as a file, no Go code.
func TestNewRegimeNeedsNoCode(t *testing.T) {
	b, err := load(withRealData(t, map[string]string{"regimes/jp-appi.yaml": `
regime: Japan APPI
scope:
  establishments: [JP]
  subjects: [JP]
obligations:
  - id: jp-ppc-final
    audience: Personal Information Protection Commission
    basis: APPI Art. 26(1); PPC Rules Art. 8
    template: jp-ppc-report
    when:
      - unencrypted: true
        reason: advanced encryption exempts the report
      - any_of:
          - categories: [health]
          - subjects: {op: ">", n: 1000, of: affected individuals}
    clocks:
      - trigger: aware_at
        kind: calendar_days
        n: 30
        zone: Asia/Tokyo
`}))
	if err != nil {
		t.Fatal(err)
	}
	res := b.evaluate(build(ms(subj("JP", 1001))))
	o, nr := find(res, "jp-ppc-final")
	if o == nil {
		t.Fatalf("jp-ppc-final not required: %+v", nr)
	}
	// Aware 2026-06-10 17:00 in Tokyo: day 30 is 9 July, ending 23:59:59 JST.
	if want := ts("2026-07-09T14:59:59Z"); !o.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", o.DueAt, want)
	}
	res = b.evaluate(build(ms(subj("JP", 1000))))
	if _, nr := find(res, "jp-ppc-final"); nr == nil || !strings.Contains(nr.Reason, "1000 affected individuals, more than 1000 required") {
		t.Errorf("at 1000: %+v", nr)
	}
}

func TestBrokenRuleDataIsRefused(t *testing.T) {
	const head = "regime: X\nscope: {subjects: [FR]}\nobligations:\n"
	const ob = "  - id: x-one\n    audience: a\n    basis: b\n    template: t\n"
	cases := map[string]struct{ file, want string }{
		"unknown yaml field":                   {head + ob + "    deadline: 3\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "field deadline not found"},
		"duplicate id":                         {head + ob + "    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n" + ob + "    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "defined twice"},
		"id clashes with a real":               {head + strings.Replace(ob, "x-one", "br-anpd", 1) + "    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "defined twice"},
		"no clock":                             {head + ob, "no clock"},
		"unknown kind":                         {head + ob + "    clocks: [{trigger: aware_at, kind: fortnights, n: 1}]\n", "unknown kind"},
		"unknown trigger":                      {head + ob + "    clocks: [{trigger: discovered_at, kind: hours, n: 1}]\n", "unknown trigger"},
		"chained to nothing":                   {head + ob + "    clocks: [{trigger: submitted.x-zero, kind: hours, n: 1}]\n", `unknown obligation "x-zero"`},
		"unknown calendar":                     {head + ob + "    clocks: [{trigger: aware_at, kind: business_days, n: 1, calendar: mars, zone: UTC}]\n", "unknown calendar"},
		"unknown zone":                         {head + ob + "    clocks: [{trigger: aware_at, kind: calendar_days, n: 1, zone: Mars/Base}]\n", "zone"},
		"hours with a zone":                    {head + ob + "    clocks: [{trigger: aware_at, kind: hours, n: 1, zone: UTC}]\n", "elapsed time"},
		"two kinds in one":                     {head + ob + "    when: [{unencrypted: true, significant_incident: true, reason: r}]\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "exactly one kind"},
		"no reason":                            {head + ob + "    when: [{unencrypted: true}]\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "reason is required"},
		"requires a later one":                 {head + ob + "    when: [{requires: x-two}]\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "not an earlier obligation"},
		"bad threshold op":                     {head + ob + "    when: [{subjects: {op: '=>', n: 5, of: people}}]\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "threshold"},
		"unknown jurisdiction":                 {"regime: X\nscope: {subjects: [UK]}\nobligations:\n" + ob + "    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", "unknown jurisdiction"},
		"scope sector not in sectors.yaml":     {"regime: X\nscope: {sectors: [retail]}\nobligations:\n" + ob + "    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", `unknown sector "retail"`},
		"condition sector not in sectors.yaml": {head + ob + "    when: [{sectors: [nis2-essentail], reason: r}]\n    clocks: [{trigger: aware_at, kind: hours, n: 1}]\n", `unknown sector "nis2-essentail"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := load(withRealData(t, map[string]string{"regimes/zz-broken.yaml": c.file}))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	_, err := load(withRealData(t, map[string]string{"calendars/bad.yaml": "name: bad\ntitle: Bad\nyears: [2026]\nholidays: [{date: \"2027-01-01\", name: x}]\n"}))
	if err == nil || !strings.Contains(err.Error(), "outside the years") {
		t.Errorf("holiday outside the covered years: err = %v", err)
	}
}

// The sectors are data: sectors.yaml lists them, a regime may test only those, and each must be
// tested by some regime (else naming it in a configuration would change nothing).
func TestSectorsFileIsTheVocabulary(t *testing.T) {
	sectors := func(body string) map[string]string { return map[string]string{"sectors.yaml": "sectors:\n" + body} }
	real, err := fs.ReadFile(dataFS, "sectors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"a sector no regime tests", map[string]string{"sectors.yaml": string(real) + "  - name: retail\n    title: a shop\n"}, `no regime tests sector "retail"`},
		{"a sector listed twice", map[string]string{"sectors.yaml": string(real) + "  - name: us-listed\n    title: again\n"}, `"us-listed" listed twice`},
		{"a sector without a title", sectors("  - name: us-listed\n"), "title"},
		{"a name that is not lowercase-dashed", sectors("  - name: US Listed\n    title: t\n"), "lowercase-dashed"},
		{"a sector a regime tests is missing", sectors("  - name: us-listed\n    title: t\n"), "unknown sector"},
		{"an unknown field", sectors("  - name: us-listed\n    title: t\n    law: x\n"), "field law not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(withRealData(t, c.extra))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}

	tested := map[string]bool{}
	var walk func(cs []condition)
	walk = func(cs []condition) {
		for _, c := range cs {
			for _, s := range c.Sectors {
				tested[s] = true
			}
			walk(c.AnyOf)
		}
	}
	for _, r := range rulebook.regimes {
		for _, s := range r.Scope.Sectors {
			tested[s] = true
		}
		for _, o := range r.Obligations {
			walk(o.When)
			for _, c := range o.Clocks {
				walk(c.When)
				if c.Statutory != nil {
					for _, s := range c.Statutory.UnlessSectors {
						tested[s] = true
					}
				}
			}
		}
	}
	for _, a := range Authorities() {
		for _, s := range a.Sectors {
			tested[s] = true
		}
	}
	got := SectorNames()
	slices.Sort(got)
	want := sortedKeys(tested)
	if !slices.Equal(got, want) {
		t.Errorf("SectorNames() = %v, want the sectors the regimes test %v", got, want)
	}
	for _, s := range Sectors() {
		if !KnownSector(s.Name) || s.Title == "" {
			t.Errorf("sector %+v: want known, with a title", s)
		}
	}
	if KnownSector("retail") {
		t.Error(`KnownSector("retail") = true`)
	}
}

func TestHolidayCalendarsCoverTwoYearsAtLeast(t *testing.T) {
	for _, name := range []string{"us-federal", "br-national"} {
		c := rulebook.calendars[name]
		if c == nil {
			t.Fatalf("calendar %s missing", name)
		}
		for _, y := range []int{2026, 2027} {
			if !c.years[y] {
				t.Errorf("%s does not cover %d", name, y)
			}
		}
	}
	us := rulebook.calendars["us-federal"]
	for _, d := range []string{"2026-07-03", "2026-11-26", "2027-06-18", "2027-12-31"} {
		if !us.days[d] {
			t.Errorf("us-federal: %s should be a holiday", d)
		}
	}
	br := rulebook.calendars["br-national"]
	for _, d := range []string{"2026-04-03", "2026-11-20", "2027-03-26"} {
		if !br.days[d] {
			t.Errorf("br-national: %s should be a holiday", d)
		}
	}
	if br.days["2026-02-17"] {
		t.Error("br-national: Carnival is a ponto facultativo, kept as a business day")
	}
}

// The data categories are data: categories.yaml lists them, a regime may test only those (never
// other), and other must be there for unknown values to count as.
func TestCategoriesAreTheVocabulary(t *testing.T) {
	real, err := fs.ReadFile(dataFS, "categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	head := "regime: X\nobligations:\n  - {id: x-1, audience: A, basis: B, template: t,\n"
	cases := []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"a regime testing a category not in the list", map[string]string{"regimes/zz.yaml": head + "     when: [{categories: [iban]}],\n     clocks: [{trigger: aware_at, kind: hours, n: 1}]}\n"}, `unknown data category "iban"`},
		{"a regime testing other", map[string]string{"regimes/zz.yaml": head + "     when: [{categories: [other]}],\n     clocks: [{trigger: aware_at, kind: hours, n: 1}]}\n"}, `unknown data category "other"`},
		{"a category listed twice", map[string]string{"categories.yaml": string(real) + "  - name: health\n    title: again\n"}, `"health" listed twice`},
		{"no other", map[string]string{"categories.yaml": "categories:\n  - name: health\n    title: health\n"}, `no category "other"`},
		{"a name that is not lowercase-dashed", map[string]string{"categories.yaml": string(real) + "  - name: Bank Account\n    title: b\n"}, `"Bank Account"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(withRealData(t, c.extra))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("load: %v, want an error containing %s", err, c.want)
			}
		})
	}
	if !KnownCategory(OtherCategory) || KnownCategory("Health") || !KnownCategory("health") {
		t.Error("KnownCategory: want other and health known, Health (upper case) not")
	}
	if n := len(CategoryNames()); n != len(Categories()) || n < 10 {
		t.Errorf("%d category names for %d categories", n, len(Categories()))
	}
}
