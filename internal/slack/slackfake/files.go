package slackfake

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// File is a file a person shared in a channel. Slack hosts it at URLPrivateDownload, which
// answers only to the bot token (Authorization: Bearer); without it 401, with another 403.
type File struct {
	ID       string
	Name     string
	Mimetype string
	Filetype string
	// Size is what Slack says of the file; the body served is content.
	Size               int64
	URLPrivateDownload string
	content            []byte
}

// DownloadMethod is the name under which downloads of shared files are counted (Calls) and
// faults injected (SetFaults): a fault's Status answers the download.
const DownloadMethod = "files.download"

// ShareFile posts a message of user with a file into a channel user is a member of, as a
// person drags a CSV into Slack; the file's download URL is on this workspace's host.
func (w *Workspace) ShareFile(channelID, user, name string, content []byte) (Message, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.channels[channelID]
	if !ok {
		return Message{}, fmt.Errorf("no channel %s in the workspace", channelID)
	}
	if !contains(c.Members, user) {
		return Message{}, fmt.Errorf("%s is not a member of %s: Slack lets only members post there", user, channelID)
	}
	w.seq++
	id := fmt.Sprintf("F%08d", w.seq)
	f := File{ID: id, Name: name, Mimetype: "text/csv", Filetype: "csv", Size: int64(len(content)),
		URLPrivateDownload: strings.TrimSuffix(w.srv.GetAPIURL(), "/") + "/files-pri/" + DefaultTeam + "-" + id + "/download/" + url.PathEscape(name),
		content:            append([]byte(nil), content...)}
	if !strings.HasSuffix(strings.ToLower(name), ".csv") {
		f.Mimetype, f.Filetype = "application/octet-stream", "binary"
	}
	w.files = append(w.files, f)
	m := &Message{Channel: c.ID, TS: w.nextTS(), User: user, Files: []File{f}}
	w.messages[c.ID] = append(w.messages[c.ID], m)
	return *m, nil
}

// Join makes user a member of a channel, as a person who joins or is invited.
func (w *Workspace) Join(channelID, user string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.channels[channelID]
	if !ok {
		return fmt.Errorf("no channel %s in the workspace", channelID)
	}
	if !contains(c.Members, user) {
		c.Members = append(c.Members, user)
	}
	return nil
}

func fileJSON(f File, user string) map[string]any {
	return map[string]any{
		"id": f.ID, "name": f.Name, "title": f.Name, "mimetype": f.Mimetype, "filetype": f.Filetype,
		"pretty_type": strings.ToUpper(f.Filetype), "user": user, "mode": "hosted", "is_external": false,
		"size": f.Size, "url_private": strings.Replace(f.URLPrivateDownload, "/download/", "/", 1),
		"url_private_download": f.URLPrivateDownload,
	}
}

// download serves a shared file to the bot token.
func (w *Workspace) download(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.calls[DownloadMethod]++
	var f *Fault
	if w.faults != nil {
		f = w.faults(DownloadMethod, w.calls[DownloadMethod])
	}
	var file *File
	for i := range w.files {
		if strings.HasSuffix(w.files[i].URLPrivateDownload, r.URL.EscapedPath()) {
			file = &w.files[i]
		}
	}
	w.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method != http.MethodGet:
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	case auth == "":
		http.Error(rw, "not_authed", http.StatusUnauthorized)
	case auth != "Bearer "+w.Token:
		http.Error(rw, "invalid_auth", http.StatusForbidden)
	case f != nil && f.Status == http.StatusTooManyRequests:
		rw.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		http.Error(rw, "rate limited", f.Status)
	case f != nil && f.Status != 0:
		http.Error(rw, "<html>Slack is having trouble</html>", f.Status)
	case file == nil:
		http.Error(rw, "file_not_found", http.StatusNotFound)
	default:
		// Written at once: net/http sends a Content-Length for a small body, a big one chunked.
		rw.Header().Set("Content-Type", file.Mimetype)
		_, _ = rw.Write(file.content)
	}
}

// ShortcutPayload is the message_action payload of p running the message shortcut callbackID on
// m, as Slack sends it: the whole message with its files, the channel, and no api_app_id (Slack
// leaves it out of message shortcuts).
func (p *Person) ShortcutPayload(m Message, callbackID string) (map[string]any, error) {
	ch, ok := p.WS.Channel(m.Channel)
	if !ok {
		return nil, fmt.Errorf("no channel %s in the workspace", m.Channel)
	}
	if !contains(ch.Members, p.ID) {
		return nil, fmt.Errorf("%s is not a member of %s: Slack shows them no message there", p.ID, ch.ID)
	}
	n := p.n.Add(1)
	msg := messageJSON(&m)
	if len(m.Files) > 0 {
		var files []any
		for _, f := range m.Files {
			files = append(files, fileJSON(f, m.User))
		}
		msg["files"], msg["upload"] = files, true
	}
	return p.withEnterprise(map[string]any{
		"type":                  "message_action",
		"token":                 "verification-token-unused",
		"action_ts":             fmt.Sprintf("%d.%06d", p.now().Unix(), n),
		"team":                  p.teamJSON(),
		"user":                  map[string]any{"id": p.ID, "name": p.Name, "username": p.Name, "team_id": p.team()},
		"channel":               map[string]any{"id": ch.ID, "name": ch.Name},
		"is_enterprise_install": false,
		"callback_id":           callbackID,
		"trigger_id":            p.WS.NewTrigger(p.ID),
		"response_url":          p.WS.ResponseURL(fmt.Sprintf("%s/shortcut-%d", p.ID, n)),
		"message_ts":            m.TS,
		"message":               msg,
	}), nil
}

// Shortcut runs the message shortcut callbackID on message m.
func (p *Person) Shortcut(m Message, callbackID string) (Result, error) {
	payload, err := p.ShortcutPayload(m, callbackID)
	if err != nil {
		return Result{}, err
	}
	return p.interact(payload)
}
