package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// A law-enforcement delay (incident.DelayRequest): a recorded request from law enforcement
// pauses the clocks of the obligations whose law allows it (rules: law_enforcement_delay; the
// GDPR, NIS2, DORA do not) and restarts them when it is lifted or its period ends, each deadline
// moved by the time its clock stood still (REGULATIONS.md §4: a pause with a start, an end and
// the audiences it covers). The incident keeps the request and tells each clock (a signal); the
// clock keeps its pause, ends it by itself at its end, and moves its deadline. One delay is in
// force at a time: a later request replaces it. While an obligation is paused its report is not
// approved or filed and its notices are held back.

// clockDelay tells a clock that law-enforcement delay Delay pauses it from At until Until (zero:
// until lifted; Limit cites the law that set that end), or, with Lift, that the delay ended at At.
type clockDelay struct {
	Delay int       `json:"delay"`
	At    time.Time `json:"at"`
	Until time.Time `json:"until,omitzero"`
	Limit string    `json:"limit,omitempty"`
	Lift  bool      `json:"lift,omitempty"`
	// Why says, for the timeline, who asked.
	Why string `json:"why,omitempty"`
}

// delayInForce is the index of the delay in force at now, or -1.
func (inc *incidentImpl) delayInForce(now time.Time) int {
	for i := len(inc.rec.Delays) - 1; i >= 0; i-- {
		if inc.rec.Delays[i].InForce(now) {
			return i
		}
	}
	return -1
}

// pauseFor is the pause delay d gives obligation o from now: its end is the request's, or the
// law's limit on it when that comes first. ok is false when that end has already passed.
func pauseFor(o rules.Obligation, d incident.LawEnforcementDelay, now time.Time) (p incident.ClockPause, ok bool) {
	until, limited := o.LawEnforcementDelayLimit.Until(d.RequestedAt, d.Until, d.Oral)
	p = incident.ClockPause{Delay: d.Sequence, From: now, Until: until}
	if limited {
		p.Limit = o.LawEnforcementDelayLimit.Law
	}
	return p, until.IsZero() || until.After(now)
}

// open reports whether an obligation's clock still runs: neither met nor failed.
func open(o incident.ObligationStatus) bool {
	return o.State != incident.OblFiled && o.State != incident.OblFailed
}

// notDelayable says why a law-enforcement delay does not pause o, or "" if it may.
func notDelayable(o incident.ObligationStatus) string {
	switch {
	case !open(o):
		return "it is " + o.State
	case !o.LawEnforcementDelay:
		return "its law (" + o.Regime + ", " + o.Basis + ") has no law-enforcement delay"
	}
	return ""
}

func (inc *incidentImpl) validateDelay(ctx workflow.Context, r incident.DelayRequest) error {
	if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
		return err
	}
	if inc.closeReq != nil || inc.phase == incident.PhaseClosed {
		return fmt.Errorf("incident %s is closing: its notifications are done", inc.decl.IncidentID)
	}
	now := workflow.Now(ctx)
	if r.Lift {
		if inc.delayInForce(now) < 0 {
			return fmt.Errorf("no law-enforcement delay is in force in incident %s: nothing to lift", inc.decl.IncidentID)
		}
		if r.LawEnforcement || r.Agency != "" || !r.Until.IsZero() || len(r.Obligations) > 0 {
			return fmt.Errorf("--lift ends the delay in force; it takes no agency, period or obligations (record a new request to change them)")
		}
		return nil
	}
	switch {
	case !r.LawEnforcement:
		return fmt.Errorf("say what asks for the delay: --law-enforcement (a request from a law-enforcement agency is the only delay the law allows), or --lift")
	case strings.TrimSpace(r.Agency) == "":
		return fmt.Errorf("name the agency that asked for the delay: --agency")
	case strings.TrimSpace(r.Official) == "":
		return fmt.Errorf("name the official who asked (HIPAA 164.412(b) asks for their identity): --by")
	case !r.Until.IsZero() && !r.Until.After(now):
		return fmt.Errorf("--until %s has passed: give the end of the period the agency asked for, or leave it out (until lifted)", r.Until.UTC().Format(time.RFC3339))
	case r.RequestedAt.After(now.Add(incident.SignatureWindow)):
		return fmt.Errorf("--requested-at %s is in the future: give when the agency asked", r.RequestedAt.UTC().Format(time.RFC3339))
	}
	for _, id := range r.Obligations {
		o, ok := inc.obligation(id)
		if !ok {
			return fmt.Errorf("no obligation %q in incident %s", id, inc.decl.IncidentID)
		}
		if why := notDelayable(o); why != "" {
			return fmt.Errorf("%s cannot be delayed: %s", id, why)
		}
	}
	if inc.rec.Decision == nil || len(r.Obligations) > 0 {
		// Before the decision the obligations are not known yet: they start paused.
		return nil
	}
	var why []string
	for _, o := range inc.rec.Obligations {
		if notDelayable(o) == "" {
			return nil
		}
		why = append(why, o.ID+": "+notDelayable(o))
	}
	if len(why) == 0 {
		why = append(why, "no obligation applies")
	}
	return fmt.Errorf("no obligation of incident %s may be delayed by law enforcement (%s); record the request in the incident's timeline some other way if you need it there",
		inc.decl.IncidentID, strings.Join(why, "; "))
}

