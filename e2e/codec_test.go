package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
)

// Incident text the codec test declares: each word is distinctive, so finding it anywhere in
// what Temporal holds can only mean the text leaked.
const (
	codecTitle       = "Quokka ledger exposed through a shared link"
	codecDescription = "The marmalade archive share listed every ledger for nine days."
	codecReasoning   = "Zebrafinch analysis: the ledgers name customers and their orders."
	codecSystem      = "vault-zebra-7"
)

// Incident data reaches Temporal encrypted. The pinned Temporal CLI, reading every workflow's
// history straight from the server, finds every payload (inputs, results, Update arguments,
// memos) encrypted and none of the title, description, reasoning or system name; through
// `breach codec-server` it reads them all.
func TestIncidentDataEncryptedInTemporal(t *testing.T) {
	s := startStack(t, stackOptions{systems: []system{{Name: codecSystem, Provider: "dry-run", Addresses: []string{"198.51.100.77"}}}})
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, []subjectRow{
		{"C1", "lea.weber@example.net", "Léa Weber", "DE", "contact"},
		{"C2", "jonas.keller@example.org", "Jonas Keller", "AT", "contact;order-history"},
	})
	w := s.startWorker()
	args := []string{"--title", codecTitle, "--description", codecDescription, "--system", codecSystem,
		"--subjects", csvPath, "--as", commander, "--key", "e2e-codec"}
	d := s.declare(args...)
	// The key's hash is a memo, encrypted like every payload: declaring again finds the
	// incident through it.
	if again := s.declare(args...); !again.Existing || again.IncidentID != d.IncidentID {
		t.Fatalf("declaring again with the same key gave %+v, want the existing %s", again, d.IncidentID)
	}

	p := newPilot(s, d.IncidentID, w)
	p.idle(2*time.Minute, "the decision to be pending, the system contained", func(st incident.Status) bool {
		return hasPending(st, incident.UpdateDecide) && len(st.Containment) == 1 && st.Containment[0].State == incident.ContainContained
	})
	s.mustBreach("decide", d.IncidentID, "--risk", "high", "--as", dpo, "--reasoning", codecReasoning,
		"--consequences", "Phishing.", "--measures", "Isolated.", "--advice", "Be wary.")
	p.idle(time.Minute, "the decision to be recorded", func(st incident.Status) bool { return st.Decision != nil })

	secrets := []string{"quokka", "marmalade", "zebrafinch", codecSystem}
	ids := s.workflowIDs()
	plain := s.temporalShow(t, ids)
	if plain.payloads < 10 {
		t.Fatalf("the histories hold %d payloads: the scan would prove little", plain.payloads)
	}
	if len(plain.encodings) != 1 || plain.encodings[codec.EncodingEncrypted] == 0 {
		t.Errorf("payload encodings without the codec: %v; want every payload %s", plain.encodings, codec.EncodingEncrypted)
	}
	// Workflow IDs are not payloads, and name no system: the whole history, IDs included,
	// must hold none of the secrets.
	text := plain.text
	for _, secret := range secrets {
		if i := strings.Index(text, secret); i >= 0 {
			t.Errorf("%q is readable in Temporal without the codec: …%s…", secret, text[max(i-200, 0):min(i+200, len(text))])
		}
	}
	if !strings.Contains(strings.Join(ids, " "), "/contain/1") {
		t.Errorf("workflow IDs %v: no containment child; the scan did not see the whole incident", ids)
	}

	// The codec server, with a token, gives the CLI the plaintext.
	addr := freeHostPort(t)
	token := randomToken(t)
	s.startProc("codec-server.log", []string{"E2E_CODEC_TOKEN=" + token},
		"codec-server", "--listen", addr, "--auth-token-env", "E2E_CODEC_TOKEN")
	waitFor(t, 30*time.Second, "the codec server to listen on "+addr, func() (bool, string) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, err.Error() + "\n" + tail(filepath.Join(s.dir, "codec-server.log"), 10)
		}
		c.Close()
		return true, ""
	})
	decoded := s.temporalShow(t, ids, "--codec-endpoint", "http://"+addr, "--codec-auth", "Bearer "+token)
	if decoded.encodings[codec.EncodingEncrypted] != 0 || decoded.encodings["json/plain"] == 0 {
		t.Errorf("payload encodings through the codec server: %v; want them decrypted (json/plain)", decoded.encodings)
	}
	for _, secret := range secrets {
		if !strings.Contains(decoded.text, secret) {
			t.Errorf("%q is not in the histories read through the codec server", secret)
		}
	}
	// Without the token the codec server decrypts nothing.
	refused, err := s.runTemporal(t, ids[0], "--codec-endpoint", "http://"+addr)
	if err == nil && strings.Contains(strings.ToLower(refused), "quokka") {
		t.Errorf("the codec server decrypted for a CLI without the token")
	}
	if log := readFile(t, filepath.Join(s.dir, "codec-server.log")); !strings.Contains(log, "status=401") {
		t.Errorf("the codec server log shows no refused request:\n%s", log)
	}
}

