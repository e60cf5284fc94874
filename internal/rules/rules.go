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
// ID. Every known obligation id appears in exactly one of the two.
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
			}
			if !e.established(r.Scope.Establishments) && len(r.Scope.Subjects) > 0 {
				best.Subjects = append([]string(nil), r.Scope.Subjects...)
			}
		}
	}
	switch {
	case best != nil:
		e.status[o.ID] = ""
		res.Obligations = append(res.Obligations, *best)
	case len(pending) > 0:
		e.rule(res, o.ID, "chained: the clock starts when "+joinOr(pending)+" is submitted, which is not yet recorded in submitted")
	default:
		e.rule(res, o.ID, strings.Join(clockReasons, "; "))
	}
}

func (e *evaluation) trigger(name string) (time.Time, bool) {
	switch name {
	case "aware_at":
		return e.f.AwareAt, true
	case "materiality_determined_at":
		if e.f.MaterialityDeterminedAt == nil {
			return time.Time{}, false
		}
		return *e.f.MaterialityDeterminedAt, true
	}
	id, _ := strings.CutPrefix(name, "submitted.")
	t, ok := e.f.Submitted[id]
	return t, ok
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
		return e.f.MaterialityDeterminedAt != nil, c.Reason, nil
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

func (e *evaluation) established(patterns []string) bool {
	for _, c := range e.f.Establishments {
		if len(patterns) > 0 && matchesAny(patterns, c) {
			return true
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
