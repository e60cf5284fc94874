package incident

import (
	"time"

	"github.com/breachops/breach/internal/rules"
)

// Error types of the scope phase that a retry cannot fix: the dataset must be corrected.
const (
	ErrTypeSubjectsMissingColumn = "SubjectsMissingColumn"
	ErrTypeSubjectsUnreadable    = "SubjectsUnreadable"
	ErrTypeSubjectsChanged       = "SubjectsChanged"
)

// Error types of a SQL subject source: its query or configuration must change
// (ErrTypeSubjectsSource), or trying again may do (ErrTypeSubjectsSourceUnavailable: a
// statement timeout, a connection lost or refused).
const (
	ErrTypeSubjectsSource            = "SubjectsSource"
	ErrTypeSubjectsSourceUnavailable = "SubjectsSourceUnavailable"
)

// SnapshotInput asks for the rows of a SQL subject source (Dataset.Query) to be snapshotted
// into the dataset store.
type SnapshotInput struct {
	IncidentID string     `json:"incident_id"`
	Dataset    DatasetRef `json:"dataset"`
}

// SnapshotResult is the snapshot: a dataset of the store, pinned to its content, with its row
// count.
type SnapshotResult struct {
	Dataset DatasetRef `json:"dataset"`
	Rows    int64      `json:"rows"`
	Bytes   int64      `json:"bytes"`
}

// ScopeInput names the dataset of one incident.
type ScopeInput struct {
	IncidentID string     `json:"incident_id"`
	Dataset    DatasetRef `json:"dataset"`
}

// ScopeResult is the scope in counts, and the dataset reference pinned to its content.
type ScopeResult struct {
	Summary ScopeSummary `json:"summary"`
	Dataset DatasetRef   `json:"dataset"`
}

// ContainInput names one system of one incident.
type ContainInput struct {
	IncidentID string `json:"incident_id"`
	System     string `json:"system"`
	Drill      bool   `json:"drill,omitempty"`
}

// ErrTypeFirewallPermanent is the application error type of firewall errors that retries cannot
// fix; the containment workflow turns them into a human task at once.
const ErrTypeFirewallPermanent = "FirewallPermanent"

// ErrTypeInvalidFacts is facts the rules cannot evaluate: retrying does not change them.
const ErrTypeInvalidFacts = "InvalidFacts"

// ReportInput is everything a regulator report is drafted from: facts, counts and decisions,
// never a subject's personal data.
type ReportInput struct {
	IncidentID   string           `json:"incident_id"`
	Title        string           `json:"title"`
	Description  string           `json:"description,omitempty"`
	Drill        bool             `json:"drill,omitempty"`
	Obligation   rules.Obligation `json:"obligation"`
	Organisation Organisation     `json:"organisation"`
	AwareAt      time.Time        `json:"aware_at"`
	AwareZone    string           `json:"aware_zone,omitempty"`
	DeclaredBy   string           `json:"declared_by"`
	Systems      []string         `json:"systems"`
	Containment  []SystemStatus   `json:"containment"`
	Scope        ScopeSummary     `json:"scope"`
	Decision     Decision         `json:"decision"`
	// NotifySubjects and SubjectsReason say whether and why (not) subjects are told.
	NotifySubjects bool   `json:"notify_subjects"`
	SubjectsReason string `json:"subjects_reason,omitempty"`
	// RecipientName and RecipientAddress name the authority.
	RecipientName    string `json:"recipient_name,omitempty"`
	RecipientAddress string `json:"recipient_address,omitempty"`
	// Set when submitting.
	LateReasons string    `json:"late_reasons,omitempty"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	// Delays are the law-enforcement delays recorded by then (the request, not the people).
	Delays []LawEnforcementDelay `json:"law_enforcement_delays,omitempty"`
	// Sequence numbers supplementary submissions; 0 is the initial one. Supplement says what
	// the supplementary submission adds.
	Sequence   int    `json:"sequence,omitempty"`
	Supplement string `json:"supplement,omitempty"`
	// Languages are the incident's language choices (nil: the report is in English); Language
	// is the language the report was drafted in, so that what is submitted is what was
	// approved. Empty: chosen when drafting.
	Languages *Languages `json:"languages,omitempty"`
	Language  string     `json:"language,omitempty"`
}

// Draft is a drafted report.
type Draft struct {
	Path    string `json:"path"`
	Subject string `json:"subject"`
	// Language is the language the report is written in, Wanted the one chosen for its reader
	// when it differs (a template with no translation in it: the report is in English), and
	// LanguageNote says so for the timeline ("in German (DE-BE takes German)"). Drafts made
	// before languages were chosen have none.
	Language     string `json:"language,omitempty"`
	Wanted       string `json:"wanted,omitempty"`
	LanguageNote string `json:"language_note,omitempty"`
}

// Submission is a submitted report.
type Submission struct {
	Path      string    `json:"path"`
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// RegisterInput is an incident's register entry as the incident has it now.
type RegisterInput struct {
	Content RegisterContent `json:"content"`
}

// ErrTypeRegisterInput is a register entry the register refuses as it is.
const ErrTypeRegisterInput = "RegisterInput"

// ErrTypeBadPath is an activity input that would name a file outside BREACH_HOME: an incident
// ID that is not one, a name with a path in it.
const ErrTypeBadPath = "BadPath"
