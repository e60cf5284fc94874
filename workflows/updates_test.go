package workflows

import (
	"fmt"
	"time"

	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"
)

// outcome is what became of an Update sent in a test: refused by its validator, or accepted
// and then answered (or failed).
type outcome struct {
	rejected, failed error
	answered         bool
}

// strict is an Update callback that fails the test on a refusal or on a failure after the
// Update was accepted: an Update a test expects to work must work to the end.
func strict(s suite.TestingSuite, what string) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { s.T().Errorf("%s was refused: %v", what, err) },
		OnComplete: func(_ any, err error) {
			if err != nil {
				s.T().Errorf("%s failed after it was accepted: %v", what, err)
			}
		},
	}
}

// recording is an Update callback that records the outcome for the test to check.
func recording(o *outcome) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { o.rejected = err },
		OnComplete: func(_ any, err error) {
			o.failed = err
			o.answered = true
		},
	}
}

func updateName(name string, at time.Duration) string { return fmt.Sprintf("%s-%s", name, at) }
