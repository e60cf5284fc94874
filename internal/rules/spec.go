package rules

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The rules are data: one file per regime under regimes/, one per holiday calendar under
// calendars/, the sectors they test in sectors.yaml, the data categories in categories.yaml and
// the supervisory authorities in authorities.yaml.
// They are embedded and parsed once, at package initialisation; a broken file is a
// programming error and panics there (and in the tests), never at Evaluate time.
//
//go:embed regimes/*.yaml calendars/*.yaml sectors.yaml categories.yaml authorities.yaml
var dataFS embed.FS

var rulebook = mustLoad(dataFS)

// regimeSpec is one file under regimes/.
type regimeSpec struct {
	Regime      string           `yaml:"regime"`
	Scope       scopeSpec        `yaml:"scope"`
	Obligations []obligationSpec `yaml:"obligations"`
	file        string
}

// scopeSpec says when a regime applies at all. Sectors: the organisation has one of them.
// Establishments/Subjects: it is established in, or has affected subjects resident in, one of
// these jurisdictions (codes, EEA, or US-*). Empty lists do not restrict.
type scopeSpec struct {
	Sectors        []string `yaml:"sectors"`
	Establishments []string `yaml:"establishments"`
	Subjects       []string `yaml:"subjects"`
}

type obligationSpec struct {
	ID       string `yaml:"id"`
	Audience string `yaml:"audience"`
	Basis    string `yaml:"basis"`
	Template string `yaml:"template"`
	// Kind is how the obligation is met: a report (drafted, approved, submitted or filed) or
	// a notice to the people it covers (the customer alerts). Default: report.
	Kind   string      `yaml:"kind"`
	When   []condition `yaml:"when"`
	Clocks []clockSpec `yaml:"clocks"`
	// LawEnforcementDelay: the law lets law enforcement delay this notification (a request
	// pauses its clock); GDPR, NIS2 and DORA do not.
	LawEnforcementDelay bool `yaml:"law_enforcement_delay"`
	// LawEnforcementDelayLimit bounds one request's delay where the law does.
	LawEnforcementDelayLimit *DelayLimit `yaml:"law_enforcement_delay_limit"`
	// Authority names the authority the obligation is owed to: a directory code, or
	// resolve: gdpr to resolve the competent authorities from the facts (AUTHORITIES.md).
	Authority *authoritySpec `yaml:"authority"`
}

type authoritySpec struct {
	Code    string `yaml:"code"`
	Resolve string `yaml:"resolve"`
}

// condition is one test; exactly one of its kinds is set. All conditions of a list must hold;
// any_of holds when one of its members does. Reason says why the obligation falls away when the
// test fails; thresholds and requires write their own from the numbers.
type condition struct {
	Role        string      `yaml:"role"`
	Risk        []string    `yaml:"risk"`
	Unencrypted bool        `yaml:"unencrypted"`
	Significant bool        `yaml:"significant_incident"`
	Fact        string      `yaml:"fact"`   // holds when the fact is recorded (an instant) or true
	Absent      string      `yaml:"absent"` // holds when it is not
	Sectors     []string    `yaml:"sectors"`
	Categories  []string    `yaml:"categories"`
	Subjects    *threshold  `yaml:"subjects"`
	Requires    string      `yaml:"requires"`
	Filed       string      `yaml:"filed"` // holds when the obligation's report was submitted
	Elapsed     *elapsed    `yaml:"elapsed"`
	InForce     *inForce    `yaml:"in_force"`
	AnyOf       []condition `yaml:"any_of"`
	Reason      string      `yaml:"reason"`
}

// elapsed compares the time from one instant fact to another with a number of hours: DORA's
// classification within 24 hours of awareness. It fails when To is not recorded.
type elapsed struct {
	From  string `yaml:"from"`
	To    string `yaml:"to"`
	Op    string `yaml:"op"`
	Hours int    `yaml:"hours"`
}

