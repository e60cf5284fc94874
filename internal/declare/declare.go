// Package declare starts incidents: the one path the command line and the Slack ingress share,
// so that a declaration is never lost and never doubled.
//
// Every start carries a key in its memo (the person's idempotency key, or one made for this
// call), so that whenever the server says an incident ID is taken, the caller can tell its own
// incident (a repeated declaration, or a start whose answer was lost) from another one.
package declare

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/workflows"
)

// MemoKey names the memo field holding the SHA-256 of the declaration's key.
const MemoKey = "breach_key_sha256"

// Result is the incident a declaration started, or found already started with its key.
type Result struct {
	IncidentID string `json:"incident_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Existing is set when the incident had already been declared with the same key.
	Existing bool `json:"existing"`
}

// Options tune Start. The zero value is what the product uses.
type Options struct {
	// Converter decodes the memo; the client's data converter (with its codec). Default: the
	// SDK's default converter.
	Converter converter.DataConverter
	// Attempts bounds the candidate IDs tried when an ID is held by another incident; default 8.
	Attempts int
	// Retry bounds how long transient errors of the server are retried; default 30 seconds.
	Retry time.Duration
	// Now gives the time for fresh IDs; default time.Now.
	Now func() time.Time
}

// Start starts the incident workflow for d exactly once. With d.Key, the ID derives from the
// key and the awareness day, and declaring again returns the incident started with that key.
// Without one, the ID is fresh; the start is still recognised as its own if an answer is lost
// and the call retried. An ID held by another incident moves on to the next candidate; a
// transient error is retried and never taken for "not ours".
func Start(ctx context.Context, c client.Client, d incident.Declaration, o Options) (Result, error) {
	o = o.withDefaults()
	key := d.Key
	if key == "" {
		key = "call:" + nonce()
		if d.IncidentID == "" {
			d.IncidentID = incident.NewID(o.Now())
		}
	} else if d.IncidentID == "" {
		d.IncidentID = incident.KeyedID(d.AwareAt, d.Key, 0)
	}
	for attempt := 0; attempt < o.Attempts; attempt++ {
		if attempt > 0 {
			if d.Key != "" {
				d.IncidentID = incident.KeyedID(d.AwareAt, d.Key, attempt)
			} else {
				d.IncidentID = incident.NewID(o.Now())
			}
		}
		if err := incident.ValidateID(d.IncidentID); err != nil {
			return Result{}, err
		}
		res, taken, err := o.start(ctx, c, d, key)
		if err != nil || !taken {
			if res.Existing && d.Key == "" {
				// Our own start, whose first answer was lost: not a repeated declaration.
				res.Existing = false
			}
			return res, err
		}
	}
	return Result{}, fmt.Errorf("no free incident ID after %d attempts; declare again", o.Attempts)
}

func (o Options) withDefaults() Options {
	if o.Converter == nil {
		o.Converter = converter.GetDefaultDataConverter()
	}
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Retry <= 0 {
		o.Retry = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// start tries one ID: started (or found ours), or taken by another incident.
func (o Options) start(ctx context.Context, c client.Client, d incident.Declaration, key string) (res Result, taken bool, err error) {
	wid := incident.IncidentWorkflowID(d.IncidentID)
	res = Result{IncidentID: d.IncidentID, WorkflowID: wid}
	opts := client.StartWorkflowOptions{
		ID:                       wid,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// Without it the SDK hands back the run already holding the ID as if it were ours.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		Memo:                                     map[string]any{MemoKey: KeyHash(key)},
	}
	err = o.retry(ctx, func(ctx context.Context) error {
		run, err := c.ExecuteWorkflow(ctx, opts, workflows.IncidentWorkflow, workflows.IncidentInput{Declaration: d})
		if err == nil {
			res.RunID = run.GetRunID()
		}
		return err
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return res, false, nil
	case !errors.As(err, &already):
		return res, false, fmt.Errorf("start incident %s: %w", d.IncidentID, err)
	}
	var ours bool
	err = o.retry(ctx, func(ctx context.Context) error {
		var err error
		ours, err = o.startedWithKey(ctx, c, wid, key)
		return err
	})
	if err != nil {
		return res, false, fmt.Errorf("incident %s exists; whether it is this declaration could not be checked: %w; declare again with the same key", d.IncidentID, err)
	}
	if !ours {
		return res, true, nil
	}
	res.Existing = true
	res.RunID = already.RunId
	return res, false, nil
}

// startedWithKey reports whether the workflow wid was started with key.
func (o Options) startedWithKey(ctx context.Context, c client.Client, wid, key string) (bool, error) {
	desc, err := c.DescribeWorkflow(ctx, wid, "")
	if err != nil {
		return false, err
	}
	p := desc.RawResponse.GetWorkflowExecutionInfo().GetMemo().GetFields()[MemoKey]
	if p == nil {
		return false, nil
	}
	var got string
	if err := o.Converter.FromPayload(p, &got); err != nil {
		return false, fmt.Errorf("read the memo of %s: %w", wid, err)
	}
	return got == KeyHash(key), nil
}

// retry runs f until it succeeds, fails for good, or o.Retry has passed.
func (o Options) retry(ctx context.Context, f func(context.Context) error) error {
	deadline := time.Now().Add(o.Retry)
	wait := 200 * time.Millisecond
	for {
		err := f(ctx)
		if err == nil || !Transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Transient reports whether err is the server (or the way to it) failing for a while, so that
// the same call may succeed later.
func Transient(err error) bool {
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		exhausted   *serviceerror.ResourceExhausted
		internal    *serviceerror.Internal
	)
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) ||
		errors.As(err, &internal) || errors.Is(err, context.DeadlineExceeded)
}

// KeyHash is what the memo keeps of a key.
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
