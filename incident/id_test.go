package incident

import (
	"strings"
	"testing"
	"time"
)

var day = time.Date(2026, 11, 28, 23, 30, 0, 0, time.FixedZone("CET", 3600))

func TestNewIDIsValidAndCarries64Bits(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID(day)
		if err := ValidateID(id); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "INC-20261128-") || len(id) != MaxIDLength {
			t.Fatalf("id %q: want INC-20261128- and 16 hex digits (the UTC date)", id)
		}
		if seen[id] {
			t.Fatalf("id %q minted twice", id)
		}
		seen[id] = true
	}
}

func TestKeyedIDIsStable(t *testing.T) {
	a, b := KeyedID(day, "k1", 0), KeyedID(day, "k1", 0)
	if a != b || a == KeyedID(day, "k1", 1) || a == KeyedID(day, "k2", 0) {
		t.Fatalf("keyed ids: %s %s %s %s", a, b, KeyedID(day, "k1", 1), KeyedID(day, "k2", 0))
	}
	if DerivedID(day, "run-1") == DerivedID(day, "run-2") || !IsID(DerivedID(day, "run-1")) {
		t.Fatal("derived ids must differ by seed and be valid")
	}
}

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"INC-20261128-7F3A", true},
		{"INC-20261128-7F3A9C2E1B4D5A6F", true},
		{"INC-20261128-7f3a", false},
		{"INC-20261128-7F3A9", false},
		{"INC-2026112-7F3A", false},
		{"../../x", false},
		{"INC-20261128-7F3A/../../etc", false},
		{"INC-20261128-7F3A\n", false},
		{"", false},
		{strings.Repeat("A", 5000), false},
	} {
		err := ValidateID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok %t", tc.id, err, tc.ok)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("the error for a long id is %d bytes: it must not echo the input whole", len(err.Error()))
		}
	}
}

func TestFindID(t *testing.T) {
	for text, want := range map[string]string{
		"status INC-20261128-7F3A9C2E1B4D5A6F please": "INC-20261128-7F3A9C2E1B4D5A6F",
		"old INC-20261128-7F3A.":                      "INC-20261128-7F3A",
		"none here":                                   "",
	} {
		if got := FindID(text); got != want {
			t.Errorf("FindID(%q) = %q, want %q", text, got, want)
		}
	}
}
