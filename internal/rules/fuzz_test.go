package rules

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
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
	f.Add([]byte(`{"aware_at":"2026-06-12T20:00:00+02:00","establishments":["DE","FR","US"],"establishment_regions":["DE-BE","DE-HH"],"main_establishment":"DE-HH",` +
		`"public_task":true,"sectors":["dora-credit-institution","telecom-postal"],"classified_major_at":"2026-06-13T09:00:00+02:00","assessed_at":"2026-06-14T09:00:00+02:00",` +
		`"wrongful_purpose":true,"subjects_by_jurisdiction":{"FR":3,"CA-QC":2,"JP":1001,"IT":1},"submitted":{"dora-initial":"2026-06-13T12:00:00+02:00"}}`))
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

// FuzzReadFacts: the streaming reader never reads more than one byte past MaxFactsBytes, refuses
// longer input with a *UsageError naming the limit, and agrees with ParseFacts on the rest.
// The fuzzer's inputs are short, so pad (mod 3) also tries each one padded to one byte past the
// cap, and far past it. (The exact cap is a unit test: parsing a whole MiB per run is slow.)
func FuzzReadFacts(f *testing.F) {
	f.Add([]byte(goodFacts), uint8(0))
	f.Add([]byte(`{"aware_at":"2026-06-10T10:00:00Z"}`), uint8(1))
	f.Add([]byte(`{"aware_at":"2026-06-10T10:00:00Z","data_categories":["other"]}`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, pad uint8) {
		in := data
		switch pad % 3 {
		case 1:
			in = padTo(data, MaxFactsBytes+1)
		case 2:
			in = padTo(data, 3*MaxFactsBytes)
		}
		r := &countingReader{r: bytes.NewReader(in)}
		got, err := ReadFacts(r)
		if r.n > MaxFactsBytes+1 {
			t.Fatalf("read %d bytes; the cap is %d", r.n, MaxFactsBytes)
		}
		if len(in) > MaxFactsBytes {
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "1 MiB") {
				t.Fatalf("%d bytes: err = %v, want a UsageError naming the limit", len(in), err)
			}
			return
		}
		want, wantErr := ParseFacts(in)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("ReadFacts: %v; ParseFacts: %v", err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadFacts %+v, ParseFacts %+v", got, want)
		}
	})
}

// padTo returns data followed by spaces up to n bytes (data itself when it is longer).
func padTo(data []byte, n int) []byte {
	if len(data) >= n {
		return data
	}
	return append(append(make([]byte, 0, n), data...), bytes.Repeat([]byte{' '}, n-len(data))...)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
