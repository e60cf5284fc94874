package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// testKey is a fixed 32-byte key, base64, made from a letter so that tests can tell keys apart.
func testKey(t *testing.T, fill byte) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, keySize))
}

func mustKeys(t *testing.T, text string) *Keys {
	t.Helper()
	k, err := ParseKeys(text, "test keys")
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

// secretText is incident data that must never appear in an encrypted payload.
const secretText = "Quokka ledger exposed on vault-zebra-7"

func plainPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encodeOne(t *testing.T, c *Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("Encode returned %d payloads for 1", len(out))
	}
	return out[0]
}

func TestEncodeEncryptsWholePayloadAndRoundTrips(t *testing.T) {
	c := New(mustKeys(t, "k1="+testKey(t, 'a')))
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"a string", secretText},
		{"a struct", struct{ Title, Reasoning string }{secretText, "names and addresses downloaded"}},
		{"nil", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := plainPayload(t, tc.value)
			enc := encodeOne(t, c, plain)
			if got := string(enc.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
				t.Errorf("encoding %q, want %q", got, EncodingEncrypted)
			}
			if got := string(enc.Metadata[MetadataKeyID]); got != "k1" {
				t.Errorf("key id %q, want k1", got)
			}
			if len(enc.Metadata) != 2 {
				t.Errorf("metadata %v: the original metadata must be inside the ciphertext, not beside it", enc.Metadata)
			}
			if bytes.Contains(enc.Data, []byte("Quokka")) || bytes.Contains(enc.Data, []byte("json/plain")) {
				t.Errorf("the encrypted payload shows its plaintext: %q", enc.Data)
			}
			dec, err := c.Decode([]*commonpb.Payload{enc})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(dec[0].Data, plain.Data) || string(dec[0].Metadata[converter.MetadataEncoding]) != string(plain.Metadata[converter.MetadataEncoding]) {
				t.Errorf("round trip gave %v, want %v", dec[0], plain)
			}
		})
	}
}

func TestEveryPayloadGetsItsOwnNonce(t *testing.T) {
	c := New(mustKeys(t, "k1="+testKey(t, 'a')))
	p := plainPayload(t, secretText)
	a, b := encodeOne(t, c, p), encodeOne(t, c, p)
	if bytes.Equal(a.Data[:nonceSize], b.Data[:nonceSize]) || bytes.Equal(a.Data, b.Data) {
		t.Fatal("the same payload encrypted twice gave the same nonce or ciphertext")
	}
}

