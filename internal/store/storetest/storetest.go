// Package storetest runs an S3-compatible server for tests: gofakes3, in memory, on loopback.
// It speaks the S3 REST protocol the AWS SDK uses (path-style addressing, conditional writes),
// so a store opened on its URL goes through the same driver as one on AWS or MinIO.
package storetest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/store"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials of the test server: it checks none, the SDK needs some.
var Env = []string{
	"AWS_ACCESS_KEY_ID=breach-test", "AWS_SECRET_ACCESS_KEY=breach-test-secret",
	"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
}

// S3 starts a server holding one empty bucket and returns the store URL that reaches it; the
// processes that open it need Env. The server stops with the test.
func S3(tb testing.TB, bucket string) string {
	tb.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		tb.Fatalf("create the test bucket %s: %v", bucket, err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	tb.Cleanup(srv.Close)
	return "s3://" + bucket + "?endpoint=" + url.QueryEscape(srv.URL) + "&use_path_style=true&disable_https=true&region=us-east-1"
}

// Store sets Env for the test and opens a store on a new server's bucket.
func Store(tb testing.TB, bucket string) *store.Store {
	tb.Helper()
	for _, kv := range Env {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	st, err := store.Open(context.Background(), S3(tb, bucket), "")
	if err != nil {
		tb.Fatalf("open the test store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
