// Package drill is the domain of tabletop drills: what the auto-pilot is asked and answers, the
// scored report, and the scoring itself. Pure: no Temporal, no I/O.
package drill

import (
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/scenario"
)

// IncidentRef names an incident workflow.
type IncidentRef struct {
	IncidentID string `json:"incident_id"`
	WorkflowID string `json:"workflow_id"`
}

// AutoPilotInput tells the auto-pilot whom to play and how slowly.
type AutoPilotInput struct {
	IncidentRef
	// TimeScale divides the scenario's response delays.
	TimeScale float64 `json:"time_scale"`
	DPO       string  `json:"dpo"`
	Commander string  `json:"commander"`
	// Roles and Responses are the scenario's response delays (drill time).
	Roles     scenario.Roles       `json:"roles"`
	Responses []scenario.StepDelay `json:"responses,omitempty"`
	Decision  incident.Decision    `json:"decision"`
	// Until is when the drill ends: the auto-pilot stops then, or when the incident closes.
	Until time.Time `json:"until"`
}

// AutoPilotAnswer is one step the auto-pilot answered, or tried to.
type AutoPilotAnswer struct {
	Step string    `json:"step"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	// Offset is At in drill time since the start; the drill fills it in.
	Offset scenario.Duration `json:"offset"`
	Result string            `json:"result,omitempty"`
	Error  string            `json:"error,omitempty"`
}

// AutoPilotResult lists what the auto-pilot did.
type AutoPilotResult struct {
	Answers []AutoPilotAnswer `json:"answers"`
	// Tries counts rejected attempts per step; after MaxAutoPilotTries the step is left to people.
	Tries map[string]int `json:"tries,omitempty"`
}

// MaxAutoPilotTries is how often the auto-pilot tries a step the incident refuses before it leaves
// the step to people.
const MaxAutoPilotTries = 5

// Answered says whether step was answered, or tried too often to try again.
func (r *AutoPilotResult) Answered(step string) bool {
	for _, a := range r.Answers {
		if a.Step == step && a.Error == "" {
			return true
		}
	}
	return r.Tries[step] >= MaxAutoPilotTries
}

// Drill outcomes.
const (
	DrillClosed = "closed"  // the incident closed within the drill's duration
	DrillTimeUp = "time-up" // the drill's duration ran out first
)

// Target results.
const (
	TargetMet    = "met"
	TargetMissed = "missed"
	// TargetOpen is a step not done when the drill ended, before its target had passed.
	TargetOpen = "open"
	// TargetNotApplicable is a step this run of the plan did not have (no report was required).
	TargetNotApplicable = "n/a"
)

// DrillReport is a scored drill: what the Markdown report, the JSON result and `breach drill
// history` show. Durations are drill time (wall time multiplied by the time scale).
type DrillReport struct {
	DrillID     string            `json:"drill_id"`
	IncidentID  string            `json:"incident_id"`
	Scenario    string            `json:"scenario"`
	Title       string            `json:"title"`
	ScheduleID  string            `json:"schedule_id,omitempty"`
	TimeScale   float64           `json:"time_scale"`
	AutoApprove bool              `json:"auto_approve"`
	StartedAt   time.Time         `json:"started_at"`
	EndedAt     time.Time         `json:"ended_at"`
	Elapsed     scenario.Duration `json:"elapsed"`
	Duration    scenario.Duration `json:"duration"`
	Outcome     string            `json:"outcome"`
	Phase       string            `json:"phase"`
	Targets     []TargetResult    `json:"targets"`
	Injects     []InjectResult    `json:"injects"`
	Answers     []AutoPilotAnswer `json:"answers,omitempty"`
	Met         int               `json:"met"`
	Missed      int               `json:"missed"`
	Open        int               `json:"open"`
	// Score is the percentage of scored targets (met or missed) that were met.
	Score int      `json:"score"`
	Notes []string `json:"notes,omitempty"`
	// Markdown and JSON are where the report was written.
	Markdown string `json:"markdown,omitempty"`
	JSON     string `json:"json,omitempty"`
}

// TargetResult is one target, met or missed, with the actual duration.
type TargetResult struct {
	Step   string            `json:"step"`
	Human  bool              `json:"human"`
	Role   string            `json:"role,omitempty"`
	Target scenario.Duration `json:"target"`
	Done   bool              `json:"done"`
	// Actual is how long after the start the step was done, or, if not done, how long the drill
	// ran.
	Actual scenario.Duration `json:"actual"`
	Result string            `json:"result"`
	Detail string            `json:"detail,omitempty"`
}

// InjectResult is one inject and when it reached the incident.
type InjectResult struct {
	At          scenario.Duration `json:"at"`
	Text        string            `json:"text"`
	Delivered   bool              `json:"delivered"`
	DeliveredAt time.Time         `json:"delivered_at,omitzero"`
	// Offset is DeliveredAt in drill time since the start.
	Offset scenario.Duration `json:"offset,omitempty"`
	Note   string            `json:"note,omitempty"`
}