func TestDecode(t *testing.T) {
	old := New(mustKeys(t, "k1="+testKey(t, 'a')))
	rotated := New(mustKeys(t, "k2="+testKey(t, 'b')+", k1="+testKey(t, 'a')))
	other := New(mustKeys(t, "k3="+testKey(t, 'c')))
	reused := New(mustKeys(t, "k1="+testKey(t, 'z')))
	plain := plainPayload(t, secretText)
	byOld := encodeOne(t, old, plain)

	tampered := encodeOne(t, old, plain)
	tampered.Data[len(tampered.Data)-1] ^= 1
	relabelled := encodeOne(t, rotated, plain)
	relabelled.Metadata[MetadataKeyID] = []byte("k1")
	noKeyID := encodeOne(t, old, plain)
	delete(noKeyID.Metadata, MetadataKeyID)
	short := encodeOne(t, old, plain)
	short.Data = short.Data[:10]

	for _, tc := range []struct {
		name    string
		codec   *Codec
		in      *commonpb.Payload
		wantErr []string // parts of the error; none: decodes to plain
	}{
		{"rotation: the new ring still decrypts the old key's payloads", rotated, byOld, nil},
		{"plaintext from before encryption passes through", old, plain, nil},
		{"a key id this process does not hold", other, byOld, []string{`encrypted with key "k1"`, "holds only k3 (from test keys)", "pid ", EnvKeys, EnvKeysFile}},
		{"altered ciphertext", old, tampered, []string{`key "k1"`, "authentication failed", "altered"}},
		{"metadata pointing at another key", rotated, relabelled, []string{`key "k1"`, "authentication failed"}},
		{"an id reused for another key", reused, byOld, []string{`key "k1"`, "authentication failed", "id reused"}},
		{"no key id", old, noKeyID, []string{MetadataKeyID}},
		{"too short", old, short, []string{"too short"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.codec.Decode([]*commonpb.Payload{tc.in})
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !bytes.Equal(out[0].Data, plain.Data) {
					t.Fatalf("decoded %q, want %q", out[0].Data, plain.Data)
				}
				return
			}
			if err == nil {
				t.Fatalf("decoded %v, want an error", out)
			}
			var taskFailure *converter.WorkflowTaskFailureError
			if !errors.As(err, &taskFailure) {
				t.Errorf("%v is not a WorkflowTaskFailureError: inside a workflow task it would fail the workflow instead of the task", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
			for _, key := range []string{testKey(t, 'a'), testKey(t, 'b'), testKey(t, 'c'), testKey(t, 'z')} {
				if strings.Contains(err.Error(), key) {
					t.Errorf("the error prints a key: %q", err)
				}
			}
		})
	}
}

func TestRotationEncryptsWithTheFirstKey(t *testing.T) {
	c := New(mustKeys(t, "k2="+testKey(t, 'b')+"\nk1="+testKey(t, 'a')))
	if got := string(encodeOne(t, c, plainPayload(t, secretText)).Metadata[MetadataKeyID]); got != "k2" {
		t.Fatalf("encrypted with %q, want the first key k2", got)
	}
}

func TestDataConverterAndFailureConverter(t *testing.T) {
	keys := mustKeys(t, "k1="+testKey(t, 'a'))
	dc := NewDataConverter(keys)
	p, err := dc.ToPayload(secretText)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p.Data), "Quokka") || string(p.Metadata[MetadataKeyID]) != "k1" {
		t.Fatalf("the data converter does not encrypt: %v", p)
	}
	var got string
	if err := dc.FromPayload(p, &got); err != nil || got != secretText {
		t.Fatalf("FromPayload: %q, %v", got, err)
	}

	fc := NewFailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("isolate "+secretText+" failed", "Isolation"))
	if strings.Contains(f.GetMessage(), "Quokka") || f.GetEncodedAttributes() == nil {
		t.Fatalf("the failure message is not encrypted: %q", f.GetMessage())
	}
	if string(f.GetEncodedAttributes().Metadata[converter.MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("the failure's attributes are not encrypted: %v", f.GetEncodedAttributes())
	}
	if err := fc.FailureToError(f); !strings.Contains(err.Error(), secretText) {
		t.Fatalf("the failure does not decode: %v", err)
	}

	stranger := NewFailureConverter(NewDataConverter(mustKeys(t, "k9="+testKey(t, 'c'))))
	err = stranger.FailureToError(f)
	if !strings.Contains(err.Error(), "encrypted failure") || !strings.Contains(err.Error(), `key "k1"`) || strings.Contains(err.Error(), "Quokka") {
		t.Fatalf("a failure this process cannot decrypt reads %q; want it to say which key it needs", err)
	}
}

