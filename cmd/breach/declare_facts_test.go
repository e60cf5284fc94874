package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
)

// The organisation's facts that decide the competent GDPR authority, and the configuration's
// word on how to reach authorities, reach every declaration (the command line's, the Slack
// ingress's and a drill's all start from declarationDefaults).
func TestDeclarationCarriesTheOrganisationFactsAndAuthorityChannels(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "breach.yaml")
	yaml := `organisation:
  name: Example Outfitters Inc.
  timezone: America/New_York
  establishments: [US]
  establishment_regions: [us-ny]
  main_establishment: us
  public_task: true
  sectors: [phr-vendor]
  mail_from: privacy@outfitters.test
roles:
  dpo: [dana]
  commander: [ian]
signing:
  keys:
    cli:dana: "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    cli:ian: "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
authorities:
  - code: DE
    name: Berliner Beauftragte für Datenschutz und Informationsfreiheit
    country: DE
    email: breach@berlin.example
  - code: FR
    portal: https://notifications.cnil.fr/agreed
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BREACH_HOME", dir)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var d incident.Declaration
	if err := declarationDefaults(cfg, &d); err != nil {
		t.Fatal(err)
	}
	o := d.Organisation
	if !slices.Equal(o.Establishments, []string{"US"}) || !slices.Equal(o.EstablishmentRegions, []string{"US-NY"}) ||
		o.MainEstablishment != "US" || !o.PublicTask || !slices.Equal(o.Sectors, []string{"phr-vendor"}) {
		t.Errorf("organisation facts of the declaration: %+v", o)
	}
	want := []incident.AuthorityContact{
		{Code: "DE", Name: "Berliner Beauftragte für Datenschutz und Informationsfreiheit", Email: "breach@berlin.example"},
		{Code: "FR", Portal: "https://notifications.cnil.fr/agreed"},
	}
	if !slices.Equal(d.Authorities, want) {
		t.Errorf("authority channels of the declaration: %+v, want %+v", d.Authorities, want)
	}
}
