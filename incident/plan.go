package incident

import (
	"fmt"
	"time"
)

// Message names.
const (
	QueryStatus           = "status"
	UpdateDecide          = "decide"
	UpdateApprove         = "approve"
	UpdateFile            = "file"
	UpdateClose           = "close"
	UpdateReplaceSubjects = "replace-subjects"
	UpdateAmend           = "amend"
	UpdateSupplement      = "supplement"
	UpdateRelease         = "release"
	UpdateResolve         = "resolve"
	UpdateRetry           = "retry"

	// SignalDrillInject delivers a drill's inject (DrillInject) into a drill incident's timeline
	// and chat.
	SignalDrillInject = "drill-inject"
)

// Roles a person can hold in an incident.
const (
	RoleDPO       = "dpo"
	RoleCommander = "commander"
)

// Phases of the plan, in order.
const (
	PhaseOpen    = "open"
	PhaseContain = "contain"
	PhaseAssess  = "assess"
	PhaseDecide  = "decide"
	PhaseNotify  = "notify"
	PhaseClose   = "close"
	PhaseClosed  = "closed"
)

// IncidentWorkflowID is the workflow ID of an incident.
func IncidentWorkflowID(incidentID string) string { return "incident/" + incidentID }

// ContainmentChildID is the workflow ID of the containment of the n-th affected system (from 1).
// Workflow IDs are not encrypted in Temporal, so they name no system.
func ContainmentChildID(incidentID string, n int) string {
	return fmt.Sprintf("incident/%s/contain/%d", incidentID, n)
}

// ContainmentWorkflowID is the workflow ID of the containment of one system in incidents started
// before changeContainmentIDs.
func ContainmentWorkflowID(incidentID, system string) string {
	return "incident/" + incidentID + "/contain/" + system
}

// ObligationWorkflowID is the workflow ID of the clock of one legal obligation.
func ObligationWorkflowID(incidentID, obligationID string) string {
	return "incident/" + incidentID + "/obligation/" + obligationID
}

// AlertsWorkflowID is the workflow ID of the customer alerts of an incident.
func AlertsWorkflowID(incidentID string) string { return "incident/" + incidentID + "/alerts" }

// Roles names the identities allowed to act in each role. It is fixed when the incident is
// declared, so that validation is deterministic.
type Roles struct {
	DPO       []string `json:"dpo"`
	Commander []string `json:"commander"`
}

// Has reports whether identity holds role.
func (r Roles) Has(role, identity string) bool {
	list := r.DPO
	if role == RoleCommander {
		list = r.Commander
	}
	for _, id := range list {
		if id == identity && id != "" {
			return true
		}
	}
	return false
}

// Route says how an obligation's report reaches its audience.
type Route struct {
	Obligation string `json:"obligation"`
	// Method is "email" (sent to Address) or "portal" (filed by a person, confirmed with the
	// authority's reference number).
	Method  string `json:"method"`
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
	// Authority is the directory code of the authority the report goes to, where the obligation
	// names one; Portal and Channel say where and how a person files it (the directory's words,
	// or the configuration's).
	Authority string `json:"authority,omitempty"`
	Portal    string `json:"portal,omitempty"`
	Channel   string `json:"channel,omitempty"`
}

// AuthorityContact is the configuration's word on how to reach one authority of the directory
// (breach.yaml authorities:), fixed when the incident is declared: only the fields it gives
// change the directory's. An Email is an address agreed with the authority: reports to it are
// sent by email.
type AuthorityContact struct {
	Code    string `json:"code"`
	Name    string `json:"name,omitempty"`
	Channel string `json:"channel,omitempty"`
	Portal  string `json:"portal,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// Declaration starts an incident.
type Declaration struct {
	IncidentID  string   `json:"incident_id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Systems     []string `json:"systems"`
	// AwareAt is when the organisation became aware (UTC); AwareZone keeps the source zone.
	AwareAt    time.Time `json:"aware_at"`
	AwareZone  string    `json:"aware_zone,omitempty"`
	DeclaredBy string    `json:"declared_by"`
	// Source is slack, cli or drill.
	Source   string     `json:"source"`
	Drill    bool       `json:"drill,omitempty"`
	Subjects DatasetRef `json:"subjects"`
	Key      string     `json:"key,omitempty"`

	Roles        Roles        `json:"roles"`
	Organisation Organisation `json:"organisation"`
	Routes       []Route      `json:"routes,omitempty"`
	// Languages are the languages of reports and notices (nil: English, as incidents declared
	// before languages were chosen).
	Languages *Languages `json:"languages,omitempty"`
	// ReleaseOnClose lifts every isolation when the incident closes (config
	// containment.release_on_close); otherwise systems stay isolated after the close.
	ReleaseOnClose bool `json:"release_on_close,omitempty"`
	// TimeScale, in a drill, runs the legal clocks this many times faster (above 1).
	TimeScale float64 `json:"time_scale,omitempty"`
	// Scenario names the drill scenario the incident rehearses.
	Scenario string `json:"scenario,omitempty"`
	// Keys are the public keys that vouch for the actors' decisions. Incidents declared before
	// signatures have none, and take their decisions unsigned.
	Keys Keys `json:"keys,omitzero"`
	// Reminders is how reminders of a manual isolation back off (zero: the defaults).
	Reminders ReminderPolicy `json:"reminders,omitzero"`
	// Budget is the history length at which the incident and its children continue as new
	// (0: DefaultEventBudget).
	Budget int `json:"budget,omitempty"`
	// Authorities are the configuration's changes to the authority directory's channels.
	Authorities []AuthorityContact `json:"authorities,omitempty"`
}

