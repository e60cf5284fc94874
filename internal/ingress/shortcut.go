package ingress

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	breachslack "github.com/breachops/breach/internal/slack"
)

// nothingStored ends every refusal of a shared dataset.
const nothingStored = " Nothing was stored."

// messageShortcut answers a message shortcut at once; its work runs after. The one shortcut
// breach has makes a CSV shared in an incident's channel the incident's dataset.
func (s *Server) messageShortcut(cb slackgo.InteractionCallback, sigKey string) any {
	if !s.replays.first(s.now(), sigKey, keyIf("shortcut:", cb.TriggerID), keyIf("shortcut:"+cb.User.ID+":", cb.ActionTs)) {
		return nil
	}
	at := where{channel: cb.Channel.ID, responseURL: cb.ResponseURL, user: cb.User.ID, actor: actor(interactionOrigin(cb), cb.User.ID)}
	if cb.CallbackID != breachslack.ShortcutUseDataset {
		s.later("unknown shortcut", func(ctx context.Context) {
			s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf("breach does not know the shortcut `%s`; nothing was changed.", breachslack.Escape(truncateRunes(cb.CallbackID, 60))))
		})
		return nil
	}
	files := cb.Message.Files
	s.laterFor("use a shared dataset", s.cfg.DownloadTimeout, func(ctx context.Context) { s.useSharedDataset(ctx, at, files) })
	return nil
}

// useSharedDataset stores the CSV a message shares in an incident's channel in the dataset
// store, and gives it to the incident: to its scope phase when that waits for a dataset, as an
// amendment once the DPO has decided. Only the incident's commanders and DPO may, only in its
// own channel, only a file on Slack's file host within the store's limit. What is said names
// the file and its size, never its content.
func (s *Server) useSharedDataset(ctx context.Context, at where, files []slackgo.File) {
	// What is said after a long download must reach the person even when the work's time ran out.
	say := func(text string) {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		s.tell(tctx, at.channel, at.user, at.responseURL, text)
	}
	refuse := func(why string) { say(why + nothingStored) }
	if s.cfg.Datasets == nil {
		refuse("This breach serve has no dataset store (datasets.dir), so it cannot keep a shared file: add the export on the command line, `breach datasets add FILE.csv`.")
		return
	}
	st, found, err := s.roomIncident(ctx, at.channel)
	switch {
	case err != nil:
		refuse(s.trouble("find the incident of channel "+at.channel, err))
		return
	case !found:
		refuse("This channel is not a running incident's channel: share the CSV in the incident's own channel (the one breach opened for it), then use *" +
			breachslack.ShortcutName + "* there, or on the command line: `breach subjects ID --subjects FILE.csv`.")
		return
	case !holdsRole(st.Roles, at.actor):
		refuse(fmt.Sprintf(":no_entry: Only an incident commander or the DPO of %s may give its dataset, and you hold neither role.", st.IncidentID))
		return
	case !st.ClosedAt.IsZero() || st.Phase == incident.PhaseClosed:
		refuse(st.IncidentID + " is closed: a dataset changes nothing there any more.")
		return
	}
	f, why := s.sharedCSV(files)
	if why != "" {
		refuse(why)
		return
	}
	shown := "`" + breachslack.Escape(truncateRunes(f.Name, 80)) + "`"
	if !s.fileURLAllowed(f.URLPrivateDownload) {
		host := "(unreadable)"
		if u, err := url.Parse(f.URLPrivateDownload); err == nil {
			host = truncateRunes(u.Host, 80)
		}
		s.cfg.Logger.Warn("slack file not fetched: not on Slack's file host", "incident", st.IncidentID, "file", f.ID, "host", host)
		refuse(fmt.Sprintf(":no_entry: breach downloads shared files only from Slack's file host (files.slack.com), and the address of %s is elsewhere, so it was not fetched.", shown))
		return
	}
	info, err := s.fetchDataset(ctx, f)
	if err != nil {
		refuse(s.downloadTrouble(st.IncidentID, f, shown, err))
		return
	}
	s.cfg.Logger.Info("slack shared file stored as a dataset", "incident", st.IncidentID, "file", f.ID, "dataset", info.Name, "bytes", info.Size, "by", at.actor)
	stored := fmt.Sprintf("%s is stored as the dataset `%s` (%s).", shown, info.Name, breachslack.ByteSize(info.Size))
	ref := incident.DatasetRef{URI: info.Ref}
	switch {
	case st.ScopeError != "" && pending(st, incident.UpdateReplaceSubjects):
		if _, ok := s.forward(ctx, at, st.IncidentID, incident.UpdateReplaceSubjects,
			incident.ReplaceSubjectsRequest{By: at.actor, Subjects: ref}, stored+" "); ok {
			say(":white_check_mark: " + stored + " The scope of " + st.IncidentID + " is assessed again with it.")
		}
	case st.Decision != nil && st.Roles.Has(incident.RoleDPO, at.actor):
		amend := incident.AmendRequest{By: at.actor, Subjects: &ref, Note: "Dataset " + truncateRunes(f.Name, 80) + " shared in Slack."}
		if _, ok := s.forward(ctx, at, st.IncidentID, incident.UpdateAmend, amend, stored+" "); ok {
			say(":white_check_mark: " + stored + " The DPO's decision of " + st.IncidentID + " is amended with it: its obligations are re-evaluated.")
		}
	case st.Decision != nil:
		say(stored + " The DPO has decided " + st.IncidentID +
			": only the DPO can amend the decision with a new dataset, by running *" + breachslack.ShortcutName + "* on this file, or `" + breachslack.Escape("breach amend "+st.IncidentID+" --dataset "+info.Name+" --as <dpo>") + "`.")
	default:
		say(stored + " " + st.IncidentID + " is not waiting for a dataset now (" + breachslack.PhaseLabel(st.Phase) +
			"). If its scope asks for one, run *" + breachslack.ShortcutName + "* on this file again, or `" + breachslack.Escape("breach subjects "+st.IncidentID+" --dataset "+info.Name+" --as <commander>") + "`.")
	}
}

