package incident

import (
	"time"

	"github.com/breachops/breach/internal/rules"
)

// IncidentRecord is everything known about an incident, without personal data of a subject: what
// the status query shows and what closing writes to the breach register.
type IncidentRecord struct {
	IncidentID   string              `json:"incident_id"`
	Title        string              `json:"title"`
	Description  string              `json:"description,omitempty"`
	Drill        bool                `json:"drill,omitempty"`
	Source       string              `json:"source"`
	DeclaredBy   string              `json:"declared_by"`
	AwareAt      time.Time           `json:"aware_at"`
	AwareZone    string              `json:"aware_zone,omitempty"`
	Organisation Organisation        `json:"organisation"`
	Systems      []string            `json:"systems"`
	Containment  []SystemStatus      `json:"containment"`
	Dataset      DatasetRef          `json:"dataset"`
	Scope        *ScopeSummary       `json:"scope,omitempty"`
	ScopeError   string              `json:"scope_error,omitempty"`
	Decision     *Decision           `json:"decision,omitempty"`
	Obligations  []ObligationStatus  `json:"obligations"`
	NotRequired  []rules.NotRequired `json:"not_required,omitempty"`
	// Delays are the requests from law enforcement to delay notifications, in order.
	Delays []LawEnforcementDelay `json:"law_enforcement_delays,omitempty"`
	// Rulebook names the rules that computed the obligations (rules.Version).
	Rulebook     string        `json:"rulebook,omitempty"`
	Alerts       AlertProgress `json:"alerts"`
	Timeline     []Event       `json:"timeline"`
	ClosedAt     time.Time     `json:"closed_at,omitzero"`
	ClosedBy     string        `json:"closed_by,omitempty"`
	CloseSummary string        `json:"close_summary,omitempty"`
	Records      *CloseOutput  `json:"records,omitempty"`

	// Room is the id of the incident's chat room (the Slack channel) as opening it returned:
	// `/breach status` answers there to anyone, because only the invited can type in it.
	Room string `json:"room,omitempty"`
}

// Decision is the DPO's risk decision.
type Decision struct {
	By              string `json:"by"`
	Risk            string `json:"risk"` // unlikely | risk | high
	NotifyAuthority bool   `json:"notify_authority"`
	NotifySubjects  bool   `json:"notify_subjects"`
	Reasoning       string `json:"reasoning"`
	// Consequences and Measures feed Art. 33(3)(c) and (d) and the customer notice.
	Consequences string `json:"consequences,omitempty"`
	Measures     string `json:"measures,omitempty"`
	// Advice tells affected people what they can do themselves (Art. 34 notice).
	Advice                  string `json:"advice,omitempty"`
	EncryptedUnintelligible bool   `json:"encrypted_unintelligible,omitempty"`
	// SignificantIncident (NIS2) and MaterialityDeterminedAt (SEC) are facts the rules need.
	SignificantIncident     bool       `json:"significant_incident,omitempty"`
	MaterialityDeterminedAt *time.Time `json:"materiality_determined_at,omitempty"`
	DecidedAt               time.Time  `json:"decided_at"`
	// Signature vouches for By (see Keys).
	Signature *Signature `json:"signature,omitempty"`
}

// SetSignature attaches the signature that vouches for d.By.
func (d *Decision) SetSignature(s *Signature) { d.Signature = s }

// Signed returns who decided, the signature vouching for them, and the decision as signed.
func (d Decision) Signed() (string, *Signature, any) {
	u := d
	u.Signature = nil
	return d.By, d.Signature, u
}

// Event is one line of the incident timeline. It never holds personal data of a subject.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
	// About names what the event concerns, for tools that read the timeline: a system for
	// containment events, an obligation id for report events.
	About string `json:"about,omitempty"`
	// Signature is the signed request the event records a decision of, as evidence of who
	// decided: the signer, the key, the time and the signature itself.
	Signature *Signature `json:"signature,omitempty"`
}

