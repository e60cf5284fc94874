package codec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	uiOrigin  = "http://127.0.0.1:8233"
	testToken = "s3cret-token-for-tests"
)

func newTestServer(t *testing.T, token string) (*httptest.Server, *Codec) {
	t.Helper()
	c := New(mustKeys(t, "k1="+testKey(t, 'a')))
	srv := httptest.NewServer(NewHandler(c, ServerOptions{Origins: []string{uiOrigin, "http://localhost:8233"}, Token: token}))
	t.Cleanup(srv.Close)
	return srv, c
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type request struct {
	method, path, origin, auth, body string
	headers                          map[string]string
}

func do(t *testing.T, srv *httptest.Server, r request) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.origin != "" {
		req.Header.Set("Origin", r.origin)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestServerCORSAndAuth(t *testing.T) {
	srv, c := newTestServer(t, testToken)
	enc := encodeOne(t, c, plainPayload(t, secretText))
	decodeBody := payloadsJSON(t, enc)
	for _, tc := range []struct {
		name       string
		req        request
		wantStatus int
		wantHeader map[string]string // "" means the header must be absent
		wantBody   string
		notInBody  string
	}{
		{
			name: "preflight from the UI",
			req: request{method: http.MethodOptions, path: "/decode", origin: uiOrigin,
				headers: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace,authorization"}},
			wantStatus: http.StatusNoContent,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": uiOrigin, "Access-Control-Allow-Headers": "Content-Type,X-Namespace,Authorization",
				"Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Credentials": "true"},
		},
		{
			name:       "preflight from another origin",
			req:        request{method: http.MethodOptions, path: "/decode", origin: "http://evil.example", headers: map[string]string{"Access-Control-Request-Method": "POST"}},
			wantStatus: http.StatusForbidden,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""},
			wantBody:   "--cors-origin http://evil.example",
		},
		{
			name:       "decode from another origin, with the token",
			req:        request{method: http.MethodPost, path: "/decode", origin: "http://evil.example", auth: "Bearer " + testToken, body: decodeBody},
			wantStatus: http.StatusForbidden,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""},
			notInBody:  secretText,
		},
		{
			name:       "decode without Authorization",
			req:        request{method: http.MethodPost, path: "/decode", origin: uiOrigin, body: decodeBody},
			wantStatus: http.StatusUnauthorized,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": uiOrigin, "WWW-Authenticate": `Bearer realm="breach codec"`},
			wantBody:   "Authorization: Bearer",
			notInBody:  secretText,
		},
		{
			name:       "decode with a wrong token",
			req:        request{method: http.MethodPost, path: "/decode", auth: "Bearer not-the-token", body: decodeBody},
			wantStatus: http.StatusUnauthorized,
			notInBody:  secretText,
		},
		{
			name:       "decode with the token but not as a bearer",
			req:        request{method: http.MethodPost, path: "/decode", auth: testToken, body: decodeBody},
			wantStatus: http.StatusUnauthorized,
			notInBody:  secretText,
		},
		{
			name:       "decode from the UI with the token",
			req:        request{method: http.MethodPost, path: "/decode", origin: uiOrigin, auth: "Bearer " + testToken, body: decodeBody, headers: map[string]string{"X-Namespace": "default"}},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": uiOrigin, "Content-Type": "application/json"},
			wantBody:   `"payloads"`,
		},
		{
			name:       "decode under a namespace path, from the CLI (no Origin)",
			req:        request{method: http.MethodPost, path: "/default/decode", auth: "Bearer " + testToken, body: decodeBody},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name:       "GET",
			req:        request{method: http.MethodGet, path: "/decode", auth: "Bearer " + testToken},
			wantStatus: http.StatusMethodNotAllowed,
		},
		{
			name:       "another path",
			req:        request{method: http.MethodPost, path: "/keys", auth: "Bearer " + testToken, body: decodeBody},
			wantStatus: http.StatusNotFound,
		},
		{
			name:       "not JSON",
			req:        request{method: http.MethodPost, path: "/decode", auth: "Bearer " + testToken, body: "{"},
			wantStatus: http.StatusBadRequest,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv, tc.req)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			for k, want := range tc.wantHeader {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if tc.wantBody != "" && !strings.Contains(body, tc.wantBody) {
				t.Errorf("body %q does not say %q", body, tc.wantBody)
			}
			if tc.notInBody != "" && strings.Contains(body, tc.notInBody) {
				t.Errorf("a refused request got the plaintext: %q", body)
			}
		})
	}
}

// The SDK's remote codec, the client side of the protocol the Temporal CLI and UI speak, round
// trips through the server; the server's answers are the codec's.
func TestServerRoundTripThroughRemoteCodec(t *testing.T) {
	for _, tc := range []struct {
		name, token, auth string
	}{
		{"with a token", testToken, "Bearer " + testToken},
		{"without a token (loopback)", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, local := newTestServer(t, tc.token)
			remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
				Endpoint: srv.URL + "/default",
				ModifyRequest: func(r *http.Request) error {
					if tc.auth != "" {
						r.Header.Set("Authorization", tc.auth)
					}
					return nil
				},
			})
			plain := plainPayload(t, secretText)
			enc, err := remote.Encode([]*commonpb.Payload{plain})
			if err != nil {
				t.Fatalf("remote encode: %v", err)
			}
			if string(enc[0].Metadata[converter.MetadataEncoding]) != EncodingEncrypted || strings.Contains(string(enc[0].Data), "Quokka") {
				t.Fatalf("/encode did not encrypt: %v", enc[0])
			}
			// What the server encrypted, the workers' codec reads, and the other way round.
			if got, err := local.Decode(enc); err != nil || string(got[0].Data) != string(plain.Data) {
				t.Fatalf("the local codec reads the server's payload as %v, %v", got, err)
			}
			dec, err := remote.Decode([]*commonpb.Payload{encodeOne(t, local, plain), plain})
			if err != nil {
				t.Fatalf("remote decode: %v", err)
			}
			for i, p := range dec {
				if string(p.Data) != string(plain.Data) {
					t.Errorf("payload %d decoded to %q, want %q", i, p.Data, plain.Data)
				}
			}
		})
	}
}

func TestServerDecodeErrorNamesTheKey(t *testing.T) {
	srv, _ := newTestServer(t, "")
	foreign := encodeOne(t, New(mustKeys(t, "k7="+testKey(t, 'q'))), plainPayload(t, secretText))
	resp, body := do(t, srv, request{method: http.MethodPost, path: "/decode", body: payloadsJSON(t, foreign)})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `key "k7"`) || strings.Contains(body, testKey(t, 'a')) {
		t.Fatalf("status %d, body %q: want 400 naming key k7 and no key material", resp.StatusCode, body)
	}
}
