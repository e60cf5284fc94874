package slack

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
)

// A token in SLACK_API_URL reaches no error: not the message, not the cause a failure records
// in workflow history.
func TestClassifiedErrorsCarryNoURLSecret(t *testing.T) {
	raw := &url.Error{Op: "Post", URL: "https://slack.example.com/api/chat.postMessage?token=xoxb-s3cr3t", Err: errors.New("connection reset by peer")}
	err := classify("chat.postMessage", raw)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("not an application error: %v", err)
	}
	failure := temporal.GetDefaultFailureConverter().ErrorToFailure(err)
	for f := failure; f != nil; f = f.GetCause() {
		if strings.Contains(f.GetMessage(), "s3cr3t") {
			t.Errorf("the failure recorded in history quotes the token: %q", f.GetMessage())
		}
	}
	if !strings.Contains(err.Error(), "token=REDACTED") {
		t.Errorf("error %q: want the URL, redacted", err)
	}
}
