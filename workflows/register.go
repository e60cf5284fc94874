package workflows

import (
	"reflect"
	"time"

	"github.com/breachops/breach/incident"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// changeRegister is the workflow.GetVersion change after which an incident keeps its entry in
// the breach register (Art. 33(5)) from its declaration: a version when it is declared, and a
// new one whenever what the register says changes (the scope, the decision, an obligation met,
// an amendment, the containment, the notices), and when it is cancelled. Closing records the
// last version (WriteRecords), as it does for incidents started before, which enter the
// register only then. Each run (continue-as-new) asks again, so an incident started before
// that continues as new under this code enters the register from its next run.
const changeRegister = "register-from-declaration"

// registerTracking is how an incident keeps its register entry.
type registerTracking struct {
	// on: this run records versions.
	on bool
	// sent is the content last recorded, busy says a version is being recorded.
	sent *incident.RegisterContent
	busy bool
	// stopped: closing or cancelling; the follower records no more.
	stopped     bool
	cancelledAt time.Time
}

// registerCtx records a version: a small write, retried until the register takes it. The
// incident waits for a cancelled attempt to end, so that no older version lands after the
// last one.
func registerCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{incident.ErrTypeRegisterInput, incident.ErrTypeBadPath},
		},
	})
}

// startRegister starts following the incident into the register, for incidents of
// changeRegister.
func (inc *incidentImpl) startRegister(ctx workflow.Context) {
	if workflow.GetVersion(ctx, changeRegister, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	inc.reg.on = true
	workflow.Go(ctx, inc.followRegister)
}

// registerChanged reports whether what the register says of the incident differs from the
// version last recorded, and returns it.
func (inc *incidentImpl) registerChanged() (incident.RegisterContent, bool) {
	c := incident.RegisterContentOf(inc.rec, inc.reg.cancelledAt)
	return c, inc.reg.sent == nil || !reflect.DeepEqual(*inc.reg.sent, c)
}

// registerSettled says the facts are not half-way through a change: a decision whose
// obligations are still being computed would read as "not notified".
func (inc *incidentImpl) registerSettled() bool {
	return !inc.evaluating && inc.reevalReason == "" && !(inc.rec.Decision != nil && inc.phase == incident.PhaseDecide)
}

// followRegister records a version whenever what the register says has changed, one at a time.
func (inc *incidentImpl) followRegister(ctx workflow.Context) {
	for {
		var c incident.RegisterContent
		err := workflow.Await(ctx, func() bool {
			if inc.reg.stopped {
				return true
			}
			if !inc.registerSettled() {
				return false
			}
			changed := false
			c, changed = inc.registerChanged()
			return changed
		})
		if err != nil || inc.reg.stopped {
			return
		}
		inc.recordRegister(ctx, c)
		if ctx.Err() != nil {
			return
		}
	}
}

// recordRegister records one version. A version the register refuses is logged and skipped:
// the next change records the whole entry again.
func (inc *incidentImpl) recordRegister(ctx workflow.Context, c incident.RegisterContent) {
	inc.reg.busy = true
	inc.events.add(6)
	err := workflow.ExecuteActivity(registerCtx(ctx), a.RecordRegister, incident.RegisterInput{Content: c}).Get(ctx, nil)
	inc.reg.busy = false
	if err != nil {
		if ctx.Err() == nil {
			inc.logger.Error("the breach register refused the incident's entry", "error", err)
			inc.reg.sent = &c
		}
		return
	}
	inc.reg.sent = &c
}

// stopRegister ends the following before the close records the last version itself.
func (inc *incidentImpl) stopRegister(ctx workflow.Context) error {
	if !inc.reg.on {
		return nil
	}
	inc.reg.stopped = true
	return workflow.Await(ctx, func() bool { return !inc.reg.busy })
}

// registerCancelled records that the incident was cancelled, as its last version.
func (inc *incidentImpl) registerCancelled(ctx workflow.Context) {
	if !inc.reg.on {
		return
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	inc.reg.stopped = true
	inc.reg.cancelledAt = workflow.Now(dctx).UTC()
	if err := workflow.Await(dctx, func() bool { return !inc.reg.busy }); err != nil {
		return
	}
	c, _ := inc.registerChanged()
	inc.recordRegister(dctx, c)
}