func TestParseKeys(t *testing.T) {
	a, b := testKey(t, 'a'), testKey(t, 'b')
	for _, tc := range []struct {
		name    string
		text    string
		wantIDs []string
		wantErr string
	}{
		{"one", "k1=" + a, []string{"k1"}, ""},
		{"commas", "k2=" + b + ",k1=" + a, []string{"k2", "k1"}, ""},
		{"lines and comments", "# keys\nk2=" + b + "  # new\n\nk1=" + a + "\n", []string{"k2", "k1"}, ""},
		{"url-safe, unpadded", "k1=" + strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(a), "="), []string{"k1"}, ""},
		{"empty", " # nothing\n", nil, "holds no key"},
		{"no id", a, nil, "is not id=base64key"},
		{"no id, unpadded", strings.TrimRight(a, "="), nil, "is not id=base64key"},
		{"no key", "k1=", nil, "is not id=base64key"},
		{"bad id", "k 1=" + a, nil, "is not id=base64key"},
		{"id with a slash", "team/k1=" + a, nil, "the key id before '='"},
		{"duplicate id", "k1=" + a + ",k1=" + b, nil, `"k1" appears twice`},
		{"not base64", "k1=not*base64", nil, "not base64"},
		{"16 bytes", "k1=" + base64.StdEncoding.EncodeToString(make([]byte, 16)), nil, "decodes to 16 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeys(tc.text, "SRC")
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("accepted %q", tc.text)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "SRC") {
					t.Errorf("error %q does not start with the source and say %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), a) || strings.Contains(err.Error(), b) || strings.Contains(err.Error(), "not*base64") {
					t.Errorf("the error prints key material: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(k.IDs(), ","); got != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ids %s, want %s", got, strings.Join(tc.wantIDs, ","))
			}
			if k.Current() != tc.wantIDs[0] {
				t.Errorf("current key %s, want %s", k.Current(), tc.wantIDs[0])
			}
			if s := k.String(); strings.Contains(s, a) || strings.Contains(s, b) {
				t.Errorf("String prints a key: %s", s)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	a := testKey(t, 'a')
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	if err := os.WriteFile(file, []byte("from-file="+a+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		src        Source
		wantSource string
		wantErr    string
	}{
		{"the environment", Source{Keys: "env=" + a, Home: dir}, EnvKeys, ""},
		{"a file", Source{KeysFile: file, Home: dir}, file, ""},
		{"both", Source{Keys: "env=" + a, KeysFile: file}, "", "set one of them"},
		{"a missing file", Source{KeysFile: filepath.Join(dir, "nope")}, "", EnvKeysFile + "=" + filepath.Join(dir, "nope")},
		{"nothing, and no local file may be created", Source{Home: filepath.Join(dir, "empty-home")}, "", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Load(tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Source != tc.wantSource {
				t.Errorf("source %q, want %q", k.Source, tc.wantSource)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "empty-home")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created a home without CreateLocal: %v", err)
	}
}

// The embedded default: the first process creates one key file, owner-only; every process on the
// same home, even starting at once, reads the same keys.
func TestLoadCreatesOneLocalKeyFile(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	const n = 8
	rings := make([]*Keys, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rings[i], errs[i] = Load(Source{Home: home, CreateLocal: true})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
	}
	st, err := os.Stat(LocalKeyPath(home))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", LocalKeyPath(home), st.Mode().Perm())
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("%s holds %d files, want only %s", home, len(entries), LocalKeyFile)
	}
	enc := encodeOne(t, New(rings[0]), plainPayload(t, secretText))
	for i, k := range rings {
		if k.Current() != rings[0].Current() || !strings.HasPrefix(k.Current(), "local-") {
			t.Fatalf("process %d got key %s, process 0 %s", i, k.Current(), rings[0].Current())
		}
		if _, err := New(k).Decode([]*commonpb.Payload{enc}); err != nil {
			t.Fatalf("process %d cannot read process 0's payload: %v", i, err)
		}
	}
	again, err := Load(Source{Home: home, CreateLocal: true})
	if err != nil || again.Current() != rings[0].Current() {
		t.Fatalf("a later start got %v, %v; want the same key %s", again, err, rings[0].Current())
	}

	// Opened up to other users, the key file is refused until it is private again.
	if err := os.Chmod(LocalKeyPath(home), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Source{Home: home, CreateLocal: true}); err == nil || !strings.Contains(err.Error(), "chmod 600 "+LocalKeyPath(home)) {
		t.Fatalf("a key file readable by others was accepted: %v", err)
	}
}
