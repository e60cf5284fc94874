package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// explainingClient is the client every command uses. A query or an Update that fails because the
// workflow's tasks keep failing says why, as the worker reported it in the last failed task: with
// encrypted payloads the usual cause is a worker without the key the incident's data was
// encrypted with, which otherwise reads only "Workflow Task in failed state".
type explainingClient struct {
	client.Client
	namespace string
	fc        converter.FailureConverter
}

func (c explainingClient) QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error) {
	v, err := c.Client.QueryWorkflow(ctx, workflowID, runID, queryType, args...)
	if err != nil {
		err = c.explain(ctx, workflowID, runID, err)
	}
	return v, err
}

func (c explainingClient) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	h, err := c.Client.UpdateWorkflow(ctx, o)
	if err != nil {
		err = c.explain(ctx, o.WorkflowID, o.RunID, err)
	}
	return h, err
}

// stuckError is a failed query or Update of a workflow whose tasks keep failing.
type stuckError struct {
	err     error
	attempt int32
	cause   error
}

func (e *stuckError) Error() string {
	return fmt.Sprintf("%v; the workflow's tasks keep failing (attempt %d) and it does not move on until a worker can run them: the last one failed with: %v",
		e.err, e.attempt, e.cause)
}

func (e *stuckError) Unwrap() error { return e.err }

func (c explainingClient) explain(ctx context.Context, workflowID, runID string, err error) error {
	msg := strings.ToLower(err.Error())
	if !strings.Contains(msg, "workflow task in failed state") && !strings.Contains(msg, "deadline exceeded") {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	d, derr := c.DescribeWorkflow(ctx, workflowID, runID)
	if derr != nil {
		return err
	}
	desc := d.RawResponse
	task := desc.GetPendingWorkflowTask()
	if task.GetAttempt() < 2 {
		return err
	}
	exec := desc.GetWorkflowExecutionInfo().GetExecution()
	hist, herr := c.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
		Namespace: c.namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: exec.GetWorkflowId(), RunId: exec.GetRunId()}, MaximumPageSize: 100,
	})
	if herr != nil {
		return err
	}
	for _, ev := range hist.GetHistory().GetEvents() {
		if f := ev.GetWorkflowTaskFailedEventAttributes().GetFailure(); f != nil {
			return &stuckError{err: err, attempt: task.GetAttempt(), cause: c.fc.FailureToError(f)}
		}
	}
	return err
}

// isStuck reports whether err is a query or Update of a workflow whose tasks keep failing.
func isStuck(err error) bool {
	var s *stuckError
	return errors.As(err, &s)
}
