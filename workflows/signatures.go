package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// signedRequest is every request an Update of the incident takes: who acts, the signature
// that vouches for them, and the request as it was signed (without its signature). Signed is
// exported only because Decision, a record type, is defined in activities.
type signedRequest interface {
	Signed() (by string, sig *incident.Signature, unsigned any)
}

// signatureKey carries the signature of the Update a handler serves, so that the events it
// records say who signed.
type signatureKey struct{}

// setSignedUpdate registers an Update whose requests are signed: the validator checks the
// request, then its signature against the keys the incident was declared with; the handler
// spends the signature's nonce, so that a signed request is accepted once.
func setSignedUpdate[R signedRequest, T any](ctx workflow.Context, inc *incidentImpl, name string,
	handle func(workflow.Context, R) (T, error), validate func(workflow.Context, R) error) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, r R) (T, error) {
			_, sig, _ := r.Signed()
			if err := inc.spendSignature(ctx, sig); err != nil {
				var zero T
				return zero, err
			}
			if sig != nil {
				ctx = workflow.WithValue(ctx, signatureKey{}, sig)
			}
			inc.events.add(6)
			return handle(ctx, r)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r R) error {
			if err := validate(ctx, r); err != nil {
				return err
			}
			return inc.checkSignature(ctx, name, r)
		}})
}

// checkSignature verifies a request's signature. An incident declared before signatures (no
// keys in its declaration) takes its requests unsigned, as it always did.
func (inc *incidentImpl) checkSignature(ctx workflow.Context, update string, r signedRequest) error {
	keys := inc.decl.Keys
	if keys.Empty() {
		return nil
	}
	by, sig, unsigned := r.Signed()
	if err := keys.Verify(sig, by, inc.decl.IncidentID, update, unsigned, workflow.Now(ctx), inc.decl.Drill); err != nil {
		return fmt.Errorf("%s refused: %w", update, err)
	}
	if _, used := inc.nonces[sig.Nonce]; used {
		return errors.New("this signed request was already accepted once: a replay is refused; send the decision again")
	}
	return nil
}

// spendSignature remembers a signature's nonce for as long as the signature could be valid.
func (inc *incidentImpl) spendSignature(ctx workflow.Context, sig *incident.Signature) error {
	if sig == nil || inc.decl.Keys.Empty() {
		return nil
	}
	if _, used := inc.nonces[sig.Nonce]; used {
		return errors.New("this signed request was already accepted once: a replay is refused")
	}
	if inc.nonces == nil {
		inc.nonces = map[string]time.Time{}
	}
	now := workflow.Now(ctx)
	for n, at := range inc.nonces {
		if now.Sub(at) > 2*incident.SignatureWindow {
			delete(inc.nonces, n)
		}
	}
	inc.nonces[sig.Nonce] = sig.At
	return nil
}

// signatureOf is the signature of the Update whose handler ctx belongs to, or nil.
func signatureOf(ctx workflow.Context) *incident.Signature {
	sig, _ := ctx.Value(signatureKey{}).(*incident.Signature)
	return sig
}
