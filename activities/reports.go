package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/templates"
)

type ReportInput = incident.ReportInput

type reportView struct {
	ReportInput
	Final      bool
	PreparedAt time.Time
}

type Draft = incident.Draft

type Submission = incident.Submission

// reportKey is the key of a report, a plain file name among the incident's reports.
func reportKey(incidentID, name string) (string, error) {
	if err := fileName(name); err != nil {
		return "", pathError(fmt.Errorf("report of %s: %w", incidentID, err))
	}
	k, err := records.ReportKey(incidentID, name)
	if err != nil {
		return "", pathError(err)
	}
	return k, nil
}

func templateFor(o rules.Obligation) string {
	if templates.Has(o.Template) {
		return o.Template
	}
	return "generic-report"
}

func (a *Activities) renderReport(in ReportInput, final bool) (subject, body string, err error) {
	out, err := templates.Render(templateFor(in.Obligation), reportView{ReportInput: in, Final: final, PreparedAt: a.now()})
	if err != nil {
		return "", "", temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	subject, body = templates.SplitSubject(out)
	return subject, body, nil
}

// DraftReport renders the report for approval.
func (a *Activities) DraftReport(ctx context.Context, in ReportInput) (Draft, error) {
	subject, body, err := a.renderReport(in, false)
	if err != nil {
		return Draft{}, err
	}
	key, err := reportKey(in.IncidentID, in.Obligation.ID+".draft.md")
	if err != nil {
		return Draft{}, err
	}
	path, err := a.put(ctx, key, []byte(body))
	if err != nil {
		return Draft{}, err
	}
	return Draft{Path: path, Subject: subject}, nil
}

// SubmitReport writes the final report and sends it to the authority's address. The message key
// is derived from the incident, obligation and sequence, so a retried activity sends once.
func (a *Activities) SubmitReport(ctx context.Context, in ReportInput) (Submission, error) {
	if in.SubmittedAt.IsZero() {
		in.SubmittedAt = a.now()
	}
	subject, body, err := a.renderReport(in, true)
	if err != nil {
		return Submission{}, err
	}
	name := in.Obligation.ID
	if in.Sequence > 0 {
		name = fmt.Sprintf("%s.supplement-%d", name, in.Sequence)
	}
	key, err := reportKey(in.IncidentID, name+".md")
	if err != nil {
		return Submission{}, err
	}
	path, err := a.put(ctx, key, []byte(body))
	if err != nil {
		return Submission{}, err
	}
	sub := Submission{Path: path, At: in.SubmittedAt}
	if in.RecipientAddress == "" {
		return sub, nil
	}
	if in.Drill {
		subject = "[DRILL] " + subject
	}
	res, err := a.Mail.Send(ctx, mail.Message{
		Key:     in.IncidentID + "/authority/" + name,
		From:    in.Organisation.MailFrom,
		To:      in.RecipientAddress,
		Subject: subject,
		Text:    body,
		Date:    in.SubmittedAt,
		Headers: map[string]string{"X-Breach-Incident": in.IncidentID, "X-Breach-Obligation": in.Obligation.ID},
	})
	if err != nil {
		return Submission{}, keepRetryAdvice(fmt.Sprintf("send %s report for %s to %s", in.Obligation.ID, in.IncidentID, in.RecipientName), err)
	}
	sub.MessageID = res.ID
	return sub, nil
}
