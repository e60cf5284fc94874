// Package worker builds the Temporal workers that run the breach plan.
package worker

import (
	"errors"

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
	r.RegisterWorkflow(workflows.DrillWorkflow)
	r.RegisterActivity(acts)
}

// Workers polls the plan's task queues: the main one, and containment's own, so that isolating
// a system never waits behind chat, scope or notices of other incidents.
type Workers struct {
	all []sdkworker.Worker
}

// New returns the workers of the plan with everything registered.
func New(c client.Client, acts *activities.Activities) *Workers {
	opts := sdkworker.Options{
		WorkflowTaskPollerBehavior: sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{}),
		ActivityTaskPollerBehavior: sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{}),
	}
	main := sdkworker.New(c, workflows.TaskQueue, opts)
	Register(main, acts)
	main.RegisterActivity(&activities.DrillActivities{Client: c, Records: acts.Records, Dir: acts.Dir, Key: acts.AutopilotKey})
	contain := sdkworker.New(c, workflows.ContainmentTaskQueue, opts)
	Register(contain, acts)
	return &Workers{all: []sdkworker.Worker{main, contain}}
}

// Start starts polling.
func (w *Workers) Start() error {
	for i, x := range w.all {
		if err := x.Start(); err != nil {
			for _, started := range w.all[:i] {
				started.Stop()
			}
			return err
		}
	}
	return nil
}

// Stop stops polling and waits for running tasks.
func (w *Workers) Stop() {
	for _, x := range w.all {
		x.Stop()
	}
}

// Run polls until interrupt is closed or receives.
func (w *Workers) Run(interrupt <-chan interface{}) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-interrupt
	w.Stop()
	return nil
}

// Run runs the workers until interrupted (SIGINT, SIGTERM).
func Run(c client.Client, acts *activities.Activities) error {
	if c == nil {
		return errors.New("worker: no Temporal client")
	}
	return New(c, acts).Run(sdkworker.InterruptCh())
}
