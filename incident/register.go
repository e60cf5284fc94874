package incident

import (
	"maps"
	"slices"
	"time"
)

// What the breach register (GDPR Art. 33(5)) says of an incident at one time: facts, effects,
// remedial action, the decision and its reasoning, the obligations and how they were met, the
// hashes of the evidence. Counts, data categories and jurisdictions only: no personal data of a
// data subject. internal/register keeps the versions; RegisterContentOf computes one from the
// incident's record.

// RegisterStatuses of an incident in the register.
const (
	// RegisterStatusOpen: declared, the DPO has not decided yet.
	RegisterStatusOpen = "open"
	// RegisterStatusNotifying: decided; an obligation (a report, notices) is not met yet.
	RegisterStatusNotifying = "notifying"
	// RegisterStatusNotified: decided, and every obligation is met.
	RegisterStatusNotified = "notified"
	// RegisterStatusNotNotified: decided, and the law requires no notification: documented only.
	RegisterStatusNotNotified = "not-notified"
	// RegisterStatusCancelled: the incident was cancelled before it closed.
	RegisterStatusCancelled = "cancelled"
)

// RegisterStatuses lists every status, in the order an incident goes through them.
var RegisterStatuses = []string{RegisterStatusOpen, RegisterStatusNotifying, RegisterStatusNotified, RegisterStatusNotNotified, RegisterStatusCancelled}

// RegisterObligation states in the register: only whether the obligation is met.
const (
	RegisterObligationPending = "pending"
	RegisterObligationFiled   = "filed"
	RegisterObligationFailed  = "failed"
)

// RegisterContent is what the register says of one incident at one time.
type RegisterContent struct {
	IncidentID string `json:"incident_id"`
	Status     string `json:"status"`
	Drill      bool   `json:"drill,omitempty"`
	Title      string `json:"title"`

	// The facts.
	Description  string         `json:"description,omitempty"`
	Organisation string         `json:"organisation,omitempty"`
	DeclaredBy   string         `json:"declared_by"`
	Source       string         `json:"source,omitempty"`
	DeclaredAt   time.Time      `json:"declared_at,omitzero"`
	AwareAt      time.Time      `json:"aware_at"`
	AwareZone    string         `json:"aware_zone,omitempty"`
	Systems      []string       `json:"systems"`
	Scope        *RegisterScope `json:"scope,omitempty"`

	// The effects: the likely consequences (Art. 33(3)(c)).
	Consequences string `json:"consequences,omitempty"`

	// The remedial action: measures taken or proposed (Art. 33(3)(d)), containment, notices.
	Measures    string                `json:"measures,omitempty"`
	Containment []RegisterContainment `json:"containment,omitempty"`
	Notices     *RegisterNotices      `json:"notices,omitempty"`

	// The decision and its reasoning, and what the law required of it.
	Decision    *RegisterDecision    `json:"decision,omitempty"`
	Obligations []RegisterObligation `json:"obligations"`
	// Delays are the requests from law enforcement to delay notifications: who asked, when,
	// their reference, until when, which clocks they paused, and when they were lifted.
	Delays      []LawEnforcementDelay `json:"law_enforcement_delays,omitempty"`
	NotRequired []RegisterNotRequired `json:"not_required,omitempty"`
	Rulebook    string                `json:"rulebook,omitempty"`

	Evidence []RegisterEvidence `json:"evidence,omitempty"`

	ClosedAt     time.Time `json:"closed_at,omitzero"`
	ClosedBy     string    `json:"closed_by,omitempty"`
	CloseSummary string    `json:"close_summary,omitempty"`
	CancelledAt  time.Time `json:"cancelled_at,omitzero"`
}

// RegisterScope counts the people and records affected; never who they are.
type RegisterScope struct {
	Subjects       int            `json:"subjects"`
	Records        int            `json:"records"`
	ByJurisdiction map[string]int `json:"by_jurisdiction,omitempty"`
	ByCategory     map[string]int `json:"by_category,omitempty"`
}

// RegisterContainment is how one affected system was cut off.
type RegisterContainment struct {
	System   string `json:"system"`
	State    string `json:"state"`
	Provider string `json:"provider,omitempty"`
	Manual   bool   `json:"manual,omitempty"`
}

