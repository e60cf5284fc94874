// Package rules turns the facts of a breach into the notifications the law requires, each with
// its audience, legal basis and due instant. It is pure: no I/O, no clock, deterministic, so
// workflow code calls it directly.
//
// The rules themselves are data (regimes/*.yaml, calendars/*.yaml, embedded); this Go code only
// evaluates conditions and does the date arithmetic. See README.md for the readings of the law.
package rules

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Facts are what the rules need to know about a breach.
type Facts struct {
	AwareAt                 time.Time            `json:"aware_at"`
	Timezone                string               `json:"timezone,omitempty"`
	Role                    string               `json:"role,omitempty"` // controller|processor
	Establishments          []string             `json:"establishments,omitempty"`
	Sectors                 []string             `json:"sectors,omitempty"`
	SubjectsByJurisdiction  map[string]int       `json:"subjects_by_jurisdiction,omitempty"`
	DataCategories          []string             `json:"data_categories,omitempty"`
	Risk                    string               `json:"risk,omitempty"` // unlikely|risk|high
	EncryptedUnintelligible bool                 `json:"encrypted_unintelligible,omitempty"`
	MaterialityDeterminedAt *time.Time           `json:"materiality_determined_at,omitempty"`
	SignificantIncident     bool                 `json:"significant_incident,omitempty"`
	Submitted               map[string]time.Time `json:"submitted,omitempty"`

	// EstablishmentRegions are the regions of the establishments where the rules route by
	// region: a German Land (DE-BE), a Spanish autonomous community (ES-CT), a Canadian
	// province (CA-QC). Each region's country is one of Establishments.
	EstablishmentRegions []string `json:"establishment_regions,omitempty"`
	// MainEstablishment is where decisions on the purposes and means of the processing are
	// taken and implemented (GDPR Art. 4(16)): an establishment's country or region, or a
	// country outside the EEA when they are taken there (then there is no main establishment
	// in the EEA: EDPB Opinion 04/2024).
	MainEstablishment string `json:"main_establishment,omitempty"`
	// PublicTask: a public body, or processing under GDPR Art. 6(1)(c) or (e): no one-stop shop
	// (Art. 55(2)).
	PublicTask bool `json:"public_task,omitempty"`
	// ClassifiedMajorAt is when a financial entity classified the incident as major (DORA
	// Art. 18; RTS 2025/301 Art. 5).
	ClassifiedMajorAt *time.Time `json:"classified_major_at,omitempty"`
	// AssessedAt is when the breach was assessed as notifiable (Singapore PDPA s.26D) or as
	// presenting a risk of serious injury (Québec Law 25 s.3.5).
	AssessedAt *time.Time `json:"assessed_at,omitempty"`
	// WrongfulPurpose: the leak involves an act with a wrongful purpose, such as an attack
	// (Japan APPI, PPC Rules Art. 7(iii)).
	WrongfulPurpose bool `json:"wrongful_purpose,omitempty"`
	// ExternalUnlawfulAccess: the leak came from unlawful access from outside (South Korea
	// PIPA Enforcement Decree Art. 40).
	ExternalUnlawfulAccess bool `json:"external_unlawful_access,omitempty"`
}

// resolvesAuthorities reports whether the facts describe the organisation well enough to
// resolve the GDPR's competent authorities (AUTHORITIES.md): any of the fields that say where
// it is established and how. Facts without them keep the one obligation gdpr-art33-authority,
// as they did before these fields existed.
func (f Facts) resolvesAuthorities() bool {
	return len(f.EstablishmentRegions) > 0 || f.MainEstablishment != "" || f.PublicTask
}