// ApproveRequest approves a step: "report:<obligation-id>" (the regulator report) or
// "isolation:<system>" (a manual isolation is in force).
type ApproveRequest struct {
	By   string `json:"by"`
	Step string `json:"step"`
	// Reasons for the delay; required when the approval submits a report after its deadline.
	Reasons string `json:"reasons,omitempty"`
	Note    string `json:"note,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// FileRequest confirms a filing made by a person on an authority's portal.
type FileRequest struct {
	By         string `json:"by"`
	Obligation string `json:"obligation"`
	Reference  string `json:"reference"`
	Reasons    string `json:"reasons,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// CloseRequest closes the incident.
type CloseRequest struct {
	By      string `json:"by"`
	Summary string `json:"summary,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// ReplaceSubjectsRequest points the scope phase at a corrected dataset.
type ReplaceSubjectsRequest struct {
	By       string     `json:"by"`
	Subjects DatasetRef `json:"subjects"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// PendingStep is something a person must do.
type PendingStep struct {
	Step        string    `json:"step"`
	Role        string    `json:"role"`
	Description string    `json:"description"`
	Since       time.Time `json:"since"`
	DueAt       time.Time `json:"due_at,omitzero"`
}

// Status answers the status query: the incident record so far, its phase, and what people
// must do next.
type Status struct {
	IncidentRecord
	Phase   string        `json:"phase"`
	Pending []PendingStep `json:"pending"`
	// Roles are who holds each role in this incident, as declared: the Slack ingress shows the
	// incident outside its room only to them.
	Roles Roles `json:"roles"`
	// History tells how long the incident's workflow runs grew (resumable incidents).
	History *History `json:"history,omitempty"`
}

// Result is what a closed incident returns.
type Result struct {
	IncidentID string      `json:"incident_id"`
	Records    CloseOutput `json:"records"`
}

// Alert states.
const (
	AlertsNotRequired = "not-required"
	AlertsSending     = "sending"
	AlertsDone        = "done"
	// AlertsFailed is a run that stopped: retry it (it resumes where the ledger stands) or
	// record that the people were told by other means.
	AlertsFailed = "failed"
	// AlertsResolved is alerts completed outside breach, recorded with the reason.
	AlertsResolved = "resolved"
)

// AmendRequest changes the facts after the decision: a corrected or larger dataset, a NIS2
// significance finding, an SEC materiality determination. The rules run again; obligations
// already running are kept.
type AmendRequest struct {
	By                      string      `json:"by"`
	Subjects                *DatasetRef `json:"subjects,omitempty"`
	SignificantIncident     *bool       `json:"significant_incident,omitempty"`
	MaterialityDeterminedAt *time.Time  `json:"materiality_determined_at,omitempty"`
	Note                    string      `json:"note,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// SupplementRequest submits more information for a filed report (GDPR Art. 33(4) phases).
type SupplementRequest struct {
	By         string `json:"by"`
	Obligation string `json:"obligation"`
	Note       string `json:"note"`
	// Reference is the authority's reference for a portal submission.
	Reference string `json:"reference,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// ResolveRequest records what people finished by hand where breach could not: a report filed
// by hand for an obligation whose clock failed, or customers told by other means when the
// alerts could not be sent.
type ResolveRequest struct {
	By string `json:"by"`
	// Obligation names a failed clock, FiledByHand says its report was filed by hand, with the
	// authority's Reference (and the Reasons for the delay when its deadline has passed).
	Obligation  string `json:"obligation,omitempty"`
	FiledByHand bool   `json:"filed_by_hand,omitempty"`
	Reference   string `json:"reference,omitempty"`
	Reasons     string `json:"reasons,omitempty"`
	// Alerts with ByOtherMeans closes a failed alerts phase; Note says how people were told.
	Alerts       bool   `json:"alerts,omitempty"`
	ByOtherMeans bool   `json:"by_other_means,omitempty"`
	Note         string `json:"note,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// RetryRequest starts a failed part again: the customer alerts resume where the notification
// ledger stands, so nobody notified is notified twice.
type RetryRequest struct {
	By     string `json:"by"`
	Alerts bool   `json:"alerts"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// Signed and SetSignature, for every Update's request.
func (r ResolveRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

// SetSignature attaches the signature that vouches for r.By.
func (r *ResolveRequest) SetSignature(s *Signature) { r.Signature = s }

// Signed returns who acts, the signature and the request as signed.
func (r RetryRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

// SetSignature attaches the signature that vouches for r.By.
func (r *RetryRequest) SetSignature(s *Signature) { r.Signature = s }

// ReleaseRequest lifts the isolation of one system: the compensation of its containment.
type ReleaseRequest struct {
	By     string `json:"by"`
	System string `json:"system"`
	Reason string `json:"reason,omitempty"`
	// Manual confirms that a system isolated by hand has been released by hand; breach cannot
	// lift such an isolation itself.
	Manual bool `json:"manual,omitempty"`
	// Signature vouches for By.
	Signature *Signature `json:"signature,omitempty"`
}

// Signed and SetSignature let the incident check who signed each request (signedRequest).

func (r ApproveRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r FileRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r CloseRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r ReplaceSubjectsRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r AmendRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r SupplementRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

func (r ReleaseRequest) Signed() (string, *Signature, any) {
	u := r
	u.Signature = nil
	return r.By, r.Signature, u
}

// SetSignature attaches the signature that vouches for r.By.
func (r *ApproveRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *FileRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *CloseRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *ReplaceSubjectsRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *AmendRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *SupplementRequest) SetSignature(s *Signature) { r.Signature = s }

// SetSignature attaches the signature that vouches for r.By.
func (r *ReleaseRequest) SetSignature(s *Signature) { r.Signature = s }
