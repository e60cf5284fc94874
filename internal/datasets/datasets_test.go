package datasets

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/breachops/breach/internal/store/storetest"
	"github.com/stretchr/testify/require"
)

func newStore(t *testing.T, max int64) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "datasets"), max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAddListOpen(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 0)
	info, err := s.Add(ctx, "march-export.csv", strings.NewReader("id,email\n1,a@example.net\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if info.Ref != "dataset:march-export.csv" || info.Size != 25 || len(info.SHA256) != 64 {
		t.Fatalf("info %+v", info)
	}
	if _, err := s.Add(ctx, "march-export.csv", strings.NewReader("x"), false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("adding over an existing dataset without replace: %v", err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Name != "march-export.csv" {
		t.Fatalf("list %+v, %v", list, err)
	}
	f, err := s.Open(ctx, info.Ref)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if string(b) != "id,email\n1,a@example.net\n" {
		t.Fatalf("read back %q", b)
	}
}

func TestAddFileNamesByContent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 0)
	dir := t.TempDir()
	p := filepath.Join(dir, "Affected customers (März).csv")
	if err := os.WriteFile(p, []byte("id,email\n1,a@example.net\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddFile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if ValidateName(a.Name) != nil || !strings.HasPrefix(a.Name, "Affected-customers--M-rz-") || !strings.HasSuffix(a.Name, ".csv") {
		t.Fatalf("derived name %q", a.Name)
	}
	again, err := s.AddFile(ctx, p)
	if err != nil || again.Name != a.Name {
		t.Fatalf("the same file added twice: %q then %q (%v)", a.Name, again.Name, err)
	}
	if err := os.WriteFile(p, []byte("id,email\n2,b@example.net\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed, err := s.AddFile(ctx, p)
	if err != nil || changed.Name == a.Name {
		t.Fatalf("a changed file must be a new dataset: %q (%v)", changed.Name, err)
	}
}

// A stream (a file shared in Slack) is stored under the name AddFile gives the same file: its
// base name and the start of its hash; the same content again is the same dataset.
func TestAddContent(t *testing.T) {
	ctx := context.Background()
	const content = "id,email\n1,a@example.net\n"
	tests := []struct {
		name, base, prefix string
	}{
		{"a plain file name", "march export.csv", "march-export-"},
		{"a path is only its base name", "../../etc/subjects.CSV", "subjects-"},
		{"nothing usable", "///", "subjects-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, 0)
			info, err := s.AddContent(ctx, tt.base, strings.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			if ValidateName(info.Name) != nil || !strings.HasPrefix(info.Name, tt.prefix) || !strings.HasSuffix(info.Name, ".csv") || info.Size != int64(len(content)) {
				t.Fatalf("stored as %+v", info)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, filepath.Base(tt.base))
			if tt.base == "///" {
				p = filepath.Join(dir, ".csv")
			}
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.base != "///" {
				if same, err := s.AddFile(ctx, p); err != nil || same.Name != info.Name {
					t.Fatalf("AddFile names the same file %q, AddContent %q (%v)", same.Name, info.Name, err)
				}
			}
			again, err := s.AddContent(ctx, tt.base, strings.NewReader(content))
			if err != nil || again.Name != info.Name || again.SHA256 != info.SHA256 {
				t.Fatalf("the same content again: %+v (%v)", again, err)
			}
			if list, _ := s.List(); len(list) != 1 {
				t.Fatalf("the store holds %+v", list)
			}
			entries, _ := os.ReadDir(s.Dir())
			if len(entries) != 1 {
				t.Fatalf("left behind in the store: %v", entries)
			}
		})
	}
}

func TestAddContentOverTheLimitLeavesNothing(t *testing.T) {
	s := newStore(t, 10)
	_, err := s.AddContent(context.Background(), "big.csv", strings.NewReader(strings.Repeat("x", 11)))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 10 || tl.Name != "big.csv" {
		t.Fatalf("an 11-byte stream in a 10-byte store: %v", err)
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) != 0 {
		t.Fatalf("a refused stream left %v behind", entries)
	}
	failing := io.MultiReader(strings.NewReader("id,email\n"), iotestErrReader{})
	if _, err := s.AddContent(context.Background(), "cut.csv", failing); err == nil {
		t.Fatal("a stream that fails was stored")
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) != 0 {
		t.Fatalf("a failed stream left %v behind", entries)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestLimits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 10)
	_, err := s.Add(ctx, "big.csv", strings.NewReader(strings.Repeat("x", 11)), false)
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("an 11-byte dataset in a 10-byte store: %v", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("a refused dataset left %+v behind", list)
	}
	if _, err := s.Add(ctx, "fits.csv", strings.NewReader(strings.Repeat("x", 10)), false); err != nil {
		t.Fatal(err)
	}
	// A file grown in the store past the limit is refused when opened.
	if err := os.WriteFile(filepath.Join(s.Dir(), "grown.csv"), []byte(strings.Repeat("x", 20)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, Ref("grown.csv")); !errors.As(err, &tl) {
		t.Fatalf("opening a dataset over the limit: %v", err)
	}
}

// Nothing a person names reaches outside the store: not a path, not a link, not `..`.
func TestOpenStaysInTheStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 0)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("TOKEN=hunter2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/environ", filepath.Join(s.Dir(), "environ.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "sub.csv"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(s.Dir(), "fifo.csv"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{
		outside, "file://" + outside, "/proc/self/environ", "dataset:../secret.txt", "dataset:/etc/passwd",
		"dataset:link.csv", "dataset:environ.csv", "dataset:sub.csv", "dataset:fifo.csv", "dataset:.hidden", "",
	} {
		f, err := s.Open(ctx, ref)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", ref)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): the error quotes the file: %v", ref, err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("List shows links, directories or pipes: %+v", list)
	}
}

func TestNameOf(t *testing.T) {
	for ref, ok := range map[string]bool{
		"dataset:a.csv": true, "dataset:A_b-1.csv": true, "a.csv": false, "/data/a.csv": false,
		"file:///data/a.csv": false, "dataset:": false, "dataset:-a": false, "dataset:a/b": false, "dataset:a..b": false,
	} {
		if _, err := NameOf(ref); (err == nil) != ok {
			t.Errorf("NameOf(%q): %v, want ok %t", ref, err, ok)
		}
	}
}

// In a shared store the datasets behave as in a directory: a file added twice is one dataset, a
// dataset over the limit leaves nothing behind, one that is not there is named with the fix,
// and what was added reads back whole from another handle on the same bucket.
func TestSharedStore(t *testing.T) {
	ctx := context.Background()
	bucket := storetest.Store(t, "datasets")
	s := OnStore(bucket, 64)
	other := OnStore(bucket, 64)
	path := filepath.Join(t.TempDir(), "customers export.csv")
	content := "id,email\n1,a@example.net\n"
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	first, err := s.AddFile(ctx, path)
	require.NoError(t, err)
	again, err := other.AddFile(ctx, path)
	require.NoError(t, err)
	require.Equal(t, first.Name, again.Name)
	require.Regexp(t, `^customers-export-[0-9a-f]{12}\.csv$`, first.Name)
	f, err := other.Open(ctx, first.Ref)
	require.NoError(t, err)
	data, err := io.ReadAll(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, content, string(data))

	_, err = s.AddContent(ctx, "big.csv", strings.NewReader(strings.Repeat("x", 65)))
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	_, err = s.Add(ctx, "big.csv", strings.NewReader(strings.Repeat("x", 65)), true)
	require.ErrorAs(t, err, &tl)
	list, err := other.List()
	require.NoError(t, err)
	require.Len(t, list, 1, "a dataset over the limit left something behind: %+v", list)

	shared, err := s.AddContent(ctx, "from slack.csv", strings.NewReader(content))
	require.NoError(t, err)
	require.Equal(t, first.SHA256, shared.SHA256)
	_, err = s.Add(ctx, first.Name, strings.NewReader(content), false)
	require.ErrorContains(t, err, "already exists")

	_, err = s.Open(ctx, Ref("missing.csv"))
	require.ErrorContains(t, err, "breach datasets add")
}
