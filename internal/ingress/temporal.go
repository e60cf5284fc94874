package ingress

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/declare"
)

// Temporal is what the ingress needs from the workflow engine. The handlers see only this, so
// they are tested without a server.
type Temporal interface {
	// Declare starts the incident workflow; existing is true when an incident with the same ID
	// was already started (a repeated submission).
	Declare(ctx context.Context, d incident.Declaration) (existing bool, err error)
	// Update sends a validated Update and waits for its answer. A validator's refusal is a
	// *RejectedError; an incident that does not exist (or no longer runs) is ErrNoIncident.
	Update(ctx context.Context, incidentID, name string, arg any) (string, error)
	// Status queries an incident.
	Status(ctx context.Context, incidentID string) (incident.Status, error)
	// Open lists the running incidents, newest first.
	Open(ctx context.Context) ([]OpenIncident, error)
	// Check reports whether Temporal answers (nil when it does), cheaply: /readyz asks it, and
	// the work after an acknowledgement asks it before it waits on Temporal.
	Check(ctx context.Context) error
}

// OpenIncident is a running incident.
type OpenIncident struct {
	IncidentID string
	Started    time.Time
}

// ErrNoIncident is an incident that does not exist or is not running.
var ErrNoIncident = errors.New("no such running incident")

// ErrUnreachable is work not attempted because Temporal does not answer: the person is told to
// try again or to use the CLI runbook.
var ErrUnreachable = errors.New("temporal is unreachable")

// RejectedError is an Update the workflow refused; Reason is the validator's sentence.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "refused: " + e.Reason }

// NewTemporal adapts a Temporal client; dc is its data converter (with the payload codec), which
// reads what the client reads.
func NewTemporal(c client.Client, dc converter.DataConverter) Temporal { return temporalClient{c, dc} }

type temporalClient struct {
	c  client.Client
	dc converter.DataConverter
}

func (t temporalClient) Declare(ctx context.Context, d incident.Declaration) (bool, error) {
	res, err := declare.Start(ctx, t.c, d, declare.Options{Converter: t.dc})
	if err != nil {
		return false, err
	}
	return res.Existing, nil
}

// Check asks the frontend's health service: one attempt, no retries, so an outage is told
// within ctx's deadline rather than after the SDK's backoff.
func (t temporalClient) Check(ctx context.Context) error {
	_, err := t.c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

func (t temporalClient) Update(ctx context.Context, incidentID, name string, arg any) (string, error) {
	h, err := t.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   incident.IncidentWorkflowID(incidentID),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var out any
		if err = h.Get(ctx, &out); err == nil {
			return describe(out), nil
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "", ErrNoIncident
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return "", &RejectedError{Reason: cleanReason(app.Error())}
	}
	return "", fmt.Errorf("%s %s: %w", name, incidentID, err)
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if r, ok := x["risk"].(string); ok {
			return "risk " + r
		}
	}
	return ""
}

// cleanReason strips the SDK's wrapping down to the validator's sentence.
func cleanReason(msg string) string {
	if i := strings.Index(msg, " (type: "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

func (t temporalClient) Status(ctx context.Context, incidentID string) (incident.Status, error) {
	var st incident.Status
	v, err := t.c.QueryWorkflow(ctx, incident.IncidentWorkflowID(incidentID), "", incident.QueryStatus)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return st, ErrNoIncident
	}
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", incidentID, err)
	}
	return st, v.Get(&st)
}

func (t temporalClient) Open(ctx context.Context) ([]OpenIncident, error) {
	resp, err := t.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running'",
		PageSize: 50,
	})
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	var out []OpenIncident
	for _, e := range resp.GetExecutions() {
		if e.GetType().GetName() != "IncidentWorkflow" {
			continue
		}
		out = append(out, OpenIncident{
			IncidentID: strings.TrimPrefix(e.GetExecution().GetWorkflowId(), "incident/"),
			Started:    e.GetStartTime().AsTime(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}
