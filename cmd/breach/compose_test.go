package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The production-like stack publishes the Temporal frontend and UI, which check no one, on
// this machine's loopback only; the Slack ingress, which verifies every request's signature,
// is the one service reachable from outside.
func TestComposePublishesOnlyTheIngress(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(data, &compose))
	require.Contains(t, compose.Services, "temporal")
	published := 0
	for name, svc := range compose.Services {
		for _, p := range svc.Ports {
			published++
			if name == "ingress" {
				continue
			}
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "service %s publishes %q beyond this machine: bind it to 127.0.0.1", name, p)
		}
	}
	require.Positive(t, published, "the stack publishes no port at all: the test would prove nothing")
}
