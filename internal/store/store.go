// Package store keeps what outlives one worker: an incident's records (report, timeline,
// evidence, register entry, notices), the datasets, and the intermediate results one activity
// leaves for another (the duplicate rows of a scope, the Slack room of an incident). Every
// worker of an installation opens the same store, so any of them can take any task.
//
// The store is a bucket of gocloud.dev/blob: by default a directory (BREACH_HOME; files under
// their keys, as a person would look for them), for a cluster any S3-compatible service
// (s3://bucket?region=…, with endpoint=…&use_path_style=true for one that is not AWS). Keys are
// slash-separated names checked here: no "..", no empty or dot-led segment, so no key leaves
// the bucket.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob" // s3:// buckets, and every S3-compatible service
	"gocloud.dev/gcerrors"

	"github.com/breachops/breach/internal/redact"
)

// ErrNotFound is returned for a key the store does not hold.
var ErrNotFound = errors.New("not in the store")

// ErrExists is returned by Create for a key the store already holds.
var ErrExists = errors.New("already in the store")

// Store is one installation's bucket.
type Store struct {
	b *blob.Bucket
	// dir is the directory of a local store, "" for a remote one.
	dir string
	// root opens a local store's files beneath dir (os.Root): no symbolic link planted in the
	// directory makes a read or a write reach a file outside it.
	root *os.Root
	// url names the store in messages, without credentials or query.
	url string
}

// Open opens the store at rawURL; "" is the directory home, created when missing.
func Open(ctx context.Context, rawURL, home string) (*Store, error) {
	if rawURL == "" {
		return Local(home)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store URL %s: %v; write it as s3://BUCKET?region=… or file:///DIRECTORY", redact.URL(rawURL), redact.Error(err))
	}
	shown := u.Scheme + "://" + u.Host + u.Path
	switch u.Scheme {
	case "file":
		return Local(u.Path)
	case "s3":
	default:
		return nil, fmt.Errorf("store URL %s: the scheme %q is not one the store knows; use s3:// (AWS, or any S3-compatible service with endpoint=…) or file://", shown, u.Scheme)
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open the store %s: %v", shown, redact.Error(err))
	}
	return &Store{b: b, url: shown}, nil
}

// Local is the store kept in the directory dir, created when missing: each key is the file of
// that relative path, with no other file beside it.
func Local(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store directory %s: %w", dir, err)
	}
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{CreateDir: true, DirFileMode: 0o700, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, fmt.Errorf("store directory %s: %w", abs, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("store directory %s: %w", abs, err)
	}
	return &Store{b: b, dir: abs, url: "file://" + abs, root: root}, nil
}

// Close releases the bucket.
func (s *Store) Close() error {
	if s.root != nil {
		s.root.Close()
	}
	return s.b.Close()
}

// String names the store, without credentials.
func (s *Store) String() string { return s.url }

// Where is where a person finds key: its file for a local store, its URL otherwise.
func (s *Store) Where(key string) string {
	if s.dir != "" {
		return filepath.Join(s.dir, filepath.FromSlash(key))
	}
	return strings.TrimSuffix(s.url, "/") + "/" + key
}

// Dir is the directory of a local store, "" for a remote one.
func (s *Store) Dir() string { return s.dir }

