package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The command line acts only as cli: actors: a CLI user cannot name a Slack user or a person
// signed in to the board, whose decisions the ingress and the board sign with their own keys.
func TestTheCLIActsOnlyAsCLIActors(t *testing.T) {
	for as, want := range map[string]string{"dana": "cli:dana", "cli:dana": "cli:dana", " ian ": "cli:ian"} {
		got, err := cliActor(as)
		require.NoError(t, err, as)
		require.Equal(t, want, got)
	}
	for _, as := range []string{"slack:T0001/U0DPO", "oidc:https://id.example#dana", ""} {
		_, err := cliActor(as)
		require.Error(t, err, "--as %q", as)
		var ue usageError
		require.ErrorAs(t, err, &ue, "--as %q must be a usage error (exit 2)", as)
	}
}