// pending reports whether the incident waits for step.
func pending(st incident.Status, step string) bool {
	for _, p := range st.Pending {
		if p.Step == step {
			return true
		}
	}
	return false
}

// roomIncident finds the running incident whose recorded room is channelID: the one the
// channel's purpose names, when its record confirms it, else any open incident whose room it
// is (the newest maxListed looked at). A purpose alone proves nothing: anyone may write one.
func (s *Server) roomIncident(ctx context.Context, channelID string) (incident.Status, bool, error) {
	if channelID == "" {
		return incident.Status{}, false, nil
	}
	if hint := s.channelIncident(ctx, channelID); hint != "" {
		st, err := s.cfg.Temporal.Status(ctx, hint)
		switch {
		case errors.Is(err, ErrNoIncident):
		case err != nil:
			return incident.Status{}, false, err
		case st.Room == channelID:
			return st, true, nil
		}
	}
	open, err := s.cfg.Temporal.Open(ctx)
	if err != nil {
		return incident.Status{}, false, err
	}
	for i, inc := range open {
		if i == maxListed {
			break
		}
		st, err := s.cfg.Temporal.Status(ctx, inc.IncidentID)
		if err != nil {
			s.cfg.Logger.Warn("status of an open incident", "incident", inc.IncidentID, "error", err)
			continue
		}
		if st.Room == channelID {
			return st, true, nil
		}
	}
	return incident.Status{}, false, nil
}

// sharedCSV picks the one CSV a message shares, or says why there is none to take; a file
// larger than the store takes is refused before anything is fetched.
func (s *Server) sharedCSV(files []slackgo.File) (slackgo.File, string) {
	if len(files) == 0 {
		return slackgo.File{}, "This message shares no file: run *" + breachslack.ShortcutName + "* on the message that shares the CSV export."
	}
	var csvs []slackgo.File
	for _, f := range files {
		if isCSV(f) {
			csvs = append(csvs, f)
		}
	}
	switch {
	case len(csvs) == 0:
		return slackgo.File{}, fmt.Sprintf("`%s` is not a CSV file: the affected-subjects dataset is a CSV export of the people affected.", breachslack.Escape(truncateRunes(files[0].Name, 80)))
	case len(csvs) > 1:
		return slackgo.File{}, fmt.Sprintf("This message shares %d CSV files: share the one export in a message of its own, then run *%s* on it.", len(csvs), breachslack.ShortcutName)
	}
	f := csvs[0]
	shown := "`" + breachslack.Escape(truncateRunes(f.Name, 80)) + "`"
	switch limit := s.cfg.Datasets.MaxBytes(); {
	case f.URLPrivateDownload == "":
		return f, fmt.Sprintf("Slack did not give breach the download address of %s (a file from another workspace, or one still being processed): share the file in this channel yourself, then try again.", shown)
	case int64(f.Size) > limit:
		return f, fmt.Sprintf("%s is %s, more than the dataset store takes (%s, datasets.max_bytes): split the export, or have the limit raised.", shown, breachslack.ByteSize(int64(f.Size)), breachslack.ByteSize(limit))
	}
	return f, ""
}

