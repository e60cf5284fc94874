package incident

import (
	"fmt"
	"time"
)

// UpdateDelay records a request from law enforcement to delay notifications (DelayRequest), or
// lifts the delay in force.
const UpdateDelay = "delay"

// DelayRequest records that a law-enforcement agency asked the organisation to delay notifying
// (the notice would impede a criminal investigation or harm national security), or, with Lift,
// that the delay in force ends. The clocks of the obligations whose law allows such a delay
// (rules: law_enforcement_delay) pause; the others, the GDPR's among them, run on.
type DelayRequest struct {
	// By is the person recording the request (a DPO).
	By string `json:"by"`
	// LawEnforcement says the request comes from law enforcement: the only delay recorded.
	LawEnforcement bool `json:"law_enforcement,omitempty"`
	// Agency, Official and Reference say who asked (HIPAA 164.412(b) asks for the identity of
	// the official) and the agency's reference for the request.
	Agency    string `json:"agency,omitempty"`
	Official  string `json:"official,omitempty"`
	Reference string `json:"reference,omitempty"`
	// RequestedAt is when the agency asked; zero: when it is recorded.
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// Until is the end of the period the agency asked for; zero: until it is lifted.
	Until time.Time `json:"until,omitzero"`
	// Oral: the request was made orally (HIPAA: then it delays 30 days at most).
	Oral bool `json:"oral,omitempty"`
	// Obligations limits the request to these obligations; empty: every obligation whose law
	// allows the delay, those of later evaluations included.
	Obligations []string `json:"obligations,omitempty"`
	// Lift ends the delay in force: the paused clocks restart, their deadlines moved by the time
	// paused.
	Lift bool   `json:"lift,omitempty"`
	Note string `json:"note,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// Signed returns who acts, the signature and the request as signed.
func (r DelayRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

// SetSignature attaches the signature that vouches for r.By.
func (r *DelayRequest) SetSignature(s *Signature) { r.Signature = s }

// LawEnforcementDelay is a recorded request from law enforcement to delay notifications. One is
// in force at a time: a later request replaces it (an extension, a narrower request).
type LawEnforcementDelay struct {
	Sequence    int       `json:"sequence"`
	Agency      string    `json:"agency"`
	Official    string    `json:"official,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	Until       time.Time `json:"until,omitzero"`
	Oral        bool      `json:"oral,omitempty"`
	// Only limits it to these obligations; empty: every one whose law allows it.
	Only       []string  `json:"only,omitempty"`
	Note       string    `json:"note,omitempty"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
	// Paused lists the obligations whose clocks it paused.
	Paused []string `json:"paused,omitempty"`
	// LiftedAt and LiftedBy: the delay was lifted; ReplacedBy: a later request replaced it.
	LiftedAt   time.Time `json:"lifted_at,omitzero"`
	LiftedBy   string    `json:"lifted_by,omitempty"`
	LiftNote   string    `json:"lift_note,omitempty"`
	ReplacedBy int       `json:"replaced_by,omitempty"`
}

// InForce reports whether the delay still holds at now: not lifted, not replaced, its period
// not over.
func (d LawEnforcementDelay) InForce(now time.Time) bool {
	return d.LiftedAt.IsZero() && d.ReplacedBy == 0 && (d.Until.IsZero() || now.Before(d.Until))
}

// Covers reports whether the delay is meant for obligation id (its law allowing).
func (d LawEnforcementDelay) Covers(id string) bool {
	if len(d.Only) == 0 {
		return true
	}
	for _, o := range d.Only {
		if o == id {
			return true
		}
	}
	return false
}

// Describe names the delay and says who asked, when, and for how long.
func (d LawEnforcementDelay) Describe() string {
	return fmt.Sprintf("law-enforcement delay #%d: %s", d.Sequence, d.Request())
}

// Request says who asked, when, and for how long.
func (d LawEnforcementDelay) Request() string {
	who := d.Agency
	if d.Official != "" {
		who += " (" + d.Official + ")"
	}
	how := "in writing"
	if d.Oral {
		how = "orally"
	}
	s := fmt.Sprintf("%s asked %s on %s", who, how, d.RequestedAt.UTC().Format(time.RFC3339))
	if d.Reference != "" {
		s += ", reference " + d.Reference
	}
	if d.Until.IsZero() {
		return s + ", until it is lifted"
	}
	return s + ", until " + d.Until.UTC().Format(time.RFC3339)
}

// ClockPause is a time an obligation's clock stood still for a law-enforcement delay.
type ClockPause struct {
	// Delay is the sequence number of the LawEnforcementDelay.
	Delay int       `json:"delay"`
	From  time.Time `json:"from"`
	// Until is when the pause ends by itself (the request's period, or the law's limit on it);
	// zero: when the delay is lifted. To is when it ended.
	Until time.Time `json:"until,omitzero"`
	To    time.Time `json:"to,omitzero"`
	// Limit cites the law that ended the pause before the request's own period did.
	Limit string `json:"limit,omitempty"`
}

// Length is how long the pause lasted (zero while it lasts).
func (p ClockPause) Length() time.Duration {
	if p.To.IsZero() {
		return 0
	}
	return p.To.Sub(p.From)
}
