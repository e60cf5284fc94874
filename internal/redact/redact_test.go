package redact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example.com/breach", "https://hooks.example.com/breach"},
		{"https://hooks.example.com/breach?token=s3cr3t", "https://hooks.example.com/breach?token=REDACTED"},
		{"https://hooks.example.com/breach?a=1&sig=abc;x=y#frag", "https://hooks.example.com/breach?a=REDACTED&sig=REDACTED"},
		{"https://user:pa55@fw.example.com/api", "https://user:REDACTED@fw.example.com/api"},
		{"https://user@fw.example.com/api", "https://user@fw.example.com/api"},
		{"postgres://breach:p@ss@db.example.com:5432/ledger", "postgres://breach:REDACTED@db.example.com:5432/ledger"},
		{"postgres://breach:pa/ss@db/ledger", "postgres://breach:REDACTED@db/ledger"},
		{"postgres://breach:p%40s:s@db/ledger?sslmode=require", "postgres://breach:REDACTED@db/ledger?sslmode=REDACTED"},
		{"postgres://db.example.com/ledger?user=breach&password=s3cr3t", "postgres://db.example.com/ledger?user=REDACTED&password=REDACTED"},
		{"https://h/p?", "https://h/p?"},
		{"https://h/p?token", "https://h/p?token=REDACTED"},
		{"not a url", "not a url"},
		{"slack.example.com/api?token=s3cr3t", "slack.example.com/api?token=REDACTED"},
		{"bot:s3cr3t@slack.example.com/api", "REDACTED@slack.example.com/api"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://breach:p@ss@db/ledger", "postgres://breach:REDACTED@db/ledger"},
		{"host=db user=breach password=s3cr3t dbname=ledger", "host=db user=breach password=REDACTED dbname=ledger"},
		{"host=db password='p@ss word\\' more' dbname=ledger", "host=db password=REDACTED dbname=ledger"},
		{"host=db PASSWORD = s3cr3t sslpassword=k3y", "host=db PASSWORD = REDACTED sslpassword=REDACTED"},
		{"file:/var/breach/ledger.db?_pragma=busy_timeout(10000)", "file:/var/breach/ledger.db?_pragma=busy_timeout(10000)"},
		{"/var/breach/ledger.db", "/var/breach/ledger.db"},
	}
	for _, tt := range tests {
		if got := DSN(tt.in); got != tt.want {
			t.Errorf("DSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTextAndError(t *testing.T) {
	secrets := []string{"s3cr3t", "p@ss", "tok3n", "k3y"}
	texts := []string{
		`isolate db-1 via webhook: Post "https://hooks.example.com/breach?token=s3cr3t": dial tcp 10.0.0.1:443: connect: connection refused`,
		"ledger: connect to postgres://breach:p@ss@db/ledger: failed",
		"ledger: open host=db password=s3cr3t: failed",
		"slack chat.postMessage: Post \"https://slack.example/api/chat.postMessage?token=tok3n\": EOF",
		"aws: operation error EC2: https://ec2.example/?X-Amz-Credential=k3y&X-Amz-Signature=s3cr3t",
	}
	for _, s := range texts {
		got := Text(s)
		for _, sec := range secrets {
			if strings.Contains(got, sec) {
				t.Errorf("Text(%q) = %q: still holds %q", s, got, sec)
			}
		}
		if !strings.Contains(got, Mark) {
			t.Errorf("Text(%q) = %q: nothing redacted", s, got)
		}
	}

	inner := fmt.Errorf("post: %w", context.DeadlineExceeded)
	raw := fmt.Errorf("Post \"https://h/x?token=s3cr3t\": %w", inner)
	err := Error(raw)
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "token=REDACTED") {
		t.Errorf("Error: %q", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("the redacted error no longer matches what the original matched")
	}
	if errors.Unwrap(err) != nil {
		t.Error("the redacted error unwraps: a failure's cause chain would carry the original message")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
