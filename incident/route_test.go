package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/internal/rules"
)

var aware = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func evaluate(t *testing.T, f rules.Facts) map[string]rules.Obligation {
	t.Helper()
	res, err := rules.Evaluate(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rules.Obligation{}
	for _, o := range res.Obligations {
		out[o.ID] = o
	}
	return out
}

// A US shop with no establishment in the EEA and customers in five Member States owes a report
// to each of their authorities: five obligations, each routed to its own authority's channel
// from the directory, the undetermined German one by the configuration's entry.
func TestRouteForAUSShopWithCustomersInFiveMemberStates(t *testing.T) {
	obs := evaluate(t, rules.Facts{AwareAt: aware, Timezone: "America/New_York", Establishments: []string{"US"}, MainEstablishment: "US",
		SubjectsByJurisdiction: map[string]int{"DE": 40, "ES": 30, "FR": 20, "IT": 10, "NL": 5, "US-NY": 100}, Risk: "high"})
	var ids []string
	for id := range obs {
		if strings.HasPrefix(id, "gdpr-art33-authority") {
			ids = append(ids, id)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("want five authority obligations, got %v", ids)
	}
	// The organisation chose the Berlin authority for its German residents and agreed an
	// address with it; it files with the CNIL through a portal the configuration names.
	authorities := []AuthorityContact{
		{Code: "DE", Name: "Berliner Beauftragte für Datenschutz und Informationsfreiheit", Email: "breach@berlin.example"},
		{Code: "IT", Portal: "https://servizi.gpdp.it/databreach"},
	}
	routes := []Route{{Obligation: "gdpr-art33-authority-nl", Method: RouteEmail, Address: "meldingen@ap.example", Name: "AP (agreed address)"}}
	cases := []struct {
		id, method, address, name, portal, where string
	}{
		{"gdpr-art33-authority-de", RouteEmail, "breach@berlin.example", "Berliner Beauftragte für Datenschutz und Informationsfreiheit", "", ""},
		{"gdpr-art33-authority-es", RoutePortal, "", "Agencia Española de Protección de Datos (AEPD)", "", "sede electrónica"},
		{"gdpr-art33-authority-fr", RoutePortal, "", "Commission nationale de l'informatique et des libertés (CNIL)", "https://notifications.cnil.fr", "https://notifications.cnil.fr (téléservice"},
		{"gdpr-art33-authority-it", RoutePortal, "", "Garante per la protezione dei dati personali", "https://servizi.gpdp.it/databreach", "https://servizi.gpdp.it/databreach"},
		{"gdpr-art33-authority-nl", RouteEmail, "meldingen@ap.example", "AP (agreed address)", "", ""},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		o, ok := obs[c.id]
		if !ok {
			t.Fatalf("%s: not an obligation (have %v)", c.id, ids)
		}
		r := RouteFor(o, routes, authorities)
		if r.Obligation != c.id || r.Method != c.method || r.Address != c.address || r.Authority != o.Authority.Code {
			t.Errorf("%s: route %+v, want method %s to %q for authority %s", c.id, r, c.method, c.address, o.Authority.Code)
		}
		if !strings.HasPrefix(r.Name, strings.Split(c.name, " (")[0]) {
			t.Errorf("%s: route named %q, want %q", c.id, r.Name, c.name)
		}
		if r.Portal != c.portal {
			t.Errorf("%s: portal %q, want %q", c.id, r.Portal, c.portal)
		}
		if !strings.Contains(r.Where(), c.where) {
			t.Errorf("%s: filed through %q, want it to say %q", c.id, r.Where(), c.where)
		}
		seen[r.Name+r.Address+r.Portal] = true
	}
	if len(seen) != 5 {
		t.Errorf("five obligations share routes: %v", seen)
	}
}

// A Berlin shop notifies the Berlin authority alone; without the configuration's word its report
// is filed on the authority's portal, with it (an agreed address) sent there by email; the ICO's
// obligation, owed to a directory entry, takes the ICO's portal.
func TestRouteForABerlinShop(t *testing.T) {
	obs := evaluate(t, rules.Facts{AwareAt: aware, Timezone: "Europe/Berlin", Establishments: []string{"DE"}, EstablishmentRegions: []string{"DE-BE"},
		SubjectsByJurisdiction: map[string]int{"DE": 800, "FR": 20, "GB": 3}, Risk: "risk"})
	o, ok := obs["gdpr-art33-authority-de-be"]
	if !ok {
		t.Fatalf("no gdpr-art33-authority-de-be: %v", obs)
	}
	for id := range obs {
		if strings.HasPrefix(id, "gdpr-art33-authority") && id != o.ID {
			t.Errorf("a Berlin shop notifies one authority, also got %s", id)
		}
	}
	r := RouteFor(o, nil, nil)
	if r.Method != RoutePortal || r.Portal != "https://datenpannen.datenschutz-berlin.de" || r.Authority != "DE-BE" || !strings.Contains(r.Name, "BlnBDI") {
		t.Errorf("directory route %+v", r)
	}
	r = RouteFor(o, nil, []AuthorityContact{{Code: "DE-BE", Email: "meldung@berlin.example"}, {Code: "DE-BY", Email: "wrong@bayern.example"}})
	if r.Method != RouteEmail || r.Address != "meldung@berlin.example" || !strings.Contains(r.Name, "BlnBDI") {
		t.Errorf("agreed address: %+v", r)
	}
	// A route the configuration gives for the obligation wins, and names the authority.
	r = RouteFor(o, []Route{{Obligation: o.ID, Method: RoutePortal, Name: "Berlin"}}, []AuthorityContact{{Code: "DE-BE", Email: "x@berlin.example"}})
	if r.Method != RoutePortal || r.Name != "Berlin" || r.Authority != "DE-BE" || r.Portal != "https://datenpannen.datenschutz-berlin.de" {
		t.Errorf("configured route: %+v", r)
	}
	ico, ok := obs["uk-gdpr-art33-ico"]
	if !ok {
		t.Fatalf("no uk-gdpr-art33-ico for UK residents: %v", obs)
	}
	if r := RouteFor(ico, nil, nil); r.Method != RoutePortal || r.Portal != "https://ico.org.uk/for-organisations/report-a-breach" || !strings.Contains(r.Where(), "phone") {
		t.Errorf("ICO route %+v (%s)", r, r.Where())
	}
	// An obligation owed to no named authority stays a portal filing named by its audience.
	if r := RouteFor(rules.Obligation{ID: "us-ca-attorney-general"}, nil, nil); r != (Route{Obligation: "us-ca-attorney-general", Method: RoutePortal}) {
		t.Errorf("no authority: %+v", r)
	}
}
