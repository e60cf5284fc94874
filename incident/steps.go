package incident

import "strings"

// Steps a person takes in an incident. Each pending step names one; a step that concerns an
// obligation or a system is the prefix and its id.
const (
	StepDecide          = "decide"
	StepClose           = "close"
	StepReplaceSubjects = "replace-subjects"
	// StepReport + obligation id: approve the report of an obligation.
	StepReport = "report:"
	// StepFile + obligation id: confirm a filing made on an authority's portal.
	StepFile = "file:"
	// StepIsolation + system: confirm that a system was isolated by hand.
	StepIsolation = "isolation:"
)

// ReportStep, FileStep and IsolationStep name the steps of one obligation or system.
func ReportStep(obligation string) string { return StepReport + obligation }

// FileStep names the portal filing of an obligation.
func FileStep(obligation string) string { return StepFile + obligation }

// IsolationStep names the manual isolation of a system.
func IsolationStep(system string) string { return StepIsolation + system }

// StepSubject splits a step into its kind (its prefix, or the whole step) and what it concerns.
func StepSubject(step string) (kind, subject string) {
	for _, p := range []string{StepReport, StepFile, StepIsolation} {
		if rest, ok := strings.CutPrefix(step, p); ok {
			return p, rest
		}
	}
	return step, ""
}

// Kinds of room messages. The chat adapters render each from its fields; none reads the text to
// find out what a message asks for.
const (
	MsgCard             = "card"
	MsgDecisionNeeded   = "decision-needed"
	MsgDecision         = "decision"
	MsgApprovalNeeded   = "approval-needed"
	MsgFilingNeeded     = "filing-needed"
	MsgFiled            = "filed"
	MsgManualIsolation  = "manual-isolation"
	MsgManualReminder   = "manual-isolation-reminder"
	MsgEscalation       = "escalation"
	MsgScope            = "scope"
	MsgScopeFailed      = "scope-failed"
	MsgObligations      = "obligations"
	MsgObligationsAdded = "obligations-added"
	MsgObligationFailed = "obligation-failed"
	MsgAlertsFailed     = "alerts-failed"
	// MsgLawEnforcementDelay: a law-enforcement delay was recorded or lifted, or a clock it
	// paused restarted.
	MsgLawEnforcementDelay = "law-enforcement-delay"
	MsgReadyToClose        = "ready-to-close"
	MsgClosed              = "closed"
)

// Recovery steps: what breach could not finish, for a person to finish and record.
const (
	// StepResolve + obligation id: a clock that failed; file by hand and record it.
	StepResolve = "resolve:"
	// StepRetryAlerts: customer alerts that stopped; retry them, or record how people were told.
	StepRetryAlerts = "retry-alerts"
)

// ResolveStep names the recovery of a failed obligation clock.
func ResolveStep(obligation string) string { return StepResolve + obligation }