// SystemStatus is the containment state of one system.
type SystemStatus struct {
	System   string    `json:"system"`
	State    string    `json:"state"` // isolating | contained | manual-required | released | failed
	Provider string    `json:"provider,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Updated  time.Time `json:"updated"`
	Manual   bool      `json:"manual,omitempty"`
	// Reminders counts the reminders of a manual isolation not yet confirmed, LastReminder the
	// latest: the card shows them on one line.
	Reminders    int       `json:"reminders,omitempty"`
	LastReminder time.Time `json:"last_reminder,omitzero"`
	// History tells how long the containment's workflow runs grew (resumable containments).
	History *History `json:"history,omitempty"`
}

// Containment states.
const (
	ContainIsolating = "isolating"
	ContainContained = "contained"
	ContainManual    = "manual-required"
	ContainReleased  = "released"
	// ContainFailed is a containment that ended with an error.
	ContainFailed = "failed"
)

// ObligationStatus is the state of one legal obligation's clock.
type ObligationStatus struct {
	rules.Obligation
	State       string    `json:"state"` // drafting | awaiting-approval | submitting | awaiting-filing | awaiting-notices | filed
	Method      string    `json:"method,omitempty"`
	Draft       string    `json:"draft,omitempty"`
	Report      string    `json:"report,omitempty"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	SubmittedBy string    `json:"submitted_by,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	Late        bool      `json:"late,omitempty"`
	Reasons     string    `json:"reasons,omitempty"`
	Escalations []string  `json:"escalations,omitempty"`
	// History tells how long the clock's workflow runs grew (resumable clocks).
	History *History `json:"history,omitempty"`
	// Paused is the law-enforcement delay the clock stands still for now; Pauses are the ended
	// ones. Each ended pause moved DueAt (and StatutoryLimit) by its length; RulesDueAt is the
	// deadline the rules computed, before the first pause.
	Paused     *ClockPause  `json:"paused,omitempty"`
	Pauses     []ClockPause `json:"pauses,omitempty"`
	RulesDueAt time.Time    `json:"rules_due_at,omitzero"`
	// Failure is why the obligation's clock failed (state failed), until it is resolved.
	Failure string `json:"failure,omitempty"`
	// ByHand says the obligation was met outside breach and recorded with breach resolve.
	ByHand bool `json:"by_hand,omitempty"`
	// Supplements are the later phases of a filed report (GDPR Art. 33(4)), each kept.
	Supplements []Supplement `json:"supplements,omitempty"`
	// Language is the language the report is written in (drafted in, submitted in, and its
	// supplements too); empty for reports drafted before languages were chosen (English).
	Language string `json:"language,omitempty"`
}

// Supplement is one supplementary submission of a filed report.
type Supplement struct {
	Sequence  int       `json:"sequence"`
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	Note      string    `json:"note"`
	Report    string    `json:"report"`
	Reference string    `json:"reference,omitempty"`
}

// Obligation states.
const (
	OblDrafting         = "drafting"
	OblAwaitingApproval = "awaiting-approval"
	OblSubmitting       = "submitting"
	OblAwaitingFiling   = "awaiting-filing"
	OblAwaitingNotices  = "awaiting-notices"
	OblFiled            = "filed"
	// OblFailed is a clock that failed: someone must file by hand and record it (resolve).
	OblFailed = "failed"
)

// AlertProgress is the progress of customer alerts.
type AlertProgress struct {
	State      string `json:"state"` // not-required | sending | done | failed | resolved
	Total      int    `json:"total"`
	Sent       int    `json:"sent"`
	Invalid    int    `json:"invalid"`
	Duplicates int    `json:"duplicates"`
	Skipped    int    `json:"skipped"`
	// Failed counts people whose notice SendGrid refused (a 400 for their address alone).
	Failed int `json:"failed"`
	// Ambiguous counts batches whose request had an unknown outcome (a lost connection, a
	// worker stopped mid-request), reconciled through Email Activity or sent again.
	Ambiguous int `json:"ambiguous"`
	// PossiblyDuplicated counts people sent again after an unknown outcome without Email
	// Activity to check: they may have two notices. PossiblyDuplicatedList names the file
	// listing them (subject keys and dataset rows, no personal data).
	PossiblyDuplicated     int       `json:"possibly_duplicated"`
	PossiblyDuplicatedList string    `json:"possibly_duplicated_list,omitempty"`
	Rows                   int       `json:"rows"`
	StartedAt              time.Time `json:"started_at,omitzero"`
	UpdatedAt              time.Time `json:"updated_at,omitzero"`
	// Error is why a failed run stopped (state failed).
	Error string `json:"error,omitempty"`
	// Run numbers the alerts run the progress is of (from 1).
	Run int `json:"run,omitempty"`
	// Resolution records alerts completed outside breach (state resolved): by whom, when, how.
	Resolution string `json:"resolution,omitempty"`
	// Languages counts the notices by the language they are written in; Fallbacks the people
	// who got theirs in English for want of a translation, by "template:language".
	Languages map[string]int `json:"languages,omitempty"`
	Fallbacks map[string]int `json:"fallbacks,omitempty"`
}

// History tells how long a workflow's runs grew: the runs it took (continue-as-new starts a new
// one), the longest run so far in events, and the current run's length.
type History struct {
	Runs    int `json:"runs"`
	Longest int `json:"longest"`
	Current int `json:"current"`
}

// DatasetRef names the affected-subjects dataset. The workflow holds only this reference and
// counts, never the rows.
type DatasetRef struct {
	// URI names a dataset of the store: dataset:<name>. (Incidents declared before the store
	// carry a path; the worker no longer opens those.)
	URI string `json:"uri"`
	// SHA256 pins the content once the scope phase has read it.
	SHA256 string `json:"sha256,omitempty"`
	// Query is set for a SQL subject source of the configuration (URI sql:<name>): the scope
	// phase runs it and snapshots its rows into the dataset store, and the incident goes on
	// with the snapshot's reference, whatever the database holds later.
	Query *SubjectsQuery `json:"query,omitempty"`
	// Source names where a snapshot's rows came from (sql:<name>); empty for a file.
	Source string `json:"source,omitempty"`
}

// SQLScheme prefixes the reference of a SQL subject source: sql:<name>.
const SQLScheme = "sql:"

// SubjectsQuery is a SQL subject source of the configuration, and the incident's time window
// its query's parameters take.
type SubjectsQuery struct {
	Source     string     `json:"source"`
	WindowFrom *time.Time `json:"window_from,omitempty"`
	WindowTo   *time.Time `json:"window_to,omitempty"`
}

// SQLRef is the reference of a SQL subject source, its query bound to the window.
func SQLRef(source string, from, to *time.Time) DatasetRef {
	return DatasetRef{URI: SQLScheme + source, Query: &SubjectsQuery{Source: source, WindowFrom: from, WindowTo: to}}
}

// IsQuery reports whether the reference is a SQL source still to be snapshotted.
func (r DatasetRef) IsQuery() bool { return r.Query != nil }

// Organisation describes the controller, for reports and notices.
type Organisation struct {
	Name           string   `json:"name"`
	Timezone       string   `json:"timezone"`
	Role           string   `json:"role"`
	Establishments []string `json:"establishments,omitempty"`
	// EstablishmentRegions, MainEstablishment and PublicTask let the rules determine the
	// competent GDPR authority (AUTHORITIES.md): the regions of the establishments (DE-BE),
	// where decisions on the processing are taken, a public body. Incidents declared before
	// they were carried have none, and keep the one obligation gdpr-art33-authority.
	EstablishmentRegions []string `json:"establishment_regions,omitempty"`
	MainEstablishment    string   `json:"main_establishment,omitempty"`
	PublicTask           bool     `json:"public_task,omitempty"`
	Sectors              []string `json:"sectors,omitempty"`
	// DPOContact is the Art. 33(3)(b) contact point.
	DPOContact string `json:"dpo_contact"`
	// MailFrom is the sender of reports and notices.
	MailFrom string `json:"mail_from"`
	// SubjectContact is where affected people can ask questions.
	SubjectContact string `json:"subject_contact,omitempty"`
}

// CloseOutput says where the closing records were written.
type CloseOutput struct {
	// Register is the breach-register entry (Art. 33(5)), written for every breach.
	Register string `json:"register"`
	// Report is the post-incident report.
	Report string `json:"report"`
	// Timeline is the incident timeline.
	Timeline string `json:"timeline"`
	// Evidence is the containment evidence.
	Evidence string `json:"evidence"`
	// RegisterVersion and RegisterSHA256 name the closed incident's version in the breach
	// register (internal/register), when the worker keeps one.
	RegisterVersion int    `json:"register_version,omitempty"`
	RegisterSHA256  string `json:"register_sha256,omitempty"`
}
