package ingress_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// Slack's published example (api.slack.com, "Verifying requests from Slack").
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerify(t *testing.T) {
	signedAt := time.Unix(1531420618, 0)
	tests := []struct {
		name                  string
		secret, ts, sig, body string
		now                   time.Time
		want                  error
	}{
		{"Slack's example", exampleSecret, exampleTimestamp, exampleSignature, exampleBody, signedAt, nil},
		{"4m59s later", exampleSecret, exampleTimestamp, exampleSignature, exampleBody, signedAt.Add(299 * time.Second), nil},
		{"5m01s later", exampleSecret, exampleTimestamp, exampleSignature, exampleBody, signedAt.Add(301 * time.Second), ingress.ErrStale},
		{"from the future", exampleSecret, exampleTimestamp, exampleSignature, exampleBody, signedAt.Add(-301 * time.Second), ingress.ErrStale},
		{"body changed", exampleSecret, exampleTimestamp, exampleSignature, exampleBody + "&x=1", signedAt, ingress.ErrBadSignature},
		{"timestamp changed", exampleSecret, "1531420619", exampleSignature, exampleBody, signedAt, ingress.ErrBadSignature},
		{"other secret", "another-secret", exampleTimestamp, exampleSignature, exampleBody, signedAt, ingress.ErrBadSignature},
		{"v1 scheme", exampleSecret, exampleTimestamp, "v1=" + exampleSignature[3:], exampleBody, signedAt, ingress.ErrBadSignature},
		{"not hex", exampleSecret, exampleTimestamp, "v0=zz", exampleBody, signedAt, ingress.ErrBadSignature},
		{"truncated", exampleSecret, exampleTimestamp, exampleSignature[:40], exampleBody, signedAt, ingress.ErrBadSignature},
		{"no signature", exampleSecret, exampleTimestamp, "", exampleBody, signedAt, ingress.ErrMissingHeaders},
		{"no timestamp", exampleSecret, "", exampleSignature, exampleBody, signedAt, ingress.ErrMissingHeaders},
		{"timestamp not a number", exampleSecret, "yesterday", exampleSignature, exampleBody, signedAt, ingress.ErrBadTimestamp},
		{"no secret configured", "", exampleTimestamp, exampleSignature, exampleBody, signedAt, ingress.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ingress.Verify(tt.secret, tt.ts, tt.sig, []byte(tt.body), tt.now)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tt.want), "got %v, want %v", err, tt.want)
		})
	}
}

func TestSignMatchesSlack(t *testing.T) {
	assert.Equal(t, exampleSignature, slackfake.Sign(exampleSecret, 1531420618, []byte(exampleBody)))
}
