package activities

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, started by BenchmarkScope, one measurement of its own.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" {
		os.Exit(benchChild())
	}
	os.Exit(m.Run())
}