// A CLI whose keys differ from the worker's: the incident it declares waits, both sides say
// which key is missing and how to fix it, and once the worker holds the key the incident goes on.
func TestCodecKeysMustAgree(t *testing.T) {
	s := startStack(t, stackOptions{})
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, []subjectRow{{"C1", "lea.weber@example.net", "Léa Weber", "DE", "contact"}})
	w := s.startWorker()
	// With no key configured, the embedded default: a key file in BREACH_HOME, owner-only.
	keyFile := codec.LocalKeyPath(s.home)
	waitFor(t, time.Minute, "the worker to create "+keyFile, func() (bool, string) {
		_, err := os.Stat(keyFile)
		return err == nil, tail(w.log, 5)
	})
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", keyFile, st, err)
	}

	other := "cli-only=" + base64.StdEncoding.EncodeToString(randomBytes(t, 32))
	otherEnv := []string{codec.EnvKeys + "=" + other}
	r := s.breachWith(otherEnv, "declare", "--json", "--title", "Declared with another key", "--system", "shop-db", "--subjects", csvPath, "--as", commander)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var d declared
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("declare --json: %v\n%s", err, r)
	}

	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"a CLI with the worker's keys", nil, []string{`encrypted with key "cli-only"`, "holds only local-", "keep failing", codec.EnvKeys}},
		{"the CLI with the other key", otherEnv, []string{`encrypted with key "local-`, "holds only cli-only", "keep failing", codec.EnvKeys}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last cliResult
			waitFor(t, time.Minute, "breach status to say which key is missing", func() (bool, string) {
				last = s.breachWith(tc.env, "status", d.IncidentID)
				if last.code == 0 {
					t.Fatalf("breach status of an incident no worker can read succeeded:\n%s", last)
				}
				for _, want := range tc.want {
					if !strings.Contains(last.stderr, want) {
						return false, last.String()
					}
				}
				return true, ""
			})
			if strings.Contains(last.stderr, other[len("cli-only="):]) {
				t.Fatalf("the error prints a key:\n%s", last)
			}
		})
	}
	if log := readFile(t, w.log); !strings.Contains(log, `encrypted with key \"cli-only\"`) {
		t.Errorf("the worker log does not say which key it lacks:\n%s", tail(w.log, 10))
	}

	// The worker gets the CLI's key as an old one: the incident goes on where it stopped.
	w.stop()
	local, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	both := filepath.Join(s.dir, "both-keys")
	writeFile(t, both, string(local)+other+"\n")
	w = s.startWorkerWith([]string{codec.EnvKeysFile + "=" + both})
	newPilot(s, d.IncidentID, w).idle(2*time.Minute, "the incident to run once the worker holds both keys", func(st incident.Status) bool {
		return hasPending(st, incident.UpdateDecide)
	})
}

// workflowIDs lists every workflow the server knows.
func (s *stack) workflowIDs() []string {
	s.tb.Helper()
	seen := map[string]bool{}
	var token []byte
	for {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			s.tb.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			seen[e.GetExecution().GetWorkflowId()] = true
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// shown is what the Temporal CLI printed for some histories.
type shown struct {
	// text is every string in the output, lowercased, and each base64 string also decoded.
	text string
	// encodings counts payloads by their encoding (search attributes aside: Temporal must read them).
	encodings map[string]int
	payloads  int
}

// temporalShow runs `temporal workflow show -o json` of the pinned CLI for each workflow, with
// extra flags, and collects what it printed.
func (s *stack) temporalShow(t *testing.T, ids []string, extra ...string) shown {
	t.Helper()
	out := shown{encodings: map[string]int{}}
	var b strings.Builder
	for _, id := range ids {
		raw, err := s.runTemporal(t, id, extra...)
		if err != nil {
			t.Fatalf("temporal workflow show -w %s %s: %v\n%s", id, strings.Join(extra, " "), err, raw)
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatalf("temporal workflow show -w %s -o json printed no JSON: %v\n%s", id, err, raw)
		}
		collect(v, false, &b, &out)
	}
	out.text = strings.ToLower(b.String())
	return out
}

func (s *stack) runTemporal(t *testing.T, id string, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"workflow", "show", "--address", s.addr, "--namespace", "default", "-w", id, "-o", "json"}, extra...)
	cmd := exec.CommandContext(ctx, temporalBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = errors.New(ee.Error() + ": " + stderr.String())
		}
	}
	return stdout.String(), err
}

// collect writes every key and string of v to b, and each base64 string decoded too, and counts
// payloads (maps with metadata.encoding) by encoding, except search attributes.
func collect(v any, inSearchAttributes bool, b *strings.Builder, out *shown) {
	switch x := v.(type) {
	case map[string]any:
		if md, ok := x["metadata"].(map[string]any); ok && !inSearchAttributes {
			if enc, ok := md["encoding"].(string); ok {
				out.payloads++
				if raw, err := base64.StdEncoding.DecodeString(enc); err == nil {
					enc = string(raw)
				}
				out.encodings[enc]++
			}
		}
		for k, e := range x {
			b.WriteString(k)
			b.WriteByte('\n')
			collect(e, inSearchAttributes || k == "searchAttributes", b, out)
		}
	case []any:
		for _, e := range x {
			collect(e, inSearchAttributes, b, out)
		}
	case string:
		b.WriteString(x)
		b.WriteByte('\n')
		if raw, err := base64.StdEncoding.DecodeString(x); err == nil {
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randomToken(t *testing.T) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString(randomBytes(t, 24))
}