// inForce holds when aware_at's date in Zone is on or after From and before Until (either may
// be empty): a law's commencement, or a version of a rule.
type inForce struct {
	From  string `yaml:"from"`
	Until string `yaml:"until"`
	Zone  string `yaml:"zone"`
}

// instantFacts are the facts that are instants: triggers, and what fact, absent and elapsed
// may name; flagFacts are the true/false facts fact and absent may name.
var (
	instantFacts = []string{"aware_at", "materiality_determined_at", "classified_major_at", "assessed_at"}
	flagFacts    = []string{"wrongful_purpose", "external_unlawful_access", "public_task"}
)

// threshold compares a count of affected subjects with N. Per "scope" (the default) sums the
// subjects resident in In (default: the regime's scope subjects, or everyone if it has none);
// per "each" passes if any single jurisdiction of In passes (HIPAA media: per State).
// AllIfEstablished counts every subject when the organisation is established in the regime.
type threshold struct {
	Op               string   `yaml:"op"`
	N                int      `yaml:"n"`
	Per              string   `yaml:"per"`
	In               []string `yaml:"in"`
	Of               string   `yaml:"of"`
	AllIfEstablished bool     `yaml:"all_if_established"`
}

// clockSpec is one way the deadline can run. An obligation with several clocks is due at the
// earliest of those whose conditions hold and whose trigger has happened.
type clockSpec struct {
	When     []condition `yaml:"when"`
	Trigger  string      `yaml:"trigger"`  // aware_at | materiality_determined_at | submitted.<obligation-id>
	From     string      `yaml:"from"`     // "" (the trigger) | year_end (the end of the trigger's calendar year)
	Kind     string      `yaml:"kind"`     // hours | calendar_days | business_days | months
	N        int         `yaml:"n"`        // how many units
	Zone     string      `yaml:"zone"`     // IANA zone for day-based clocks; empty: the organisation's
	Calendar string      `yaml:"calendar"` // holiday calendar for business days
	At       string      `yaml:"at"`       // HH:MM due on the last day; default 23:59:59
	Law      string      `yaml:"law"`      // the statute's vague wording when N is a policy SLA
	Note     string      `yaml:"note"`     // appended to the rule text
	// Statutory is the later reading of the law's own counting rules, shown beside due_at as
	// the statutory outer limit (REGULATIONS.md §9).
	Statutory *statutorySpec `yaml:"statutory"`

	atHour, atMin, atSec int
	calTitle             string
}

// statutorySpec is how the law's counting statute reads a clock when that gives a later date
// than the conservative one: the first day excluded (calendar days), more days skipped
// (business days), and a deadline on a non-working day rolled forward.
type statutorySpec struct {
	ExcludeFirstDay bool   `yaml:"exclude_first_day"`
	AlsoSkip        string `yaml:"also_skip"` // business days: a calendar whose days are skipped as well
	// Roll moves a deadline that falls on a weekend or a holiday of Calendar: to the end of the
	// next business day (next_business_day, at the clock's time of day) or to 12:00 on the next
	// working day (next_working_day_noon). Calendar "member_state" is the holiday calendar of
	// the organisation's EEA Member State.
	Roll     string `yaml:"roll"`
	Calendar string `yaml:"calendar"`
	// UnlessSectors cannot use the later reading (DORA Art. 5(5) of RTS 2025/301).
	UnlessSectors []string `yaml:"unless_sectors"`
	Law           string   `yaml:"law"` // the provisions that give the later reading
}

// memberStateCalendar is the statutory roll's calendar for the organisation's Member State.
const memberStateCalendar = "member_state"

// calendarSpec is one file under calendars/: public holidays as data, for the years it covers.
type calendarSpec struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	Years []int  `yaml:"years"`
	// Country is the ISO code of the country whose holidays these are, for rules that take the
	// organisation's own country's holidays (DORA's weekend rule); empty for others.
	Country string `yaml:"country"`
	// Projected are the covered years whose dates are computed from the rules that fix them
	// rather than taken from a list the responsible body has published.
	Projected []int `yaml:"projected"`
	Holidays  []struct {
		Date string `yaml:"date"`
		Name string `yaml:"name"`
	} `yaml:"holidays"`
	years map[int]bool
	days  map[string]bool // "2006-01-02"
}

