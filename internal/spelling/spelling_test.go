package spelling

import "testing"

func TestNearest(t *testing.T) {
	sectors := []string{"health-covered-entity", "nis2-essential", "nis2-important", "us-listed"}
	tests := []struct {
		name, word string
		known      []string
		want       string
	}{
		{"one letter missing", "nis2-esential", sectors, "nis2-essential"},
		{"swapped letters", "emial", []string{"email", "portal"}, "email"},
		{"case and spaces", " Processor ", []string{"controller", "processor"}, "processor"},
		{"doubled letter", "proccessor", []string{"controller", "processor"}, "processor"},
		{"a different word", "retail", sectors, ""},
		{"known word", "email", []string{"email", "portal"}, ""},
		{"the only word with that start", "gdpr-art33", []string{"gdpr-art33-authority", "gdpr-art34-subjects"}, "gdpr-art33-authority"},
		{"two words with that start", "gdpr-art3", []string{"gdpr-art33-authority", "gdpr-art34-subjects"}, ""},
		{"as close to two words", "nis2-x", []string{"nis2-a", "nis2-b"}, ""},
		{"short words need an exact match", "fx", []string{"fax", "email"}, ""},
		{"empty", "", sectors, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Nearest(tt.word, tt.known); got != tt.want {
				t.Errorf("Nearest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"email", "emial", 1}, {"ca", "abc", 3},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
