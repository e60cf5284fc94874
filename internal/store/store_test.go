package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/store/storetest"
)

// stores opens the two kinds a worker uses: a directory, and an S3-compatible service.
func stores(t *testing.T) map[string]*store.Store {
	t.Helper()
	for _, kv := range storetest.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	local, err := store.Open(context.Background(), "", t.TempDir())
	require.NoError(t, err)
	s3, err := store.Open(context.Background(), storetest.S3(t, "breach-records"), "")
	require.NoError(t, err)
	t.Cleanup(func() { local.Close(); s3.Close() })
	return map[string]*store.Store{"local": local, "s3": s3}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			key := "incidents/INC-20261128-7F3A9C2E1B4D5A6F/scope/duplicates"
			_, err := s.Get(ctx, key)
			require.ErrorIs(t, err, store.ErrNotFound)
			ok, err := s.Exists(ctx, key)
			require.NoError(t, err)
			assert.False(t, ok)

			require.NoError(t, s.Put(ctx, key, []byte("3\n17\n")))
			got, err := s.Get(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, "3\n17\n", string(got))
			size, err := s.Size(ctx, key)
			require.NoError(t, err)
			assert.EqualValues(t, 5, size)

			// The first writer wins; the second is told, and the content is the first's.
			require.NoError(t, s.Create(ctx, "outbox/k1", []byte("first")))
			require.ErrorIs(t, s.Create(ctx, "outbox/k1", []byte("second")), store.ErrExists)
			got, _ = s.Get(ctx, "outbox/k1")
			assert.Equal(t, "first", string(got))

			// Streams, and seeks (the notices resume a dataset at a byte offset).
			w, err := s.Writer(ctx, "datasets/big.csv")
			require.NoError(t, err)
			_, err = io.WriteString(w, strings.Repeat("0123456789", 1000))
			require.NoError(t, err)
			require.NoError(t, w.Close())
			r, err := s.Reader(ctx, "datasets/big.csv")
			require.NoError(t, err)
			_, err = r.Seek(9995, io.SeekStart)
			require.NoError(t, err)
			tail, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, "56789", string(tail))
			// A dataset resumed at its very end (every row sent) reads nothing, on any store:
			// S3 refuses a range that starts at the end.
			require.NoError(t, r.Close())
			for _, at := range []int64{10000, 10001} {
				r, err := s.Reader(ctx, "datasets/big.csv")
				require.NoError(t, err)
				_, err = r.Seek(at, io.SeekStart)
				require.NoError(t, err)
				rest, err := io.ReadAll(r)
				require.NoError(t, err, "read after a seek to %d", at)
				assert.Empty(t, rest)
				require.NoError(t, r.Close())
			}

			keys, err := s.List(ctx, "incidents/")
			require.NoError(t, err)
			assert.Equal(t, []string{key}, keys)

			require.NoError(t, s.Delete(ctx, key))
			require.NoError(t, s.Delete(ctx, key), "deleting what is gone is not an error")
			_, err = s.Get(ctx, key)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

// Two workers creating one key at once: exactly one wins, on either kind of store.
func TestCreateRace(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			wins := make(chan int, 8)
			for i := range 8 {
				wg.Go(func() {
					if err := s.Create(ctx, "rooms/INC-20261128-7F3A", []byte{byte('0' + i)}); err == nil {
						wins <- i
					} else if !errors.Is(err, store.ErrExists) {
						t.Errorf("create %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			close(wins)
			var won []int
			for i := range wins {
				won = append(won, i)
			}
			require.Len(t, won, 1, "exactly one writer wins")
			got, err := s.Get(ctx, "rooms/INC-20261128-7F3A")
			require.NoError(t, err)
			assert.Equal(t, []byte{byte('0' + won[0])}, got)
		})
	}
}

func TestKeysStayInside(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Local(filepath.Join(dir, "home"))
	require.NoError(t, err)
	for _, key := range []string{"", "../x", "a/../../x", "a//b", "/etc/passwd", ".hidden", "a/.b", "a\\b", "a/b/", strings.Repeat("a", 513)} {
		assert.Error(t, s.Put(ctx, key, []byte("x")), "%q", key)
		_, err := s.Get(ctx, key)
		assert.Error(t, err, "%q", key)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing was written beside the store")
	// A local store is the files a person looks for, with nothing beside them.
	require.NoError(t, s.Put(ctx, "incidents/INC-20261128-7F3A/timeline.md", []byte("# Timeline\n")))
	raw, err := os.ReadFile(filepath.Join(dir, "home", "incidents", "INC-20261128-7F3A", "timeline.md"))
	require.NoError(t, err)
	assert.Equal(t, "# Timeline\n", string(raw))
	files, _ := os.ReadDir(filepath.Join(dir, "home", "incidents", "INC-20261128-7F3A"))
	assert.Len(t, files, 1, "no metadata file beside the record")
	assert.Equal(t, filepath.Join(dir, "home", "incidents", "INC-20261128-7F3A", "timeline.md"), s.Where("incidents/INC-20261128-7F3A/timeline.md"))
}

func TestOpenErrorsNameTheFixAndNoSecret(t *testing.T) {
	ctx := context.Background()
	_, err := store.Open(ctx, "ftp://host/dir", "")
	require.ErrorContains(t, err, "use s3://")
	_, err = store.Open(ctx, "s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1&access_key=SECRETSECRET&bogus=1", "")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRETSECRET")
	assert.Contains(t, err.Error(), "s3://bucket")
}

// A symbolic link planted in a local store reaches nothing outside it: reading through a link
// to a file outside finds nothing, and writing through a linked directory is refused; the
// file outside is unchanged.
func TestLocalStoreStaysInItsDirectory(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("worker secrets"), 0o600))
	s, err := store.Local(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "incidents", "INC-20261128-7F3A"), 0o700))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "incidents", "INC-20261128-7F3A", "timeline.md")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "register")))

	_, err = s.Get(ctx, "incidents/INC-20261128-7F3A/timeline.md")
	require.Error(t, err)
	_, err = s.Reader(ctx, "incidents/INC-20261128-7F3A/timeline.md")
	require.Error(t, err)
	_, err = s.Stat(ctx, "incidents/INC-20261128-7F3A/timeline.md")
	require.Error(t, err)
	_, err = s.Get(ctx, "register/secret")
	require.Error(t, err)
	require.Error(t, s.Put(ctx, "register/secret", []byte("overwritten")))
	require.Error(t, s.Create(ctx, "register/new", []byte("planted")))
	got, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, "worker secrets", string(got))
	_, err = os.Stat(filepath.Join(outside, "new"))
	require.True(t, os.IsNotExist(err), "a key was written outside the store")
}