func (inc *incidentImpl) delay(ctx workflow.Context, r incident.DelayRequest) (string, error) {
	now := workflow.Now(ctx).UTC()
	if r.Lift {
		return inc.liftDelay(ctx, r, now), nil
	}
	d := incident.LawEnforcementDelay{Sequence: len(inc.rec.Delays) + 1, Agency: strings.TrimSpace(r.Agency), Official: strings.TrimSpace(r.Official),
		Reference: strings.TrimSpace(r.Reference), RequestedAt: r.RequestedAt.UTC(), Until: r.Until.UTC(), Oral: r.Oral,
		Only: append([]string(nil), r.Obligations...), Note: r.Note, RecordedBy: r.By, RecordedAt: now}
	if d.RequestedAt.IsZero() || d.RequestedAt.After(now) {
		d.RequestedAt = now
	}
	if r.Until.IsZero() {
		d.Until = time.Time{}
	}
	replaced := ""
	if i := inc.delayInForce(now); i >= 0 {
		inc.rec.Delays[i].ReplacedBy = d.Sequence
		replaced = fmt.Sprintf(" It replaces delay #%d.", inc.rec.Delays[i].Sequence)
	}
	var paused, running []string
	for i := range inc.rec.Obligations {
		o := inc.rec.Obligations[i]
		if why := notDelayable(o); why != "" || !d.Covers(o.ID) {
			if why == "" {
				why = "the request does not name it"
			}
			if open(o) {
				running = append(running, o.ID+" ("+why+")")
			}
			if o.Paused != nil && why != "" {
				// Paused by the delay this one replaces, and not by this one: it restarts.
				inc.signalDelay(ctx, o.ID, clockDelay{Delay: o.Paused.Delay, At: now, Lift: true, Why: fmt.Sprintf("replaced by #%d, which does not cover it", d.Sequence)})
			}
			continue
		}
		p, ok := pauseFor(o.Obligation, d, now)
		if !ok {
			running = append(running, fmt.Sprintf("%s (the law's limit on the delay has passed: %s)", o.ID, p.Limit))
			continue
		}
		if o.Paused != nil {
			p.From = o.Paused.From // a later request keeps the clock still, with its own end
		}
		if err := inc.signalDelay(ctx, o.ID, clockDelay{Delay: d.Sequence, At: now, Until: p.Until, Limit: p.Limit, Why: d.Describe()}); err != nil {
			running = append(running, fmt.Sprintf("%s (its clock could not be told: %v)", o.ID, err))
			continue
		}
		inc.rec.Obligations[i].Paused = &p
		if inc.rec.Obligations[i].RulesDueAt.IsZero() {
			inc.rec.Obligations[i].RulesDueAt = o.DueAt
		}
		paused = append(paused, pauseText(o.ID, p))
		d.Paused = append(d.Paused, o.ID)
	}
	inc.rec.Delays = append(inc.rec.Delays, d)
	text := fmt.Sprintf("Law-enforcement delay #%d recorded by %s: %s.%s", d.Sequence, r.By, d.Request(), replaced)
	switch {
	case len(paused) > 0:
		text += " Paused: " + strings.Join(paused, "; ") + "."
	case inc.rec.Decision == nil:
		text += " No obligation is known yet: those whose law allows the delay start paused."
	}
	if len(running) > 0 {
		text += " Not paused, their clocks run on: " + strings.Join(running, "; ") + "."
	}
	if r.Note != "" {
		text += " Note: " + r.Note
	}
	inc.event(ctx, "law-enforcement-delay", text)
	inc.chat(incident.MsgLawEnforcementDelay, text, true)
	return text, nil
}