type book struct {
	regimes   []*regimeSpec
	calendars map[string]*calendarSpec
	ids       []string // every obligation id, in file order
	known     map[string]bool
	sectors   []Sector        // sectors.yaml, in file order
	sectorSet map[string]bool // their names
	tested    map[string]bool // sectors some regime tests
	// categories is categories.yaml, in file order; categorySet their names.
	categories  []Category
	categorySet map[string]bool
	// authorities is authorities.yaml, in file order; authorityIndex their codes.
	authorities    []Authority
	authorityIndex map[string]int
	// resolvedIDs are the ids gdpr-art33-authority may resolve to.
	resolvedIDs map[string]bool
}

// categoriesFile is categories.yaml.
type categoriesFile struct {
	Categories []Category `yaml:"categories"`
}

// sectorsFile is sectors.yaml.
type sectorsFile struct {
	Sectors []Sector `yaml:"sectors"`
}

var sectorName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func mustLoad(fsys fs.FS) *book {
	b, err := load(fsys)
	if err != nil {
		panic("rules: embedded rule data is invalid: " + err.Error())
	}
	return b
}

// load reads and checks the rule data: categories, sectors, authorities, calendars and regimes,
// in that order, then what spans regimes.
func load(fsys fs.FS) (*book, error) {
	b := &book{calendars: map[string]*calendarSpec{}, known: map[string]bool{}, sectorSet: map[string]bool{}, tested: map[string]bool{},
		categorySet: map[string]bool{}}
	if err := b.loadCategories(fsys); err != nil {
		return nil, err
	}
	if err := b.loadSectors(fsys); err != nil {
		return nil, err
	}
	if err := b.loadAuthorities(fsys); err != nil {
		return nil, err
	}
	if err := b.loadCalendars(fsys); err != nil {
		return nil, err
	}
	if err := b.loadRegimes(fsys); err != nil {
		return nil, err
	}
	if err := b.checkChained(); err != nil {
		return nil, err
	}
	if len(b.ids) == 0 {
		return nil, fmt.Errorf("no regimes")
	}
	for _, sec := range b.sectors {
		if !b.tested[sec.Name] {
			return nil, fmt.Errorf("sectors.yaml: no regime tests sector %q; remove it or name it in a regime", sec.Name)
		}
	}
	return b, nil
}

// loadCategories reads categories.yaml: each category named once, and the one unknown values
// are counted as among them.
func (b *book) loadCategories(fsys fs.FS) error {
	var cf categoriesFile
	if err := decodeStrict(fsys, "categories.yaml", &cf); err != nil {
		return err
	}
	for _, c := range cf.Categories {
		if !sectorName.MatchString(c.Name) || c.Title == "" {
			return fmt.Errorf("categories.yaml: category %q: want a lowercase-dashed name and a title", c.Name)
		}
		if b.categorySet[c.Name] {
			return fmt.Errorf("categories.yaml: category %q listed twice", c.Name)
		}
		b.categorySet[c.Name] = true
		b.categories = append(b.categories, c)
	}
	if !b.categorySet[OtherCategory] {
		return fmt.Errorf("categories.yaml: no category %q, which unknown values are counted as", OtherCategory)
	}
	return nil
}

// loadSectors reads sectors.yaml: each sector named once, with a title.
func (b *book) loadSectors(fsys fs.FS) error {
	var sf sectorsFile
	if err := decodeStrict(fsys, "sectors.yaml", &sf); err != nil {
		return err
	}
	for _, sec := range sf.Sectors {
		if !sectorName.MatchString(sec.Name) || sec.Title == "" {
			return fmt.Errorf("sectors.yaml: sector %q: want a lowercase-dashed name and a title", sec.Name)
		}
		if b.sectorSet[sec.Name] {
			return fmt.Errorf("sectors.yaml: sector %q listed twice", sec.Name)
		}
		b.sectorSet[sec.Name] = true
		b.sectors = append(b.sectors, sec)
	}
	return nil
}

