package workflows

import (
	"github.com/breachops/breach/incident"
	"go.temporal.io/sdk/workflow"
)

// reporter sends a child's state, events and chat messages to the incident workflow.
type reporter struct {
	parentID string
}

func newReporter(ctx workflow.Context) reporter {
	info := workflow.GetInfo(ctx)
	if info.ParentWorkflowExecution == nil {
		return reporter{}
	}
	return reporter{parentID: info.ParentWorkflowExecution.ID}
}

func (r reporter) send(ctx workflow.Context, cs childState) {
	if r.parentID == "" {
		return
	}
	// A lost update to the parent must not stop the child; the parent also reads the result.
	if err := workflow.SignalExternalWorkflow(ctx, r.parentID, "", signalChildState, cs).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not report to the incident", "error", err)
	}
}

func (r reporter) event(ctx workflow.Context, kind, text string) {
	r.send(ctx, childState{Event: &incident.Event{At: workflow.Now(ctx).UTC(), Kind: kind, Text: text}})
}

func (r reporter) chat(ctx workflow.Context, m incident.ChatMessage) {
	r.send(ctx, childState{Chat: &m})
}
