package rules

import (
	"errors"
	"testing"
)

// FuzzParseFacts: any input either parses into facts that validate and evaluate to a
// well-formed result, or is refused with a *UsageError naming a field. Never a panic.
// The seed corpus is checked in under testdata/fuzz/FuzzParseFacts.
func FuzzParseFacts(f *testing.F) {
	f.Add([]byte(goodFacts))
	f.Add([]byte(`{"aware_at":"2026-06-10T10:00:00+02:00","subjects_by_jurisdiction":{"US-CA":501},"submitted":{"us-ca-residents":"2026-06-20T16:00:00Z"}}`))
	f.Add([]byte(`{"aware_at":"9999-12-31T23:59:59-23:59","timezone":"Pacific/Kiritimati","sectors":["us-listed"],"materiality_determined_at":"9999-12-31T23:59:59Z"}`))
	f.Add([]byte(`{"aware_at":"0000-01-01T00:00:00+23:59","subjects_by_jurisdiction":{"BR":9223372036854775807,"SG":9223372036854775807}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := ParseFacts(data)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Field == "" || ue.Msg == "" {
				t.Fatalf("error %v (%T) is not a UsageError naming a field", err, err)
			}
			return
		}
		if err := facts.Validate(); err != nil {
			t.Fatalf("parsed facts do not validate: %v", err)
		}
		res, err := Evaluate(facts)
		if err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		checkInvariants(t, res)
	})
}
