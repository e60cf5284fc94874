// Package worker builds the Temporal worker that runs the breach plan.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/workflows"
)

// Register adds every workflow and activity of the plan to r.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflow(workflows.IncidentWorkflow)
	r.RegisterWorkflow(workflows.ContainmentWorkflow)
	r.RegisterWorkflow(workflows.ObligationWorkflow)
	r.RegisterWorkflow(workflows.AlertsWorkflow)
	r.RegisterActivity(acts)
}

// New returns a worker on the plan's task queue with everything registered.
func New(c client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	Register(w, acts)
	return w
}

// Run runs a worker until interrupted (SIGINT, SIGTERM).
func Run(c client.Client, acts *activities.Activities) error {
	return New(c, acts).Run(sdkworker.InterruptCh())
}
