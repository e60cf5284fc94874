package ingress_test

import (
	"net/url"
	"testing"

	"github.com/breachops/breach/internal/ingress"
)

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte(exampleBody))
	f.Add([]byte("command=%2Fbreach&text=declare+Customer+DB&user_id=U1&trigger_id=1.2.3&response_url=http%3A%2F%2Fx"))
	f.Add([]byte("command=%2Fbreach&user_id=U1&text=%ZZ"))
	f.Add([]byte("a=1&a=2;b=3"))
	f.Add([]byte(""))
	f.Add([]byte("{\"json\":true}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmd, err := ingress.ParseCommand(body)
		if err == nil && (cmd.Command == "" || cmd.UserID == "") {
			t.Fatalf("accepted a command without command or user: %+v", cmd)
		}
	})
}

func FuzzParseInteraction(f *testing.F) {
	for _, p := range []string{
		`{"type":"block_actions","user":{"id":"U1"},"trigger_id":"t","actions":[{"action_id":"breach_close","value":"INC-20261128-7F3A close","action_ts":"1.2"}],"message":{"ts":"1.2","blocks":[{"type":"actions","block_id":"breach_actions","elements":[{"type":"button","action_id":"breach_close","text":{"type":"plain_text","text":"x"}}]}]}}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1","callback_id":"breach_decide","private_metadata":"{\"i\":\"INC-20261128-7F3A\"}","state":{"values":{"risk":{"risk":{"type":"radio_buttons","selected_option":{"value":"high"}}}}}}}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"state":{"values":{"a":{"b":{"type":"datetimepicker","selected_date_time":-1}}}}}}`,
		`{"type":"block_actions","user":{"id":"U1"},"message":{"blocks":[{"type":"nonsense"}]}}`,
		`{"type":"shortcut"}`,
		`[]`,
		`{"type":"block_actions","user":{"id":"U1"},"message":{"blocks":{"not":"a list"}}}`,
	} {
		f.Add([]byte(url.Values{"payload": {p}}.Encode()))
	}
	f.Add([]byte("payload="))
	f.Add([]byte("payload=%7B"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := ingress.ParseInteraction(body)
		if err == nil && (cb.Type == "" || cb.User.ID == "") {
			t.Fatalf("accepted an interaction without type or user: %+v", cb)
		}
	})
}