// liftDelay ends the delay in force: each paused clock restarts, its deadline moved by the
// time it stood still.
func (inc *incidentImpl) liftDelay(ctx workflow.Context, r incident.DelayRequest, now time.Time) string {
	i := inc.delayInForce(now)
	d := &inc.rec.Delays[i]
	d.LiftedAt, d.LiftedBy, d.LiftNote = now, r.By, r.Note
	var restarted []string
	for _, o := range inc.rec.Obligations {
		if o.Paused == nil || !open(o) {
			continue
		}
		if err := inc.signalDelay(ctx, o.ID, clockDelay{Delay: o.Paused.Delay, At: now, Lift: true, Why: "lifted by " + r.By}); err != nil {
			inc.eventAbout(ctx, "law-enforcement-delay", o.ID, fmt.Sprintf("The %s clock could not be told that the delay was lifted: %v; lift it again", o.ID, err))
			continue
		}
		restarted = append(restarted, fmt.Sprintf("%s (paused %s)", o.ID, span(now.Sub(o.Paused.From))))
	}
	text := fmt.Sprintf("Law-enforcement delay #%d lifted by %s.", d.Sequence, r.By)
	if len(restarted) > 0 {
		text += " Clocks restarting, each deadline moved by the time it stood still: " + strings.Join(restarted, "; ") + "."
	}
	if r.Note != "" {
		text += " Note: " + r.Note
	}
	inc.event(ctx, "law-enforcement-delay-lifted", text)
	inc.chat(incident.MsgLawEnforcementDelay, text, true)
	return text
}

func (inc *incidentImpl) signalDelay(ctx workflow.Context, id string, d clockDelay) error {
	return workflow.SignalExternalWorkflow(ctx, incident.ObligationWorkflowID(inc.decl.IncidentID, id), "", signalLawEnforcementDelay, d).Get(ctx, nil)
}

// span writes a length of time as days, hours and minutes.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %02dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

func pauseText(id string, p incident.ClockPause) string {
	switch {
	case p.Until.IsZero():
		return id + " until lifted"
	case p.Limit != "":
		return fmt.Sprintf("%s until %s (the law's limit: %s)", id, p.Until.UTC().Format(time.RFC3339), p.Limit)
	}
	return id + " until " + p.Until.UTC().Format(time.RFC3339)
}

// startPaused is the pause a new obligation starts with while a delay that covers it is in
// force, or nil.
func (inc *incidentImpl) startPaused(ctx workflow.Context, o rules.Obligation) *incident.ClockPause {
	now := workflow.Now(ctx).UTC()
	i := inc.delayInForce(now)
	if i < 0 || !o.LawEnforcementDelay || !inc.rec.Delays[i].Covers(o.ID) {
		return nil
	}
	d := &inc.rec.Delays[i]
	p, ok := pauseFor(o, *d, now)
	if !ok {
		return nil
	}
	d.Paused = append(d.Paused, o.ID)
	inc.eventAbout(ctx, "law-enforcement-delay", o.ID, fmt.Sprintf("%s starts paused by %s: %s.", o.ID, d.Describe(), pauseText(o.ID, p)))
	return &p
}

// paused says, for a person acting on a paused obligation, why they cannot yet.
func (inc *incidentImpl) paused(o incident.ObligationStatus) error {
	p := o.Paused
	if p == nil {
		return nil
	}
	end := "until the delay is lifted"
	if !p.Until.IsZero() {
		end = "until " + p.Until.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("%s is paused by law-enforcement delay #%d (%s): the law lets its notification wait; lift the delay first (breach delay %s --lift --as <dpo>)",
		o.ID, p.Delay, end, inc.decl.IncidentID)
}

// takePause keeps, from the state a clock reports, what the incident already told it: a pause
// the clock has not yet taken when it reported (it reports the same ended pauses, and no pause).
func takePause(current *incident.ObligationStatus, reported incident.ObligationStatus) incident.ObligationStatus {
	if current.Paused != nil && reported.Paused == nil && len(reported.Pauses) == len(current.Pauses) && open(reported) {
		reported.Paused = current.Paused
		if reported.RulesDueAt.IsZero() {
			reported.RulesDueAt = current.RulesDueAt
		}
	}
	return reported
}