func isCSV(f slackgo.File) bool {
	mt, _, _ := mime.ParseMediaType(f.Mimetype)
	return strings.EqualFold(f.Filetype, "csv") || mt == "text/csv" || strings.EqualFold(path.Ext(f.Name), ".csv")
}

// downloadError is a shared file Slack did not hand over.
type downloadError struct {
	status int  // Slack's HTTP status, when it answered with another than 200
	signIn bool // Slack answered with a web page (its sign-in page) instead of the file
}

func (e *downloadError) Error() string {
	if e.signIn {
		return "Slack answered with a web page instead of the file"
	}
	return "Slack answered HTTP " + strconv.Itoa(e.status)
}

// fetchDataset downloads a shared file with the bot token, from Slack's file host only, and
// stores it in the dataset store within its limit (a Content-Length over it is refused before
// the body is read; the body is cut at the limit whatever Slack said).
func (s *Server) fetchDataset(ctx context.Context, f slackgo.File) (datasets.Info, error) {
	var res *http.Response
	redirected := false
	err := retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URLPrivateDownload, nil)
		if err != nil {
			return err
		}
		if s.cfg.BotToken != "" {
			req.Header.Set("Authorization", "Bearer "+s.cfg.BotToken)
		}
		r, err := s.files.Do(req)
		if errors.Is(err, errFileRedirect) {
			redirected = true // not worth asking again
			return nil
		}
		if err != nil {
			return err
		}
		if r.StatusCode == http.StatusOK {
			res = r
			return nil
		}
		r.Body.Close()
		if r.StatusCode == http.StatusTooManyRequests {
			wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			return &slackgo.RateLimitedError{RetryAfter: time.Duration(wait) * time.Second}
		}
		return slackgo.StatusCodeError{Code: r.StatusCode, Status: r.Status}
	})
	var sc slackgo.StatusCodeError
	var rl *slackgo.RateLimitedError
	switch {
	case errors.As(err, &sc):
		return datasets.Info{}, &downloadError{status: sc.Code}
	case errors.As(err, &rl):
		return datasets.Info{}, &downloadError{status: http.StatusTooManyRequests}
	case err != nil:
		return datasets.Info{}, err
	case redirected:
		return datasets.Info{}, errFileRedirect
	}
	defer res.Body.Close()
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "text/html" {
		return datasets.Info{}, &downloadError{signIn: true}
	}
	if limit := s.cfg.Datasets.MaxBytes(); res.ContentLength > limit {
		return datasets.Info{}, &datasets.TooLargeError{Name: f.Name, Limit: limit}
	}
	return s.cfg.Datasets.AddContent(ctx, f.Name, res.Body)
}

// downloadTrouble says why a shared file was not stored, without the error's detail (which is
// logged) and never anything of the file's content.
func (s *Server) downloadTrouble(incidentID string, f slackgo.File, shown string, err error) string {
	s.cfg.Logger.Warn("slack shared file not stored", "incident", incidentID, "file", f.ID, "error", err)
	var tl *datasets.TooLargeError
	var de *downloadError
	switch {
	case errors.As(err, &tl):
		return fmt.Sprintf("%s is larger than the dataset store takes (%s, datasets.max_bytes): split the export, or have the limit raised.", shown, breachslack.ByteSize(tl.Limit))
	case errors.As(err, &de) && (de.signIn || de.status == http.StatusUnauthorized || de.status == http.StatusForbidden):
		answer := "a sign-in page"
		if !de.signIn {
			answer = "HTTP " + strconv.Itoa(de.status)
		}
		return fmt.Sprintf(":no_entry: Slack refused breach the download of %s (%s): breach serve's bot token (SLACK_BOT_TOKEN) is missing or wrong, or the app lacks the files:read scope (add it, then reinstall the app).", shown, answer)
	case errors.As(err, &de) && de.status == http.StatusNotFound:
		return fmt.Sprintf("Slack no longer has %s (HTTP 404): share it again, then run *%s* on the new message.", shown, breachslack.ShortcutName)
	case errors.As(err, &de):
		return fmt.Sprintf("Slack did not hand over %s (HTTP %d); try again in a minute.", shown, de.status)
	case errors.Is(err, errFileRedirect):
		return fmt.Sprintf(":no_entry: Slack sent breach elsewhere than its file host for %s, so it was not fetched.", shown)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("The download of %s took too long; try again, or add the export on the command line: `breach datasets add FILE.csv`.", shown)
	}
	return fmt.Sprintf("breach could not download or store %s; try again, or add the export on the command line: `breach datasets add FILE.csv`.", shown)
}