// Obligation is one notification the law requires.
type Obligation struct {
	ID         string    `json:"id"`
	Regime     string    `json:"regime"`
	Audience   string    `json:"audience"`
	Basis      string    `json:"basis"`
	Trigger    string    `json:"trigger"`
	ClockStart time.Time `json:"clock_start"`
	DueAt      time.Time `json:"due_at"`
	Rule       string    `json:"rule"`
	Template   string    `json:"template"`
	// Kind is how the obligation is met: KindReport or KindNotice. Obligations recorded before
	// it was data have none (see IsNotice).
	Kind string `json:"kind,omitempty"`
	// Subjects are the jurisdiction patterns (a code, EEA, or US-*) of the people the
	// obligation protects; empty means every affected subject (e.g. a regime that applies
	// through the organisation's establishment). Notices go to the people it covers.
	Subjects []string `json:"subjects,omitempty"`
	// StatutoryLimit is the later outer limit the law's own counting rules give (first day
	// excluded, a deadline on a weekend or holiday rolled forward), when it is later than
	// DueAt; StatutoryRule says how it was computed. DueAt stays the deadline the clock
	// escalates on.
	StatutoryLimit time.Time `json:"statutory_limit,omitzero"`
	StatutoryRule  string    `json:"statutory_rule,omitempty"`
	// LawEnforcementDelay: the law lets law enforcement delay this notification, so a recorded
	// request from it may pause the clock.
	LawEnforcementDelay bool `json:"law_enforcement_delay,omitempty"`
	// LawEnforcementDelayLimit bounds how long one request from law enforcement may delay it,
	// where the law does (HIPAA: an oral statement, 30 days; the SEC: 30 days at a time).
	LawEnforcementDelayLimit *DelayLimit `json:"law_enforcement_delay_limit,omitempty"`
	// Authority is the authority the obligation is owed to, where the rules know it: from the
	// directory, or resolved from the organisation's facts (AUTHORITIES.md).
	Authority *AuthorityRef `json:"authority,omitempty"`
	// Reasoning records how a resolved authority was determined, step by step.
	Reasoning []string `json:"reasoning,omitempty"`
}

// DelayLimit is how long one request from law enforcement may delay a notification.
type DelayLimit struct {
	// Days is the longest delay, counted from the request.
	Days int `json:"days" yaml:"days"`
	// OralOnly bounds only a request made orally: a written one delays for the period it
	// states (45 CFR 164.412(a)-(b)).
	OralOnly bool `json:"oral_only,omitempty" yaml:"oral_only"`
	// Law cites the provision that bounds the delay.
	Law string `json:"law" yaml:"law"`
}

// Until is when a delay requested at requestedAt (orally or not) until until (zero: until it is
// lifted) ends at the latest under the limit l (nil: no limit), and whether the limit decided.
func (l *DelayLimit) Until(requestedAt, until time.Time, oral bool) (time.Time, bool) {
	if l == nil || (l.OralOnly && !oral) {
		return until, false
	}
	limit := requestedAt.AddDate(0, 0, l.Days)
	if until.IsZero() || limit.Before(until) {
		return limit, true
	}
	return until, false
}

// Obligation kinds.
const (
	// KindReport is a report to an authority (or the media): drafted, approved, submitted or
	// filed.
	KindReport = "report"
	// KindNotice is a notice to the people the obligation covers, met by the customer alerts.
	KindNotice = "notice"
)

// IsNotice reports whether the obligation is met by notices to the people it covers.
// Obligations recorded before the kind was part of the rules are told by their template's name,
// as they were then.
func (o Obligation) IsNotice() bool {
	if o.Kind != "" {
		return o.Kind == KindNotice
	}
	return strings.HasSuffix(o.Template, "-notice") && !strings.Contains(o.Template, "media")
}

// Covers reports whether the obligation protects a subject resident in jurisdiction code.
func (o Obligation) Covers(code string) bool {
	if len(o.Subjects) == 0 {
		return true
	}
	for _, p := range o.Subjects {
		if matchJurisdiction(p, code) {
			return true
		}
	}
	return false
}

// NotRequired is an obligation that was considered and ruled out, with the reason.
type NotRequired struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Result is the outcome of Evaluate. Obligations are sorted by DueAt, then ID; NotRequired by
// ID. Every id of ObligationIDs appears in exactly one of the two; when gdpr-art33-authority
// resolves to the competent authorities (facts with establishment_regions, main_establishment
// or public_task), it is in NotRequired with a reason naming the obligations it resolved to,
// which are in Obligations with their own ids (AuthorityObligationIDs).
type Result struct {
	Obligations []Obligation  `json:"obligations"`
	NotRequired []NotRequired `json:"not_required"`
	// Rulebook is the Version of the rules that computed the result.
	Rulebook string `json:"rulebook,omitempty"`
}

// Evaluate applies the rules to the facts. Invalid facts give a *UsageError.
//
// Two defaults are conservative: an empty Risk (the DPO has not decided yet) counts as "high",
// so no obligation is ruled out on risk; an empty Role counts as "controller". An empty
// Timezone counts as UTC.
func Evaluate(f Facts) (Result, error) {
	if err := f.Validate(); err != nil {
		return Result{}, err
	}
	res := rulebook.evaluate(f)
	res.Rulebook = Version
	return res, nil
}

