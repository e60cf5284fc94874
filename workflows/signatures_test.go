package workflows

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
)

type signer struct {
	name string
	key  ed25519.PrivateKey
}

func newSigner(name string) signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return signer{name, k}
}

func (s signer) pub() string { return incident.EncodePublicKey(s.key.Public().(ed25519.PublicKey)) }

// signedUpdate sends req at time at, signed by sg as it stands then (mutate may change the
// request after signing, as a forger would).
func (s *incidentSuite) signedUpdate(at time.Duration, name string, sg signer, req interface {
	Signed() (string, *incident.Signature, any)
	SetSignature(*incident.Signature)
}, signedAt time.Duration, rejected *error, mutate func()) {
	s.env.RegisterDelayedCallback(func() {
		_, _, unsigned := req.Signed()
		sig, err := incident.Sign(sg.key, sg.name, declaration().IncidentID, name, unsigned, start.Add(signedAt))
		s.Require().NoError(err)
		req.SetSignature(sig)
		if mutate != nil {
			mutate()
		}
		s.env.UpdateWorkflow(name, fmt.Sprintf("%s-%s", name, at), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) {
				if rejected != nil {
					*rejected = err
					return
				}
				s.Fail("update rejected", "%s at %s: %v", name, at, err)
			},
			OnComplete: func(_ any, err error) {
				if rejected == nil {
					s.NoError(err, "%s at %s failed after it was accepted", name, at)
				}
			},
		}, req)
	}, at)
}

// Decisions are signed: unsigned, forged, altered, late or replayed requests, and a Slack
// identity signed by a person at the command line, are each refused with the reason; signed
// ones are accepted and the timeline and the record say who signed.
func (s *incidentSuite) TestSignedDecisions() {
	s.mockHappyPath()
	s.mockNotices()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/final.md", MessageID: "m-1", At: in.SubmittedAt}, nil
		})
	dpo, ic, mallory, ingress := newSigner("cli:dpo"), newSigner("cli:ic"), newSigner("cli:mallory"), newSigner(incident.SlackIngress)
	d := declaration()
	d.Roles = incident.Roles{DPO: []string{"cli:dpo", "slack:T01/U0DPO"}, Commander: []string{"cli:ic"}}
	d.DeclaredBy = "cli:ic"
	d.Keys = incident.Keys{Actors: map[string]string{"cli:dpo": dpo.pub(), "cli:ic": ic.pub()}, SlackIngress: ingress.pub()}

	dec := func(by string) *incident.Decision { x := highRisk(by); return &x }
	var unsigned, forged, slackFromCLI, altered, late error
	s.update(30*time.Minute, incident.UpdateDecide, *dec("cli:dpo"), &unsigned)
	s.signedUpdate(31*time.Minute, incident.UpdateDecide, signer{"cli:dpo", mallory.key}, dec("cli:dpo"), 31*time.Minute, &forged, nil)
	s.signedUpdate(32*time.Minute, incident.UpdateDecide, dpo, dec("slack:T01/U0DPO"), 32*time.Minute, &slackFromCLI, nil)
	alteredDec := dec("cli:dpo")
	s.signedUpdate(33*time.Minute, incident.UpdateDecide, dpo, alteredDec, 33*time.Minute, &altered, func() { alteredDec.Risk = "risk"; alteredDec.NotifySubjects = false })
	s.signedUpdate(45*time.Minute, incident.UpdateDecide, dpo, dec("cli:dpo"), 34*time.Minute, &late, nil)
	var before incident.Status
	s.env.RegisterDelayedCallback(func() { before = s.status() }, 50*time.Minute)
	s.signedUpdate(time.Hour, incident.UpdateDecide, ingress, dec("slack:T01/U0DPO"), time.Hour, nil, nil)
	s.signedUpdate(2*time.Hour, incident.UpdateApprove, dpo, &incident.ApproveRequest{By: "cli:dpo", Step: "report:gdpr-art33-authority"}, 2*time.Hour, nil, nil)
	supplement := &incident.SupplementRequest{By: "cli:dpo", Obligation: "gdpr-art33-authority", Note: "root cause found"}
	s.signedUpdate(3*time.Hour, incident.UpdateSupplement, dpo, supplement, 3*time.Hour, nil, nil)
	var replay error
	s.env.RegisterDelayedCallback(func() {
		// The same signed request again, two minutes later: within the window, refused by
		// its nonce.
		s.env.UpdateWorkflow(incident.UpdateSupplement, "replay", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { replay = err },
			OnComplete: func(_ any, err error) { s.Fail("a replayed supplement was accepted", "%v", err) },
		}, *supplement)
	}, 3*time.Hour+2*time.Minute)
	s.signedUpdate(4*time.Hour, incident.UpdateClose, ic, &incident.CloseRequest{By: "cli:ic"}, 4*time.Hour, nil, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.ErrorContains(unsigned, "not signed")
	s.ErrorContains(forged, "signed with key")
	s.ErrorContains(slackFromCLI, "only the Slack ingress signs for Slack users")
	s.ErrorContains(altered, "does not match this request")
	s.ErrorContains(late, "replayed or delayed")
	s.ErrorContains(replay, "already accepted once")
	s.Nil(before.Decision, "refused decisions change nothing")

	st := s.status()
	s.Require().NotNil(st.Decision)
	s.Equal("slack:T01/U0DPO", st.Decision.By)
	s.Require().NotNil(st.Decision.Signature)
	s.Equal(incident.SlackIngress, st.Decision.Signature.Signer)
	signed := map[string]string{}
	for _, e := range st.Timeline {
		if e.Signature != nil {
			signed[e.Kind] = e.Signature.Signer
		}
	}
	s.Equal(map[string]string{"decision": incident.SlackIngress, "approved": "cli:dpo", "supplement": "cli:dpo", "closed": "cli:ic"}, signed)
}
