package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// EvaluateObligations applies the rules to an incident's facts. It runs beside the workflow (a
// local activity) so that the result, with the rulebook's version, is recorded in the history.
func (a *Activities) EvaluateObligations(ctx context.Context, f rules.Facts) (rules.Result, error) {
	res, err := rules.Evaluate(f)
	var ue *rules.UsageError
	if errors.As(err, &ue) {
		return rules.Result{}, temporal.NewNonRetryableApplicationError(err.Error(), incident.ErrTypeInvalidFacts, nil)
	}
	return res, err
}
