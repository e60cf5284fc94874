// Package register is the breach register of GDPR Art. 33(5): every personal data breach,
// notified or not, with its facts, its effects, the remedial action taken, the decision and its
// reasoning, the obligations with their due and filed times and references, late filings with
// their reasons, and the hashes of the evidence.
//
// Every incident is in the register from its declaration. Each change the incident records
// (a decision, a filing, an amendment, the close or the cancellation) and each correction a
// person makes is a new version of the incident's entry; no version is ever rewritten. Each
// version carries the SHA-256 of the entry before it in the whole register and of the
// incident's previous version, so a version changed or deleted by hand, or a whole incident
// removed, is found by Verify and named.
//
// An entry holds no personal data of a data subject: counts, data categories and
// jurisdictions only, as the incident's records do.
package register

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// The register's vocabulary is the domain's (incident.RegisterContent and its parts).
type (
	Content     = incident.RegisterContent
	Scope       = incident.RegisterScope
	Containment = incident.RegisterContainment
	Notices     = incident.RegisterNotices
	Decision    = incident.RegisterDecision
	Obligation  = incident.RegisterObligation
	Supplement  = incident.RegisterSupplement
	NotRequired = incident.RegisterNotRequired
	Evidence    = incident.RegisterEvidence
)

// Statuses of an incident in the register, and the states of an obligation in it.
const (
	StatusOpen        = incident.RegisterStatusOpen
	StatusNotifying   = incident.RegisterStatusNotifying
	StatusNotified    = incident.RegisterStatusNotified
	StatusNotNotified = incident.RegisterStatusNotNotified
	StatusCancelled   = incident.RegisterStatusCancelled
	ObligationPending = incident.RegisterObligationPending
	ObligationFiled   = incident.RegisterObligationFiled
	ObligationFailed  = incident.RegisterObligationFailed
)

// Statuses lists every status, in the order an incident goes through them.
var Statuses = incident.RegisterStatuses

// outOfScope starts the reason the rules give for a regime that does not apply at all (no
// establishment, no affected resident, not the sector), as opposed to one the facts decided.
const outOfScope = "not in scope"

// decidedNotRequired splits the obligations not required into those the facts of the breach
// decided (risk, encryption, thresholds: the reasoning the register must keep) and the number
// of regimes that do not apply to the organisation at all. Exports for people show the first;
// the JSON keeps both.
func decidedNotRequired(c Content) (decided []NotRequired, outside int) {
	for _, n := range c.NotRequired {
		if strings.HasPrefix(n.Reason, outOfScope) {
			outside++
			continue
		}
		decided = append(decided, n)
	}
	return decided, outside
}

// lateFilings lists the obligations met after their deadline.
func lateFilings(c Content) []Obligation {
	var out []Obligation
	for _, o := range c.Obligations {
		if o.Late {
			out = append(out, o)
		}
	}
	return out
}

// normalise makes equal contents encode equally: instants in UTC, lists never null.
func normalise(c Content) Content {
	utc := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	for _, t := range []*time.Time{&c.DeclaredAt, &c.AwareAt, &c.ClosedAt, &c.CancelledAt} {
		utc(t)
	}
	if c.Systems == nil {
		c.Systems = []string{}
	}
	obls := make([]Obligation, len(c.Obligations))
	for i, o := range c.Obligations {
		utc(&o.DueAt)
		utc(&o.FiledAt)
		o.Supplements = slices.Clone(o.Supplements)
		for j := range o.Supplements {
			utc(&o.Supplements[j].At)
		}
		obls[i] = o
	}
	c.Obligations = obls
	if c.Decision != nil {
		d := *c.Decision
		utc(&d.DecidedAt)
		c.Decision = &d
	}
	if c.Status == "" {
		c.Status = c.DeriveStatus()
	}
	return c
}

// Describe says in a few words what changed from prev (nil for the first version) to next.
func Describe(prev *Content, next Content) string {
	if prev == nil {
		return "declared"
	}
	var out []string
	add := func(cond bool, s string) {
		if cond {
			out = append(out, s)
		}
	}
	add(prev.Scope == nil && next.Scope != nil, "scope assessed")
	add(prev.Scope != nil && next.Scope != nil && *comparable(prev.Scope) != *comparable(next.Scope), "scope amended")
	if prev.Decision == nil && next.Decision != nil {
		out = append(out, "decided: risk "+next.Decision.Risk)
	}
	out = append(out, obligationChanges(prev.Obligations, next.Obligations)...)
	add(!containmentEqual(prev.Containment, next.Containment), "containment")
	add(!noticesEqual(prev.Notices, next.Notices) && next.Notices != nil, "notices "+noticeState(next.Notices))
	add(prev.ClosedAt.IsZero() && !next.ClosedAt.IsZero(), "closed")
	add(prev.CancelledAt.IsZero() && !next.CancelledAt.IsZero(), "cancelled")
	add(len(prev.Evidence) != len(next.Evidence), "evidence")
	if len(out) == 0 {
		return "updated"
	}
	return strings.Join(out, "; ")
}

type scopeKey struct{ subjects, records int }

func comparable(s *Scope) *scopeKey { return &scopeKey{s.Subjects, s.Records} }

func obligationChanges(prev, next []Obligation) []string {
	old := map[string]Obligation{}
	for _, o := range prev {
		old[o.ID] = o
	}
	var out []string
	for _, o := range next {
		p, ok := old[o.ID]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("obligation %s due %s", o.ID, o.DueAt.UTC().Format(time.RFC3339)))
		case p.State != o.State && o.State == ObligationFiled:
			s := o.ID + " filed"
			if o.Reference != "" {
				s += " (reference " + o.Reference + ")"
			}
			if o.Late {
				s += ", late"
			}
			out = append(out, s)
		case p.State != o.State:
			out = append(out, o.ID+" "+o.State)
		case len(p.Supplements) != len(o.Supplements):
			out = append(out, fmt.Sprintf("%s supplement %d", o.ID, len(o.Supplements)))
		}
	}
	return out
}

func containmentEqual(a, b []Containment) bool { return slices.Equal(a, b) }

func noticesEqual(a, b *Notices) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func noticeState(n *Notices) string {
	if n == nil {
		return ""
	}
	return n.State
}

// sortedCounts renders counts as "DE 7; FR 3", keys in order.
func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, "; ")
}