// loadCalendars reads the holiday calendars, each defined once.
func (b *book) loadCalendars(fsys fs.FS) error {
	calFiles, err := fs.Glob(fsys, "calendars/*.yaml")
	if err != nil {
		return err
	}
	for _, name := range calFiles {
		var c calendarSpec
		if err := decodeStrict(fsys, name, &c); err != nil {
			return err
		}
		if err := c.prepare(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if b.calendars[c.Name] != nil {
			return fmt.Errorf("%s: calendar %q defined twice", name, c.Name)
		}
		b.calendars[c.Name] = &c
	}
	return nil
}

// loadRegimes reads and checks the regimes in file-name order, which is the evaluation order.
func (b *book) loadRegimes(fsys fs.FS) error {
	files, err := fs.Glob(fsys, "regimes/*.yaml") // sorted: the evaluation order is fixed
	if err != nil {
		return err
	}
	for _, name := range files {
		r := &regimeSpec{file: path.Base(name)}
		if err := decodeStrict(fsys, name, r); err != nil {
			return err
		}
		if err := b.check(r); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b.regimes = append(b.regimes, r)
	}
	return nil
}

// checkChained checks that chained triggers and filed conditions name a known obligation.
// They may name an obligation of any regime, so they are checked once all are loaded.
func (b *book) checkChained() error {
	for _, r := range b.regimes {
		for _, o := range r.Obligations {
			for _, c := range o.Clocks {
				if id, ok := strings.CutPrefix(c.Trigger, "submitted."); ok && !b.known[id] {
					return fmt.Errorf("%s: %s: trigger names unknown obligation %q", r.file, o.ID, id)
				}
			}
			for _, id := range filedIDs(o.When) {
				if !b.known[id] {
					return fmt.Errorf("%s: %s: filed names unknown obligation %q", r.file, o.ID, id)
				}
			}
		}
	}
	return nil
}

func decodeStrict(fsys fs.FS, name string, v any) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (c *calendarSpec) prepare() error {
	if c.Name == "" || c.Title == "" || len(c.Years) == 0 {
		return fmt.Errorf("calendar needs name, title and years")
	}
	if c.Country != "" && !countryCodes[c.Country] {
		return fmt.Errorf("country %q: want an ISO 3166-1 code", c.Country)
	}
	c.years = map[int]bool{}
	for _, y := range c.Years {
		c.years[y] = true
	}
	for _, y := range c.Projected {
		if !c.years[y] {
			return fmt.Errorf("projected year %d is not one of the years the calendar covers", y)
		}
	}
	c.days = map[string]bool{}
	for _, h := range c.Holidays {
		d, err := time.Parse("2006-01-02", h.Date)
		if err != nil || h.Name == "" {
			return fmt.Errorf("holiday %q %q: want date YYYY-MM-DD and a name", h.Date, h.Name)
		}
		if !c.years[d.Year()] {
			return fmt.Errorf("holiday %s lies outside the years the calendar covers", h.Date)
		}
		if c.days[h.Date] {
			return fmt.Errorf("holiday %s listed twice", h.Date)
		}
		c.days[h.Date] = true
	}
	return nil
}

func (b *book) check(r *regimeSpec) error {
	if r.Regime == "" || len(r.Obligations) == 0 {
		return fmt.Errorf("a regime needs a name and obligations")
	}
	for _, s := range r.Scope.Sectors {
		if !b.sectorSet[s] {
			return fmt.Errorf("scope: unknown sector %q (sectors.yaml lists the known ones)", s)
		}
		b.tested[s] = true
	}
	for _, p := range append(append([]string{}, r.Scope.Establishments...), r.Scope.Subjects...) {
		if !validPattern(p) {
			return fmt.Errorf("scope: unknown jurisdiction %q", p)
		}
	}
	local := map[string]bool{}
	for i := range r.Obligations {
		o := &r.Obligations[i]
		if o.ID == "" || o.Audience == "" || o.Basis == "" || o.Template == "" {
			return fmt.Errorf("obligation %d: id, audience, basis and template are required", i)
		}
		if b.known[o.ID] || b.resolvedIDs[o.ID] {
			return fmt.Errorf("%s: obligation id defined twice", o.ID)
		}
		if a := o.Authority; a != nil {
			switch {
			case (a.Code == "") == (a.Resolve == ""):
				return fmt.Errorf("%s: authority: give code or resolve, one of them", o.ID)
			case a.Code != "":
				if _, ok := b.authorityIndex[a.Code]; !ok {
					return fmt.Errorf("%s: authority code %q is not in authorities.yaml", o.ID, a.Code)
				}
			case a.Resolve != "gdpr" || o.ID != gdprAuthorityID:
				return fmt.Errorf("%s: authority resolve %q: only %s resolves, with resolve: gdpr", o.ID, a.Resolve, gdprAuthorityID)
			}
		}
		if l := o.LawEnforcementDelayLimit; l != nil {
			switch {
			case !o.LawEnforcementDelay:
				return fmt.Errorf("%s: law_enforcement_delay_limit without law_enforcement_delay: true", o.ID)
			case l.Days <= 0:
				return fmt.Errorf("%s: law_enforcement_delay_limit: days must be positive", o.ID)
			case strings.TrimSpace(l.Law) == "":
				return fmt.Errorf("%s: law_enforcement_delay_limit: law is required (the provision that bounds the delay)", o.ID)
			}
		}
		switch o.Kind {
		case "":
			o.Kind = KindReport
		case KindReport, KindNotice:
		default:
			return fmt.Errorf("%s: kind %q: write report or notice", o.ID, o.Kind)
		}
		for _, c := range o.When {
			if err := b.checkCondition(c, local); err != nil {
				return fmt.Errorf("%s: when: %w", o.ID, err)
			}
		}
		if len(o.Clocks) == 0 {
			return fmt.Errorf("%s: no clock", o.ID)
		}
		for j := range o.Clocks {
			if err := b.checkClock(&o.Clocks[j], local); err != nil {
				return fmt.Errorf("%s: clock %d: %w", o.ID, j, err)
			}
		}
		local[o.ID] = true
		b.known[o.ID] = true
		b.ids = append(b.ids, o.ID)
	}
	return nil
}

// checkCondition: exactly one kind per condition; requires names an earlier obligation of the
// same regime, so one pass in file order evaluates it.
func (b *book) checkCondition(c condition, earlier map[string]bool) error {
	if conditionKinds(c) != 1 {
		return fmt.Errorf("condition %+v: set exactly one kind", c)
	}
	needReason := c.Subjects == nil && c.Requires == "" && len(c.AnyOf) == 0 && len(c.Categories) == 0
	if needReason && c.Reason == "" {
		return fmt.Errorf("condition %+v: reason is required", c)
	}
	facts := append(append([]string{}, instantFacts[1:]...), flagFacts...)
	switch {
	case c.Role != "" && !oneOf(c.Role, roles):
		return fmt.Errorf("unknown role %q", c.Role)
	case c.Fact != "" && !oneOf(c.Fact, facts):
		return fmt.Errorf("unknown fact %q; fact and absent take %s", c.Fact, strings.Join(facts, ", "))
	case c.Absent != "" && !oneOf(c.Absent, facts):
		return fmt.Errorf("unknown fact %q; fact and absent take %s", c.Absent, strings.Join(facts, ", "))
	case c.Requires != "" && !earlier[c.Requires]:
		return fmt.Errorf("requires %q: not an earlier obligation of this regime", c.Requires)
	case c.Elapsed != nil && (!oneOf(c.Elapsed.From, instantFacts) || !oneOf(c.Elapsed.To, instantFacts) ||
		!oneOf(c.Elapsed.Op, []string{">=", ">", "<", "<="}) || c.Elapsed.Hours <= 0):
		return fmt.Errorf("elapsed %+v: want from and to among %s, op (>=, >, <, <=) and hours > 0", *c.Elapsed, strings.Join(instantFacts, ", "))
	}
	if f := c.InForce; f != nil {
		if err := checkInForce(f); err != nil {
			return err
		}
	}
	if err := b.checkVocabulary(c); err != nil {
		return err
	}
	if t := c.Subjects; t != nil {
		if err := checkThreshold(t); err != nil {
			return err
		}
	}
	for _, a := range c.AnyOf {
		if err := b.checkCondition(a, earlier); err != nil {
			return fmt.Errorf("any_of: %w", err)
		}
	}
	return nil
}

// conditionKinds counts the kinds of test a condition sets; a valid one sets exactly one.
func conditionKinds(c condition) int {
	kinds := 0
	count := func(set bool) {
		if set {
			kinds++
		}
	}
	count(c.Role != "")
	count(len(c.Risk) > 0)
	count(c.Unencrypted)
	count(c.Significant)
	count(c.Fact != "")
	count(c.Absent != "")
	count(len(c.Sectors) > 0)
	count(len(c.Categories) > 0)
	count(c.Subjects != nil)
	count(c.Requires != "")
	count(c.Filed != "")
	count(c.Elapsed != nil)
	count(c.InForce != nil)
	count(len(c.AnyOf) > 0)
	return kinds
}

// checkInForce checks an in_force condition: from, until or both as dates, and the zone of the
// law's country.
func checkInForce(f *inForce) error {
	if f.From == "" && f.Until == "" {
		return fmt.Errorf("in_force: give from, until or both (YYYY-MM-DD)")
	}
	for _, d := range []string{f.From, f.Until} {
		if _, err := time.Parse("2006-01-02", d); d != "" && err != nil {
			return fmt.Errorf("in_force date %q: want YYYY-MM-DD", d)
		}
	}
	if _, err := location(f.Zone); f.Zone == "" || err != nil {
		return fmt.Errorf("in_force zone %q: want the IANA zone of the law's country", f.Zone)
	}
	return nil
}

// checkVocabulary checks the risks, sectors and data categories a condition names against the
// known ones, and records the sectors as tested.
func (b *book) checkVocabulary(c condition) error {
	for _, r := range c.Risk {
		if !oneOf(r, risks) {
			return fmt.Errorf("unknown risk %q", r)
		}
	}
	for _, s := range c.Sectors {
		if !b.sectorSet[s] {
			return fmt.Errorf("unknown sector %q (sectors.yaml lists the known ones)", s)
		}
		b.tested[s] = true
	}
	for _, cat := range c.Categories {
		if !b.categorySet[cat] || cat == OtherCategory {
			return fmt.Errorf("unknown data category %q (categories.yaml lists the known ones; %s cannot be tested)", cat, OtherCategory)
		}
	}
	return nil
}

// checkThreshold checks a subjects threshold: its comparison, count, what it counts, per and
// the jurisdictions it counts in.
func checkThreshold(t *threshold) error {
	if !oneOf(t.Op, []string{">=", ">", "<", "<="}) || t.N < 0 || t.Of == "" {
		return fmt.Errorf("threshold %+v: want op (>=, >, <, <=), n >= 0 and of", *t)
	}
	if t.Per != "" && t.Per != "scope" && t.Per != "each" {
		return fmt.Errorf("threshold per %q: want scope or each", t.Per)
	}
	for _, p := range t.In {
		if !validPattern(p) {
			return fmt.Errorf("threshold: unknown jurisdiction %q", p)
		}
	}
	return nil
}

func (b *book) checkClock(c *clockSpec, earlier map[string]bool) error {
	for _, w := range c.When {
		if err := b.checkCondition(w, earlier); err != nil {
			return fmt.Errorf("when: %w", err)
		}
	}
	if !oneOf(c.Trigger, instantFacts) && !strings.HasPrefix(c.Trigger, "submitted.") {
		return fmt.Errorf("unknown trigger %q", c.Trigger)
	}
	if c.N <= 0 {
		return fmt.Errorf("n must be positive")
	}
	if c.From != "" && (c.From != "year_end" || c.Kind != "calendar_days") {
		return fmt.Errorf("from %q: only year_end, with calendar_days", c.From)
	}
	switch c.Kind {
	case "hours":
		if c.Zone != "" || c.Calendar != "" || c.At != "" {
			return fmt.Errorf("hours take no zone, calendar or at: they are elapsed time")
		}
	case "calendar_days", "months":
		if c.Calendar != "" {
			return fmt.Errorf("%s take no calendar", c.Kind)
		}
	case "business_days":
		if b.calendars[c.Calendar] == nil {
			return fmt.Errorf("unknown calendar %q", c.Calendar)
		}
		if c.Zone == "" {
			return fmt.Errorf("business days need the zone of the calendar's country")
		}
		c.calTitle = b.calendars[c.Calendar].Title
	default:
		return fmt.Errorf("unknown kind %q", c.Kind)
	}
	if c.Zone != "" {
		if _, err := location(c.Zone); err != nil {
			return fmt.Errorf("zone: %w", err)
		}
	}
	c.atHour, c.atMin, c.atSec = 23, 59, 59
	if c.At != "" {
		if c.Kind == "months" {
			return fmt.Errorf("months keep the trigger's time of day; at is not allowed")
		}
		t, err := time.Parse("15:04", c.At)
		if err != nil {
			return fmt.Errorf("at %q: want HH:MM", c.At)
		}
		c.atHour, c.atMin, c.atSec = t.Hour(), t.Minute(), 0
	}
	if st := c.Statutory; st != nil {
		switch {
		case st.Law == "":
			return fmt.Errorf("statutory: law is required (the provisions that give the later reading)")
		case st.ExcludeFirstDay && c.Kind != "calendar_days":
			return fmt.Errorf("statutory: exclude_first_day is for calendar_days")
		case st.AlsoSkip != "" && (c.Kind != "business_days" || b.calendars[st.AlsoSkip] == nil):
			return fmt.Errorf("statutory: also_skip %q: a known calendar, for business_days", st.AlsoSkip)
		case st.Roll != "" && !oneOf(st.Roll, []string{"next_business_day", "next_working_day_noon"}):
			return fmt.Errorf("statutory: roll %q: want next_business_day or next_working_day_noon", st.Roll)
		case st.Roll != "" && st.Calendar != memberStateCalendar && b.calendars[st.Calendar] == nil:
			return fmt.Errorf("statutory: roll needs calendar: a known calendar or %s", memberStateCalendar)
		case st.Roll == "" && st.Calendar != "":
			return fmt.Errorf("statutory: calendar without roll")
		case !st.ExcludeFirstDay && st.AlsoSkip == "" && st.Roll == "":
			return fmt.Errorf("statutory: nothing to do; give exclude_first_day, also_skip or roll")
		}
		for _, s := range st.UnlessSectors {
			if !b.sectorSet[s] {
				return fmt.Errorf("statutory: unknown sector %q", s)
			}
			b.tested[s] = true
		}
	}
	return nil
}

// filedIDs lists the obligations filed conditions name, any_of included.
func filedIDs(cs []condition) []string {
	var ids []string
	for _, c := range cs {
		if c.Filed != "" {
			ids = append(ids, c.Filed)
		}
		ids = append(ids, filedIDs(c.AnyOf)...)
	}
	return ids
}

// ObligationIDs lists every obligation id of the regime files, in a stable order. The ids the
// GDPR authority obligation resolves to are AuthorityObligationIDs.
func ObligationIDs() []string { return append([]string(nil), rulebook.ids...) }