var segment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._:@+=-]*$`)

// CheckKey refuses a key that is not a plain relative name: segments of letters, digits and
// ._:@+=-, none empty, none starting with a dot, at most 512 bytes.
func CheckKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("store key %q: empty or longer than 512 bytes", clip(key))
	}
	for _, seg := range strings.Split(key, "/") {
		if !segment.MatchString(seg) || strings.Contains(seg, "..") {
			return fmt.Errorf("store key %q: the part %q is not a plain name (letters, digits and ._:@+=-, not starting with a dot)", clip(key), clip(seg))
		}
	}
	return nil
}

// Put writes data under key, whole or not at all.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if s.root != nil {
		return s.putLocal(key, data)
	}
	if err := s.b.WriteAll(ctx, key, data, nil); err != nil {
		return s.wrap("write", key, err)
	}
	return nil
}

// putLocal writes a temporary file beside the key's, beneath the store's directory, and
// renames it into place.
func (s *Store) putLocal(key string, data []byte) error {
	tmp, err := s.tempLocal(key, data)
	if err != nil {
		return err
	}
	if err := s.root.Rename(tmp, filepath.FromSlash(key)); err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("write %s: %w", s.Where(key), err)
	}
	return nil
}

// tempLocal writes data to a new temporary file in key's directory and returns its name.
func (s *Store) tempLocal(key string, data []byte) (string, error) {
	dir := filepath.Dir(filepath.FromSlash(key))
	if err := s.root.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write %s: %w", s.Where(key), err)
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, ".create-"+hex.EncodeToString(nonce[:]))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", s.Where(key), err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		s.root.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", s.Where(key), werr)
	}
	return tmp, nil
}

// Create writes data under key unless the store holds it already (ErrExists): the first
// writer wins, on any worker.
func (s *Store) Create(ctx context.Context, key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if s.dir != "" {
		return s.createLocal(key, data)
	}
	if err := s.b.WriteAll(ctx, key, data, &blob.WriterOptions{IfNotExist: true}); err != nil {
		return s.wrap("create", key, err)
	}
	return nil
}

// createLocal writes a temporary file beside the key's and links it in place: a link fails
// when the name exists, so of two processes exactly one wins (fileblob's own check is not
// atomic).
func (s *Store) createLocal(key string, data []byte) error {
	tmp, err := s.tempLocal(key, data)
	if err != nil {
		return err
	}
	defer s.root.Remove(tmp)
	if err := s.root.Link(tmp, filepath.FromSlash(key)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", s.Where(key), ErrExists)
		}
		return fmt.Errorf("create %s: %w", s.Where(key), err)
	}
	return nil
}

// openLocal opens key's file beneath the store's directory: a regular file, else not found.
func (s *Store) openLocal(op, key string) (*os.File, fs.FileInfo, error) {
	f, err := s.root.Open(filepath.FromSlash(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s %s: %w", op, s.Where(key), ErrNotFound)
		}
		return nil, nil, fmt.Errorf("%s %s: %v", op, s.Where(key), err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s %s: %v", op, s.Where(key), err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s %s: not a regular file: %w", op, s.Where(key), ErrNotFound)
	}
	return f, st, nil
}

// Get reads the whole of key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if s.root != nil {
		f, st, err := s.openLocal("read", key)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data := make([]byte, 0, st.Size()+1)
		buf := bytes.NewBuffer(data)
		if _, err := buf.ReadFrom(f); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.Where(key), err)
		}
		return buf.Bytes(), nil
	}
	data, err := s.b.ReadAll(ctx, key)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return data, nil
}

// Reader streams key; it can seek.
func (s *Store) Reader(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if s.root != nil {
		f, _, err := s.openLocal("read", key)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	r, err := s.b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return &reader{Reader: r}, nil
}

// reader is a blob reader that ends at the end: a read after a seek to the end (or past it)
// returns io.EOF rather than asking S3 for a range that starts there, which S3 refuses (416).
type reader struct {
	*blob.Reader
	pos int64
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	pos, err := r.Reader.Seek(offset, whence)
	if err == nil {
		r.pos = pos
	}
	return pos, err
}

func (r *reader) Read(p []byte) (int, error) {
	if r.pos >= r.Reader.Size() {
		return 0, io.EOF
	}
	n, err := r.Reader.Read(p)
	r.pos += int64(n)
	return n, err
}

// Writer streams a new content of key; it is in the store once Close returns nil, and not at
// all when ctx is cancelled before.
func (s *Store) Writer(ctx context.Context, key string) (io.WriteCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	w, err := s.b.NewWriter(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("write", key, err)
	}
	return w, nil
}

// Size is the length of key.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	info, err := s.Stat(ctx, key)
	return info.Size, err
}

// Info is what the store knows of a key besides its content.
type Info struct {
	Size     int64
	Modified time.Time
}

// Stat is the size and last change of key.
func (s *Store) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if s.root != nil {
		f, st, err := s.openLocal("look up", key)
		if err != nil {
			return Info{}, err
		}
		f.Close()
		return Info{Size: st.Size(), Modified: st.ModTime()}, nil
	}
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return Info{}, s.wrap("look up", key, err)
	}
	return Info{Size: a.Size, Modified: a.ModTime}, nil
}

// Exists says whether the store holds key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := CheckKey(key); err != nil {
		return false, err
	}
	if s.root != nil {
		_, err := s.Stat(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := s.b.Exists(ctx, key)
	if err != nil {
		return false, s.wrap("look up", key, err)
	}
	return ok, nil
}

// Delete removes key; a key the store does not hold is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.wrap("delete", key, err)
	}
	return nil
}

// List returns the keys under prefix (a directory: "incidents/INC-…/evidence/"), sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" {
		if err := CheckKey(strings.TrimSuffix(prefix, "/")); err != nil {
			return nil, err
		}
	}
	var keys []string
	it := s.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return nil, s.wrap("list", prefix, err)
		}
		if !obj.IsDir && !s.partial(obj.Key) {
			keys = append(keys, obj.Key)
		}
	}
}

// partial is a file of a local store being written: fileblob's <name>.<hex>.tmp, or Create's
// .create-…; never a key.
func (s *Store) partial(key string) bool {
	base := key[strings.LastIndexByte(key, '/')+1:]
	return s.dir != "" && (strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".tmp"))
}

func (s *Store) wrap(op, key string, err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return fmt.Errorf("%s %s: %w", op, s.Where(key), ErrNotFound)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%s %s: %w", op, s.Where(key), ErrExists)
	}
	return fmt.Errorf("%s %s: %v", op, s.Where(key), redact.Error(err))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
