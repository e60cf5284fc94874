package incident

import "testing"

func TestParseActor(t *testing.T) {
	for _, tc := range []struct {
		actor, source string
		ok            bool
	}{
		{"slack:T0123ABCD/U0456EFGH", SourceSlack, true},
		{SlackActor("T01", "U02"), SourceSlack, true},
		{"slack:t01/u02", "", false},
		{"cli:dana", SourceCLI, true},
		{CLIActor("demo-dpo"), SourceCLI, true},
		{"cli:Dana", "", false},
		{"cli:", "", false},
		{"oidc:https://id.example.com#248289761001", SourceOIDC, true},
		{"oidc:http://id.example.com#1", "", false},
		{"U0456EFGH", "", false},
		{"slack:U0456EFGH", "", false},
		{"ldap:dana", "", false},
	} {
		src, _, err := ParseActor(tc.actor)
		if (err == nil) != tc.ok || (tc.ok && src != tc.source) {
			t.Errorf("ParseActor(%q) = %q, %v; want ok %t source %q", tc.actor, src, err, tc.ok, tc.source)
		}
	}
}