// evaluate applies this book's rules to valid facts.
func (b *book) evaluate(f Facts) Result {
	e := &evaluation{b: b, f: f, org: time.UTC, risk: f.Risk, role: f.Role, status: map[string]string{}}
	if f.Timezone != "" {
		e.org, _ = location(f.Timezone) // Validate loaded it
	}
	if e.risk == "" {
		e.risk = "high"
	}
	if e.role == "" {
		e.role = "controller"
	}
	res := Result{Obligations: []Obligation{}, NotRequired: []NotRequired{}}
	for _, r := range b.regimes {
		if reason := e.outOfScope(r.Scope); reason != "" {
			for _, o := range r.Obligations {
				e.rule(&res, o.ID, reason)
			}
			continue
		}
		for i := range r.Obligations {
			e.obligation(&res, r, &r.Obligations[i])
		}
	}
	slices.SortFunc(res.Obligations, func(x, y Obligation) int {
		if c := x.DueAt.Compare(y.DueAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	slices.SortFunc(res.NotRequired, func(x, y NotRequired) int { return strings.Compare(x.ID, y.ID) })
	return res
}

type evaluation struct {
	b          *book
	f          Facts
	org        *time.Location
	risk, role string
	status     map[string]string // obligation id -> "" if it applies, else why not
}

func (e *evaluation) rule(res *Result, id, reason string) {
	e.status[id] = reason
	res.NotRequired = append(res.NotRequired, NotRequired{ID: id, Reason: reason})
}

func (e *evaluation) outOfScope(s scopeSpec) string {
	if len(s.Sectors) > 0 && !intersects(e.f.Sectors, s.Sectors) {
		return "not in scope: the organisation's sectors do not include " + joinOr(s.Sectors)
	}
	if len(s.Establishments) == 0 && len(s.Subjects) == 0 {
		return ""
	}
	if e.established(s.Establishments) {
		return ""
	}
	if len(s.Subjects) > 0 && e.sum(s.Subjects) > 0 {
		return ""
	}
	switch {
	case len(s.Establishments) == 0:
		return "not in scope: no affected subjects resident in " + joinOr(s.Subjects)
	case len(s.Subjects) == 0:
		return "not in scope: no establishment in " + joinOr(s.Establishments)
	}
	return "not in scope: no establishment in " + joinOr(s.Establishments) +
		" and no affected subjects resident in " + joinOr(s.Subjects)
}

func (e *evaluation) obligation(res *Result, r *regimeSpec, o *obligationSpec) {
	var reasons, matched []string
	for _, c := range o.When {
		ok, reason, m := e.check(c, r.Scope)
		if !ok {
			reasons = append(reasons, reason)
		}
		matched = append(matched, m...)
	}
	if len(reasons) > 0 {
		e.rule(res, o.ID, strings.Join(reasons, "; "))
		return
	}
	var best *Obligation
	var bestClock *clockSpec
	var bestZone *time.Location
	var pending, clockReasons []string
	for i := range o.Clocks {
		c := &o.Clocks[i]
		if ok, reason := e.all(c.When, r.Scope); !ok {
			clockReasons = append(clockReasons, reason)
			continue
		}
		trigger, found := e.trigger(c.Trigger)
		if !found {
			if id, chained := strings.CutPrefix(c.Trigger, "submitted."); chained {
				pending = append(pending, id)
			} else {
				clockReasons = append(clockReasons, c.Trigger+" not recorded")
			}
			continue
		}
		zone := e.org
		if c.Zone != "" {
			zone, _ = location(c.Zone) // checked when the rules were loaded
		}
		start, due, rule := e.b.due(c, trigger, zone)
		if best == nil || due.Before(best.DueAt) {
			best = &Obligation{
				ID: o.ID, Regime: r.Regime, Audience: strings.ReplaceAll(o.Audience, "{matched}", strings.Join(matched, ", ")),
				Basis: o.Basis, Trigger: c.Trigger, ClockStart: start, DueAt: due, Rule: rule, Template: o.Template, Kind: o.Kind,
				LawEnforcementDelay: o.LawEnforcementDelay,
			}
			if l := o.LawEnforcementDelayLimit; l != nil {
				cp := *l
				best.LawEnforcementDelayLimit = &cp
			}
			if !e.established(r.Scope.Establishments) && len(r.Scope.Subjects) > 0 {
				best.Subjects = append([]string(nil), r.Scope.Subjects...)
			}
			bestClock, bestZone = c, zone
		}
	}
	switch {
	case best != nil:
		e.status[o.ID] = ""
		if st := bestClock.Statutory; st != nil {
			trigger, _ := e.trigger(bestClock.Trigger)
			best.StatutoryLimit, best.StatutoryRule = e.statutory(bestClock, trigger, bestZone, best.DueAt)
		}
		if a := o.Authority; a != nil && a.Code != "" {
			ent := &e.b.authorities[e.b.authorityIndex[a.Code]]
			ref := ent.Ref()
			best.Authority = &ref
		}
		if a := o.Authority; a != nil && a.Resolve == "gdpr" && e.f.resolvesAuthorities() {
			if e.resolve(res, best) {
				return
			}
		}
		res.Obligations = append(res.Obligations, *best)
	case len(pending) > 0:
		e.rule(res, o.ID, "chained: the clock starts when "+joinOr(pending)+" is submitted, which is not yet recorded in submitted")
	default:
		e.rule(res, o.ID, strings.Join(clockReasons, "; "))
	}
}

func (e *evaluation) trigger(name string) (time.Time, bool) {
	var at *time.Time
	switch name {
	case "aware_at":
		return e.f.AwareAt, true
	case "materiality_determined_at":
		at = e.f.MaterialityDeterminedAt
	case "classified_major_at":
		at = e.f.ClassifiedMajorAt
	case "assessed_at":
		at = e.f.AssessedAt
	default:
		id, _ := strings.CutPrefix(name, "submitted.")
		t, ok := e.f.Submitted[id]
		return t, ok
	}
	if at == nil {
		return time.Time{}, false
	}
	return *at, true
}

// hasFact reports whether an instant fact is recorded or a flag fact is true.
func (e *evaluation) hasFact(name string) bool {
	switch name {
	case "wrongful_purpose":
		return e.f.WrongfulPurpose
	case "external_unlawful_access":
		return e.f.ExternalUnlawfulAccess
	case "public_task":
		return e.f.PublicTask
	}
	_, ok := e.trigger(name)
	return ok
}

// resolve replaces the GDPR authority obligation by one per competent authority, and records
// the base id as resolved. It reports false (keep the base obligation) if nothing resolved.
func (e *evaluation) resolve(res *Result, base *Obligation) bool {
	var affected []string
	for _, c := range sortedKeys(e.f.SubjectsByJurisdiction) {
		if eea[countryOf(c)] && e.f.SubjectsByJurisdiction[c] > 0 && !slices.Contains(affected, countryOf(c)) {
			affected = append(affected, countryOf(c))
		}
	}
	slices.Sort(affected)
	found, err := e.b.resolveGDPR(e.f.organisation(), affected)
	if err != nil || len(found) == 0 {
		// Validate refuses facts that cannot resolve; keep the one obligation all the same.
		return false
	}
	var names []string
	for _, r := range found {
		o := *base
		o.ID = base.ID + "-" + strings.ToLower(r.ref.Code)
		o.Audience = r.audience
		ref := r.ref
		o.Authority = &ref
		o.Reasoning = r.reasoning
		o.Subjects = r.subjects
		res.Obligations = append(res.Obligations, o)
		names = append(names, o.ID+" ("+r.ref.Name+")")
	}
	res.NotRequired = append(res.NotRequired, NotRequired{ID: base.ID,
		Reason: "resolved to the competent authorities (the procedure of AUTHORITIES.md, each with its reasoning): " + strings.Join(names, "; ")})
	return true
}

func (e *evaluation) all(cs []condition, scope scopeSpec) (bool, string) {
	var reasons []string
	for _, c := range cs {
		if ok, reason, _ := e.check(c, scope); !ok {
			reasons = append(reasons, reason)
		}
	}
	return len(reasons) == 0, strings.Join(reasons, "; ")
}

// check evaluates one condition: whether it holds, why not, and for per-jurisdiction thresholds
// the jurisdictions that passed.
func (e *evaluation) check(c condition, scope scopeSpec) (bool, string, []string) {
	switch {
	case c.Role != "":
		return e.role == c.Role, c.Reason, nil
	case len(c.Risk) > 0:
		return oneOf(e.risk, c.Risk), c.Reason, nil
	case c.Unencrypted:
		return !e.f.EncryptedUnintelligible, c.Reason, nil
	case c.Significant:
		return e.f.SignificantIncident, c.Reason, nil
	case c.Fact != "":
		return e.hasFact(c.Fact), c.Reason, nil
	case c.Absent != "":
		return !e.hasFact(c.Absent), c.Reason, nil
	case c.Filed != "":
		_, ok := e.f.Submitted[c.Filed]
		return ok, c.Reason, nil
	case c.Elapsed != nil:
		from, okFrom := e.trigger(c.Elapsed.From)
		to, okTo := e.trigger(c.Elapsed.To)
		if !okFrom || !okTo {
			return false, c.Reason, nil
		}
		return compareDuration(to.Sub(from), c.Elapsed.Op, time.Duration(c.Elapsed.Hours)*time.Hour), c.Reason, nil
	case c.InForce != nil:
		loc, _ := location(c.InForce.Zone) // checked when the rules were loaded
		day := e.f.AwareAt.In(loc).Format("2006-01-02")
		ok := (c.InForce.From == "" || day >= c.InForce.From) && (c.InForce.Until == "" || day < c.InForce.Until)
		return ok, c.Reason, nil
	case len(c.Sectors) > 0:
		return intersects(e.f.Sectors, c.Sectors), c.Reason, nil
	case len(c.Categories) > 0:
		for _, have := range e.f.DataCategories {
			if oneOf(strings.ToLower(strings.TrimSpace(have)), c.Categories) {
				return true, "", nil
			}
		}
		if c.Reason != "" {
			return false, c.Reason, nil
		}
		return false, "no affected data category among " + joinOr(c.Categories), nil
	case c.Subjects != nil:
		ok, reason, matched := e.threshold(c.Subjects, scope)
		if c.Reason != "" {
			reason += " (" + c.Reason + ")"
		}
		return ok, reason, matched
	case c.Requires != "":
		why := e.status[c.Requires]
		return why == "", "depends on " + c.Requires + ", which is not required: " + why, nil
	}
	var reasons []string
	for _, a := range c.AnyOf {
		ok, reason, matched := e.check(a, scope)
		if ok {
			return true, "", matched
		}
		reasons = append(reasons, reason)
	}
	if c.Reason != "" {
		return false, c.Reason, nil
	}
	return false, strings.Join(reasons, ", and ") + " (any one would suffice)", nil
}

func (e *evaluation) threshold(t *threshold, scope scopeSpec) (bool, string, []string) {
	in := t.In
	if len(in) == 0 {
		in = scope.Subjects
	}
	if t.AllIfEstablished && e.established(scope.Establishments) {
		in = nil
	}
	if t.Per == "each" {
		var matched []string
		best, bestCode := 0, "none"
		for _, code := range sortedKeys(e.f.SubjectsByJurisdiction) {
			if !matchesAny(in, code) {
				continue
			}
			n := e.f.SubjectsByJurisdiction[code]
			if compare(n, t.Op, t.N) {
				matched = append(matched, code)
			}
			if n > best || bestCode == "none" {
				best, bestCode = n, code
			}
		}
		if len(matched) > 0 {
			return true, "", matched
		}
		return false, "threshold not met: " + opWords(t.Op) + " " + strconv.Itoa(t.N) + " " + t.Of +
			" required; the largest count is " + strconv.Itoa(best) + " (" + bestCode + ")", nil
	}
	n := e.sum(in)
	if compare(n, t.Op, t.N) {
		return true, "", nil
	}
	return false, "threshold not met: " + strconv.Itoa(n) + " " + t.Of + ", " + opWords(t.Op) + " " + strconv.Itoa(t.N) + " required", nil
}

// established reports whether one of the establishments, or of their regions, matches one of
// patterns (none never matches).
func (e *evaluation) established(patterns []string) bool {
	for _, list := range [][]string{e.f.Establishments, e.f.EstablishmentRegions} {
		for _, c := range list {
			if len(patterns) > 0 && matchesAny(patterns, c) {
				return true
			}
		}
	}
	return false
}

// sum adds the subjects resident in the jurisdictions matching patterns (all if none),
// saturating instead of overflowing.
func (e *evaluation) sum(patterns []string) int {
	total := 0
	for _, code := range sortedKeys(e.f.SubjectsByJurisdiction) {
		if !matchesAny(patterns, code) {
			continue
		}
		n := e.f.SubjectsByJurisdiction[code]
		if total > maxInt-n {
			return maxInt
		}
		total += n
	}
	return total
}

const maxInt = int(^uint(0) >> 1)

// matchesAny: an empty pattern list matches everything.
func matchesAny(patterns []string, code string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if matchJurisdiction(p, code) {
			return true
		}
	}
	return false
}

func compareDuration(d time.Duration, op string, limit time.Duration) bool {
	switch op {
	case ">=":
		return d >= limit
	case ">":
		return d > limit
	case "<":
		return d < limit
	case "<=":
		return d <= limit
	}
	return false
}

func compare(n int, op string, limit int) bool {
	switch op {
	case ">=":
		return n >= limit
	case ">":
		return n > limit
	case "<":
		return n < limit
	case "<=":
		return n <= limit
	}
	return false
}

func opWords(op string) string {
	switch op {
	case ">=":
		return "at least"
	case ">":
		return "more than"
	case "<":
		return "fewer than"
	}
	return "at most"
}

func intersects(have, want []string) bool {
	for _, h := range have {
		if oneOf(h, want) {
			return true
		}
	}
	return false
}

func joinOr(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}
