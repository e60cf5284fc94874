package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/locale"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/templates"
)

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

// renderedReport is a report's text and the language it is written in.
type renderedReport struct {
	subject, body string
	// lang is the language of the text; wanted the one chosen for the reader when the template
	// has no translation in it; note says so, and why, for the timeline. All empty for
	// incidents declared before languages were chosen (English).
	lang, wanted, note string
}

func (a *Activities) renderReport(in incident.ReportInput, final bool) (renderedReport, error) {
	lang, why := reportLanguage(in)
	name := templateFor(in.Obligation)
	out, used, err := templates.RenderIn(name, lang, templates.ReportView{ReportInput: in, Final: final, PreparedAt: a.now(), Zone: reportZone(in)})
	if err != nil {
		return renderedReport{}, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	r := renderedReport{}
	r.subject, r.body = templates.SplitSubject(out)
	if in.Languages != nil || in.Language != "" {
		r.lang = used
		r.note = "in " + locale.Name(used)
		if used != lang {
			r.wanted = lang
			r.note += fmt.Sprintf(" (%s; template %s has no %s translation: it falls back to English)", why, name, locale.Name(lang))
		} else if why != "" {
			r.note += " (" + why + ")"
		}
	}
	return r, nil
}

// DraftReport renders the report for approval, in the language of its reader (see
// reportLanguage), and says which.
func (a *Activities) DraftReport(ctx context.Context, in incident.ReportInput) (incident.Draft, error) {
	r, err := a.renderReport(in, false)
	if err != nil {
		return incident.Draft{}, err
	}
	subject, body := r.subject, r.body
	key, err := reportKey(in.IncidentID, in.Obligation.ID+".draft.md")
	if err != nil {
		return incident.Draft{}, err
	}
	path, err := a.put(ctx, key, []byte(body))
	if err != nil {
		return incident.Draft{}, err
	}
	return incident.Draft{Path: path, Subject: subject, Language: r.lang, Wanted: r.wanted, LanguageNote: r.note}, nil
}

// SubmitReport writes the final report and sends it to the authority's address. The message key
// is derived from the incident, obligation and sequence, so a retried activity sends once.
func (a *Activities) SubmitReport(ctx context.Context, in incident.ReportInput) (incident.Submission, error) {
	if in.SubmittedAt.IsZero() {
		in.SubmittedAt = a.now()
	}
	r, err := a.renderReport(in, true)
	if err != nil {
		return incident.Submission{}, err
	}
	subject, body := r.subject, r.body
	name := in.Obligation.ID
	if in.Sequence > 0 {
		name = fmt.Sprintf("%s.supplement-%d", name, in.Sequence)
	}
	key, err := reportKey(in.IncidentID, name+".md")
	if err != nil {
		return incident.Submission{}, err
	}
	path, err := a.put(ctx, key, []byte(body))
	if err != nil {
		return incident.Submission{}, err
	}
	sub := incident.Submission{Path: path, At: in.SubmittedAt}
	if in.RecipientAddress == "" {
		return sub, nil
	}
	if in.Drill {
		// The mark every drill message carries, whatever the report's language.
		subject = "[DRILL] " + subject
	}
	headers := map[string]string{"X-Breach-Incident": in.IncidentID, "X-Breach-Obligation": in.Obligation.ID}
	if r.lang != "" {
		headers["Content-Language"] = r.lang
	}
	res, err := a.Mail.Send(ctx, mail.Message{
		Key:     in.IncidentID + "/authority/" + name,
		From:    in.Organisation.MailFrom,
		To:      in.RecipientAddress,
		Subject: subject,
		Text:    body,
		Date:    in.SubmittedAt,
		Headers: headers,
	})
	if err != nil {
		return incident.Submission{}, keepRetryAdvice(fmt.Sprintf("send %s report for %s to %s", in.Obligation.ID, in.IncidentID, in.RecipientName), err)
	}
	sub.MessageID = res.ID
	return sub, nil
}
