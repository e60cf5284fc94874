package incident

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

type approve struct {
	By   string `json:"by"`
	Step string `json:"step"`
}

func key(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) string { return EncodePublicKey(k.Public().(ed25519.PublicKey)) }

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	dana, ingress, mallory, pilot, web := key(t), key(t), key(t), key(t), key(t)
	keys := Keys{Actors: map[string]string{"cli:dana": pub(dana)}, SlackIngress: pub(ingress), Web: pub(web), Autopilot: pub(pilot)}
	const id = "INC-20261128-7F3A9C2E1B4D5A6F"
	req := approve{By: "cli:dana", Step: "report:gdpr-art33-authority"}
	slackReq := approve{By: "slack:T01/U02", Step: req.Step}
	oidcReq := approve{By: "oidc:https://id.example.com#248289761001", Step: req.Step}
	sign := func(k ed25519.PrivateKey, signer string, r approve, at time.Time) *Signature {
		s, err := Sign(k, signer, id, "approve", r, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		sig   *Signature
		actor string
		req   approve
		drill bool
		want  string // "" when valid
	}{
		{"own key", sign(dana, "cli:dana", req, now), "cli:dana", req, false, ""},
		{"unsigned", nil, "cli:dana", req, false, "not signed"},
		{"another's key under dana's name", sign(mallory, "cli:dana", req, now), "cli:dana", req, false, "signed with key"},
		{"changed after signing", sign(dana, "cli:dana", req, now), "cli:dana", approve{By: "cli:dana", Step: "report:other"}, false, "does not match"},
		{"a CLI user as a Slack user", sign(dana, "cli:dana", slackReq, now), "slack:T01/U02", slackReq, false, "only the Slack ingress"},
		{"the ingress for a Slack user", sign(ingress, SlackIngress, slackReq, now), "slack:T01/U02", slackReq, false, ""},
		{"the ingress for a CLI user", sign(ingress, SlackIngress, req, now), "cli:dana", req, false, "a person signs their own"},
		{"too old", sign(dana, "cli:dana", req, now.Add(-6*time.Minute)), "cli:dana", req, false, "replayed or delayed"},
		{"from the future", sign(dana, "cli:dana", req, now.Add(6*time.Minute)), "cli:dana", req, false, "replayed or delayed"},
		{"unknown actor", sign(mallory, "cli:mallory", approve{By: "cli:mallory"}, now), "cli:mallory", approve{By: "cli:mallory"}, false, "knows no public key"},
		{"auto-pilot in a drill", sign(pilot, DrillAutopilot, req, now), "cli:dana", req, true, ""},
		{"auto-pilot outside a drill", sign(pilot, DrillAutopilot, req, now), "cli:dana", req, false, "a person signs their own"},
		{"the dashboard for a person it signed in", sign(web, WebDashboard, oidcReq, now), oidcReq.By, oidcReq, false, ""},
		{"the dashboard for a CLI user", sign(web, WebDashboard, req, now), "cli:dana", req, false, "a person signs their own"},
		{"the dashboard for a Slack user", sign(web, WebDashboard, slackReq, now), "slack:T01/U02", slackReq, false, "only the Slack ingress"},
		{"the ingress for a person signed in on the dashboard", sign(ingress, SlackIngress, oidcReq, now), oidcReq.By, oidcReq, false, "only the web dashboard signs"},
		{"a CLI user as a person signed in on the dashboard", sign(dana, "cli:dana", oidcReq, now), oidcReq.By, oidcReq, false, "only the web dashboard signs"},
		{"another key under the dashboard's name", sign(mallory, WebDashboard, oidcReq, now), oidcReq.By, oidcReq, false, "signed with key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := keys.Verify(tc.sig, tc.actor, id, "approve", tc.req, now, tc.drill)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// An incident declared without the dashboard's key takes nothing from it.
	noWeb := keys
	noWeb.Web = ""
	if err := noWeb.Verify(sign(web, WebDashboard, oidcReq, now), oidcReq.By, id, "approve", oidcReq, now, false); err == nil || !strings.Contains(err.Error(), "signing.web") {
		t.Fatalf("an incident without the dashboard's key: got %v, want a refusal naming signing.web", err)
	}
	if (Keys{Web: pub(web)}).Empty() {
		t.Fatal("keys holding only the dashboard's are not empty")
	}
	// A signature for one incident or Update is not valid for another.
	s := sign(dana, "cli:dana", req, now)
	if err := keys.Verify(s, "cli:dana", "INC-20261128-0000000000000000", "approve", req, now, false); err == nil {
		t.Fatal("a signature was accepted for another incident")
	}
	if err := keys.Verify(s, "cli:dana", id, "close", req, now, false); err == nil {
		t.Fatal("a signature was accepted for another Update")
	}
}

func TestPublicKeyForm(t *testing.T) {
	k := key(t)
	got, err := ParsePublicKey(pub(k))
	if err != nil || !got.Equal(k.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:AAAA", "rsa:AAAA", pub(k)[8:]} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}
