package rules

import "testing"

// Notices go to the people an obligation protects: an EEA establishment brings every subject
// under GDPR; without one, only EEA residents; a US state's law covers its residents.
func TestObligationCovers(t *testing.T) {
	cases := []struct {
		name string
		mods []mod
		id   string
		yes  []string
		no   []string
	}{
		{"GDPR, EEA establishment: everyone", ms(est("DE"), subj("FR", 2, "US-CA", 1)), "gdpr-art34-subjects", []string{"FR", "US-CA", "JP"}, nil},
		{"GDPR, no EEA establishment: EEA residents", ms(subj("FR", 2, "US-CA", 1)), "gdpr-art34-subjects", []string{"FR", "NO"}, []string{"US-CA", "GB"}},
		{"California: its residents", ms(est("DE"), subj("US-CA", 3)), "us-ca-residents", []string{"US-CA"}, []string{"US-TX", "DE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Evaluate(build(c.mods))
			if err != nil {
				t.Fatal(err)
			}
			var o *Obligation
			for i := range res.Obligations {
				if res.Obligations[i].ID == c.id {
					o = &res.Obligations[i]
				}
			}
			if o == nil {
				t.Fatalf("%s not required: %+v", c.id, res.NotRequired)
			}
			for _, j := range c.yes {
				if !o.Covers(j) {
					t.Errorf("%s should cover %s (subjects %v)", c.id, j, o.Subjects)
				}
			}
			for _, j := range c.no {
				if o.Covers(j) {
					t.Errorf("%s should not cover %s (subjects %v)", c.id, j, o.Subjects)
				}
			}
		})
	}
}