// RegisterNotices says what became of the notices to the people affected.
type RegisterNotices struct {
	State      string `json:"state"`
	Total      int    `json:"total,omitempty"`
	Sent       int    `json:"sent,omitempty"`
	Invalid    int    `json:"invalid,omitempty"`
	Failed     int    `json:"failed,omitempty"`
	Resolution string `json:"resolution,omitempty"`
}

// RegisterDecision is the DPO's risk decision.
type RegisterDecision struct {
	Risk                    string    `json:"risk"`
	NotifyAuthority         bool      `json:"notify_authority"`
	NotifySubjects          bool      `json:"notify_subjects"`
	Reasoning               string    `json:"reasoning"`
	EncryptedUnintelligible bool      `json:"encrypted_unintelligible,omitempty"`
	By                      string    `json:"by"`
	DecidedAt               time.Time `json:"decided_at"`
	// SignedBy and KeyID name the signature that vouched for By.
	SignedBy string `json:"signed_by,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
}

// RegisterObligation is one legal obligation and how it was met.
type RegisterObligation struct {
	ID       string    `json:"id"`
	Regime   string    `json:"regime,omitempty"`
	Basis    string    `json:"basis,omitempty"`
	Audience string    `json:"audience,omitempty"`
	DueAt    time.Time `json:"due_at"`
	// State is pending, filed or failed.
	State     string    `json:"state"`
	Method    string    `json:"method,omitempty"`
	FiledAt   time.Time `json:"filed_at,omitzero"`
	FiledBy   string    `json:"filed_by,omitempty"`
	Reference string    `json:"reference,omitempty"`
	// Late says the obligation was met after its deadline; Reasons are the reasons for the
	// delay the law requires.
	Late        bool                 `json:"late,omitempty"`
	Reasons     string               `json:"reasons,omitempty"`
	ByHand      bool                 `json:"by_hand,omitempty"`
	Supplements []RegisterSupplement `json:"supplements,omitempty"`
	// Paused is the law-enforcement delay its clock stands still for; Pauses the ended ones,
	// which moved DueAt from RulesDueAt, the deadline the rules computed.
	Paused     *ClockPause  `json:"paused,omitempty"`
	Pauses     []ClockPause `json:"pauses,omitempty"`
	RulesDueAt time.Time    `json:"rules_due_at,omitzero"`
}

// RegisterSupplement is a later phase of a filed report (Art. 33(4)).
type RegisterSupplement struct {
	Sequence  int       `json:"sequence"`
	At        time.Time `json:"at"`
	By        string    `json:"by,omitempty"`
	Note      string    `json:"note,omitempty"`
	Reference string    `json:"reference,omitempty"`
}

// RegisterNotRequired is an obligation the law did not require, and why.
type RegisterNotRequired struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// RegisterEvidence is the SHA-256 of one piece of evidence: the dataset the counts came from, a
// submitted report, the containment evidence, the post-incident report.
type RegisterEvidence struct {
	What   string `json:"what"`
	Name   string `json:"name,omitempty"`
	SHA256 string `json:"sha256"`
}

// DeriveStatus is the status the content's facts give.
func (c RegisterContent) DeriveStatus() string {
	switch {
	case !c.CancelledAt.IsZero():
		return RegisterStatusCancelled
	case c.Decision == nil:
		return RegisterStatusOpen
	case len(c.Obligations) == 0:
		return RegisterStatusNotNotified
	}
	for _, o := range c.Obligations {
		if o.State != RegisterObligationFiled {
			return RegisterStatusNotifying
		}
	}
	return RegisterStatusNotified
}

// RegisterContent is what the breach register says of an incident record: the Art. 33(5)
// facts, effects, remedial action, decision and obligations, without anything that changes
// while nothing happens (alert progress, reminders, drafts), so that an unchanged incident
// records no new version. cancelledAt is when the incident was cancelled, or zero. It is pure:
// workflows call it.
func RegisterContentOf(rec IncidentRecord, cancelledAt time.Time) RegisterContent {
	c := RegisterContent{
		IncidentID: rec.IncidentID, Drill: rec.Drill, Title: rec.Title, Description: rec.Description,
		Organisation: rec.Organisation.Name, DeclaredBy: rec.DeclaredBy, Source: rec.Source,
		AwareAt: rec.AwareAt.UTC(), AwareZone: rec.AwareZone, Systems: append([]string{}, rec.Systems...),
		Obligations: []RegisterObligation{}, Rulebook: rec.Rulebook,
		ClosedAt: rec.ClosedAt, ClosedBy: rec.ClosedBy, CloseSummary: rec.CloseSummary, CancelledAt: cancelledAt,
	}
	for _, e := range rec.Timeline {
		if e.Kind == "declared" {
			c.DeclaredAt = e.At.UTC()
			break
		}
	}
	if s := rec.Scope; s != nil {
		c.Scope = &RegisterScope{Subjects: s.Subjects, Records: s.Records,
			ByJurisdiction: maps.Clone(s.ByJurisdiction), ByCategory: maps.Clone(s.ByCategory)}
	}
	if sha := rec.Dataset.SHA256; sha != "" {
		c.Evidence = append(c.Evidence, RegisterEvidence{What: "dataset", Name: rec.Dataset.URI, SHA256: sha})
	}
	for _, s := range rec.Containment {
		c.Containment = append(c.Containment, RegisterContainment{System: s.System, State: s.State, Provider: s.Provider, Manual: s.Manual})
	}
	c.Notices = registerNotices(rec.Alerts)
	if d := rec.Decision; d != nil {
		c.Consequences, c.Measures = d.Consequences, d.Measures
		c.Decision = &RegisterDecision{Risk: d.Risk, NotifyAuthority: d.NotifyAuthority, NotifySubjects: d.NotifySubjects,
			Reasoning: d.Reasoning, EncryptedUnintelligible: d.EncryptedUnintelligible, By: d.By, DecidedAt: d.DecidedAt.UTC()}
		if d.Signature != nil {
			c.Decision.SignedBy, c.Decision.KeyID = d.Signature.Signer, d.Signature.KeyID
		}
	}
	for _, o := range rec.Obligations {
		c.Obligations = append(c.Obligations, registerObligation(o))
	}
	for _, n := range rec.NotRequired {
		c.NotRequired = append(c.NotRequired, RegisterNotRequired{ID: n.ID, Reason: n.Reason})
	}
	for _, d := range rec.Delays {
		d.Only, d.Paused = slices.Clone(d.Only), slices.Clone(d.Paused)
		c.Delays = append(c.Delays, d)
	}
	c.Status = c.DeriveStatus()
	return c
}

func registerNotices(a AlertProgress) *RegisterNotices {
	if a.State == "" {
		return nil
	}
	n := &RegisterNotices{State: a.State, Resolution: a.Resolution}
	if a.State != "sending" {
		// Counts while sending are progress, not a change of the register.
		n.Total, n.Sent, n.Invalid, n.Failed = a.Total, a.Sent, a.Invalid, a.Failed
	}
	return n
}

func registerObligation(o ObligationStatus) RegisterObligation {
	r := RegisterObligation{ID: o.ID, Regime: o.Regime, Basis: o.Basis, Audience: o.Audience, DueAt: o.DueAt.UTC(),
		State: RegisterObligationPending, Method: o.Method, Reasons: o.Reasons}
	switch o.State {
	case OblFiled:
		r.State = RegisterObligationFiled
		r.FiledAt, r.FiledBy, r.Reference, r.Late, r.ByHand = o.SubmittedAt.UTC(), o.SubmittedBy, o.Reference, o.Late, o.ByHand
	case OblFailed:
		r.State = RegisterObligationFailed
	}
	if o.Paused != nil {
		p := *o.Paused
		r.Paused = &p
	}
	r.Pauses = slices.Clone(o.Pauses)
	if !o.RulesDueAt.IsZero() {
		r.RulesDueAt = o.RulesDueAt.UTC()
	}
	for _, s := range o.Supplements {
		r.Supplements = append(r.Supplements, RegisterSupplement{Sequence: s.Sequence, At: s.At.UTC(), By: s.By, Note: s.Note, Reference: s.Reference})
	}
	return r
}
