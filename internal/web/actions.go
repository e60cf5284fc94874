package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
)

// Actions: approving a report and recording a portal filing. Each goes to the incident as the
// same Update Slack and the command line send, for the signed-in person (their oidc: actor),
// signed by the board; the incident's validator checks the role, the state and, after the
// deadline, the reasons for the delay, and its answer is the board's.

// actionTimeout bounds waiting for the incident's answer.
const actionTimeout = 20 * time.Second

// maxField bounds what a person types into a form field.
const maxField = 4000

func (s *Server) serveApprove(w http.ResponseWriter, r *http.Request, v *Viewer) {
	id := r.PathValue("id")
	step := r.PostFormValue("step")
	kind, obligation := incident.StepSubject(step)
	if kind != incident.StepReport || obligation == "" {
		s.fail(w, r, http.StatusBadRequest, "The board approves reports only (a step report:<obligation>); confirm an isolation in Slack or with breach approve.")
		return
	}
	req := incident.ApproveRequest{By: v.Actor, Step: step, Reasons: strings.TrimSpace(r.PostFormValue("reasons")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	s.act(w, r, v, id, incident.UpdateApprove, &req, "Approved the report of "+obligation+".")
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, v *Viewer) {
	id := r.PathValue("id")
	obligation := strings.TrimSpace(r.PostFormValue("obligation"))
	ref := strings.TrimSpace(r.PostFormValue("reference"))
	switch {
	case obligation == "":
		s.fail(w, r, http.StatusBadRequest, "Say which obligation was filed.")
		return
	case ref == "" || len(ref) > 200:
		s.fail(w, r, http.StatusBadRequest, "Give the reference number the authority's portal gave the filing (at most 200 characters).")
		return
	}
	req := incident.FileRequest{By: v.Actor, Obligation: obligation, Reference: ref, Reasons: strings.TrimSpace(r.PostFormValue("reasons"))}
	s.act(w, r, v, id, incident.UpdateFile, &req, "Recorded the filing of "+obligation+" (reference "+ref+").")
}

// signable is a request the board signs for the person acting.
type signable interface {
	Signed() (by string, sig *incident.Signature, unsigned any)
	SetSignature(*incident.Signature)
}

// act checks that the viewer may act, signs the request and sends it.
func (s *Server) act(w http.ResponseWriter, r *http.Request, v *Viewer, id, update string, req signable, done string) {
	switch {
	case s.ReadOnly():
		s.fail(w, r, http.StatusForbidden, "The board is read-only: approve and file in Slack or with the breach command (an administrator can turn actions on with web.actions and the board's key).")
		return
	case v.Actor == "" || !v.Has(RoleDPO):
		s.fail(w, r, http.StatusForbidden, "Approving reports and recording filings takes the dpo role on the board; you hold "+rolesText(v)+".")
		return
	case !incident.IsID(id):
		s.statusFailure(w, r, id, errNotFound)
		return
	}
	for _, f := range []string{"reasons", "note", "reference"} {
		if x := r.PostFormValue(f); len(x) > maxField || !utf8.ValidString(x) {
			s.fail(w, r, http.StatusBadRequest, "The "+f+" is too long or not text: keep it under 4,000 characters.")
			return
		}
	}
	st, fromRegister, err := s.status(r.Context(), id)
	if err != nil {
		s.statusFailure(w, r, id, err)
		return
	}
	if fromRegister || st.Phase == incident.PhaseClosed {
		s.fail(w, r, http.StatusConflict, id+" is closed: nothing can be approved or filed in it any more.")
		return
	}
	if !st.Roles.Has(incident.RoleDPO, v.Actor) {
		s.fail(w, r, http.StatusForbidden, "You ("+v.Actor+") are not a DPO of "+id+": it was declared with the DPOs "+strings.Join(st.Roles.DPO, ", ")+
			". Roles are fixed when an incident is declared (roles.dpo in the configuration).")
		return
	}
	by, _, unsigned := req.Signed()
	if by != v.Actor {
		s.fail(w, r, http.StatusInternalServerError, "The request is not for the person signed in.")
		return
	}
	sig, err := incident.Sign(s.cfg.Signer, incident.WebDashboard, id, update, unsigned, s.now())
	if err != nil {
		s.cfg.Logger.Error("board: sign", "incident", id, "error", err)
		s.fail(w, r, http.StatusInternalServerError, "The request could not be signed.")
		return
	}
	req.SetSignature(sig)
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	out, err := s.cfg.Temporal.Update(ctx, id, update, req)
	var rej *ingress.RejectedError
	switch {
	case errors.As(err, &rej):
		s.fail(w, r, http.StatusConflict, "The incident refused: "+rej.Reason)
		return
	case errors.Is(err, ingress.ErrNoIncident):
		s.statusFailure(w, r, id, errNotFound)
		return
	case err != nil:
		s.cfg.Logger.Error("board: update", "incident", id, "update", update, "error", err)
		s.fail(w, r, http.StatusBadGateway, "The incident did not answer in time: look at the board in a minute before trying again (it may have been done).")
		return
	}
	s.cfg.Logger.Info("board action", "incident", id, "update", update, "actor", v.Actor)
	msg := done
	if out != "" && !strings.Contains(done, out) {
		msg += " " + out
	}
	if isJSON(r.Context()) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": msg})
		return
	}
	s.render(w, r, http.StatusOK, "message", messagePage{pageData: s.base(r, v, "Done"), Message: msg,
		Back: s.safeReturn(r.PostFormValue("return"))})
}

func rolesText(v *Viewer) string {
	if v == nil || len(v.Roles) == 0 {
		return "no role"
	}
	return "the role " + strings.Join(v.Roles, ", ")
}
