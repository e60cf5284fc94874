// Package datasets is the store of affected-subjects datasets. People never hand the worker a
// path: the command line adds a file to the store (or names one already there), Slack offers
// the datasets the store holds, and an incident carries only the reference `dataset:<name>`.
// The store is a directory the worker and the command line share; every file in it is a
// regular file opened beneath that directory, so no name, link or `..` reaches outside it.
package datasets

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/store"
)

// Scheme prefixes a dataset reference: dataset:<name>.
const Scheme = "dataset:"

// DefaultMaxBytes bounds one dataset: a 10 million row export of a shop (id, email, name,
// country, categories, language: about 150 bytes a row) is 1.5 GB.
const DefaultMaxBytes int64 = 4 << 30

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateName checks a dataset's name: letters, digits, '.', '_' and '-', at most 128, not
// starting with a dot or a dash.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("dataset name %q: use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)", clip(name))
	}
	return nil
}

// Ref is the reference an incident carries for a dataset of the store.
func Ref(name string) string { return Scheme + name }

// NameOf returns the dataset a reference names. A file path or file:// URI is refused: since
// the store, no person hands the worker a path.
func NameOf(ref string) (string, error) {
	name, ok := strings.CutPrefix(ref, Scheme)
	if !ok {
		if ref == "" {
			return "", errors.New("no subjects dataset given: add one with `breach datasets add FILE` and name it, or pass --subjects FILE")
		}
		return "", fmt.Errorf("%q is not a dataset of the store: datasets are named dataset:<name>; add the file with `breach datasets add FILE`, then give that dataset (breach subjects ID --dataset NAME)", clip(ref))
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}

// Info describes a stored dataset.
type Info struct {
	Name     string    `json:"name"`
	Ref      string    `json:"ref"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	// SHA256 is set by Add; List leaves it empty (reading every file would be slow).
	SHA256 string `json:"sha256,omitempty"`
}

// Store is a directory of datasets (Open), or the datasets of a shared store (OnStore).
type Store struct {
	dir      string
	root     *os.Root
	maxBytes int64
	// bucket is the shared store holding the datasets, nil for a directory.
	bucket *store.Store
}

// Open opens (and creates) the store at dir. maxBytes bounds one dataset; 0 means
// DefaultMaxBytes.
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dataset store %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset store %s: %w", dir, err)
	}
	return &Store{dir: dir, root: root, maxBytes: maxBytes}, nil
}

// Dir is the store's directory, or where the shared store keeps the datasets.
func (s *Store) Dir() string { return s.dir }

// MaxBytes is the largest dataset the store takes.
func (s *Store) MaxBytes() int64 { return s.maxBytes }

// Close releases the store's directory; a shared store is its owner's to close.
func (s *Store) Close() error {
	if s.root == nil {
		return nil
	}
	return s.root.Close()
}

// TooLargeError is a dataset over the store's limit.
type TooLargeError struct {
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("dataset %s is larger than the store's limit of %d bytes (datasets.max_bytes in the configuration)", e.Name, e.Limit)
}

// Add stores the content of r as name, atomically: a reader that fails or passes the limit
// leaves nothing behind. An existing dataset of that name is replaced only if replace is set.
func (s *Store) Add(ctx context.Context, name string, r io.Reader, replace bool) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if s.bucket != nil {
		return s.sharedAdd(ctx, name, r, replace)
	}
	if !replace {
		if _, err := s.root.Lstat(name); err == nil {
			return Info{}, fmt.Errorf("dataset %s already exists; choose another name, or replace it", name)
		}
	}
	tmp, n, sum, err := s.spool(ctx, name, r)
	if err != nil {
		return Info{}, err
	}
	return s.commit(tmp, name, n, sum)
}

// AddContent stores the content of r under the name AddFile gives a file of that base name and
// content (DerivedName), for content that arrives as a stream (a file shared in Slack): the same
// content under the same base name is one dataset. A reader that fails or passes the limit
// leaves nothing behind. base is only a name: no directory of it is looked at.
func (s *Store) AddContent(ctx context.Context, base string, r io.Reader) (Info, error) {
	base = filepath.Base(filepath.Clean("/" + base))
	if s.bucket != nil {
		return s.sharedAddContent(ctx, base, r)
	}
	tmp, n, sum, err := s.spool(ctx, base, r)
	if err != nil {
		return Info{}, err
	}
	name := DerivedName(base, sum)
	if st, err := s.root.Lstat(name); err == nil && st.Mode().IsRegular() {
		_ = s.root.Remove(tmp)
		return Info{Name: name, Ref: Ref(name), Size: st.Size(), Modified: st.ModTime().UTC(), SHA256: sum}, nil
	}
	return s.commit(tmp, name, n, sum)
}

// spool writes the content of r to a new temporary file beneath the store, at most the
// store's limit, and returns its name, size and SHA-256; on any failure nothing is left
// behind. label names the content in errors.
func (s *Store) spool(ctx context.Context, label string, r io.Reader) (string, int64, string, error) {
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", 0, "", fmt.Errorf("add dataset %s: %w", clip(label), err)
	}
	// Names the store lists start with a letter or digit: a temporary file is never listed.
	tmp := fmt.Sprintf(".incoming-%d-%s.tmp", time.Now().UnixNano(), hex.EncodeToString(nonce[:]))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", 0, "", fmt.Errorf("add dataset %s: %w", clip(label), err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = s.root.Remove(tmp)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, r}, s.maxBytes+1))
	switch {
	case err != nil:
		return "", 0, "", fmt.Errorf("add dataset %s: %w", clip(label), err)
	case n > s.maxBytes:
		return "", 0, "", &TooLargeError{Name: clip(label), Limit: s.maxBytes}
	}
	if err := f.Sync(); err != nil {
		return "", 0, "", fmt.Errorf("add dataset %s: %w", clip(label), err)
	}
	if err := f.Close(); err != nil {
		return "", 0, "", fmt.Errorf("add dataset %s: %w", clip(label), err)
	}
	ok = true
	return tmp, n, hex.EncodeToString(h.Sum(nil)), nil
}

// commit gives a spooled file its name.
func (s *Store) commit(tmp, name string, n int64, sum string) (Info, error) {
	if err := s.root.Rename(tmp, name); err != nil {
		_ = s.root.Remove(tmp)
		return Info{}, fmt.Errorf("add dataset %s: %w", name, err)
	}
	st, err := s.root.Stat(name)
	if err != nil {
		return Info{}, fmt.Errorf("add dataset %s: %w", name, err)
	}
	return Info{Name: name, Ref: Ref(name), Size: n, Modified: st.ModTime().UTC(), SHA256: sum}, nil
}

// AddFile stores a local file under a name derived from its base name and content
// (<base>-<12 hex digits of its SHA-256>.csv), so that adding the same file twice names the
// same dataset and a changed file a new one. The file must be a regular file.
func (s *Store) AddFile(ctx context.Context, path string) (Info, error) {
	f, err := infile.Open(path, s.maxBytes)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return Info{}, fmt.Errorf("read %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := DerivedName(filepath.Base(path), sum)
	if s.bucket != nil {
		if info, err := s.sharedInfo(ctx, name, sum); err == nil {
			return info, nil
		}
	} else if st, err := s.root.Stat(name); err == nil && st.Mode().IsRegular() {
		return Info{Name: name, Ref: Ref(name), Size: st.Size(), Modified: st.ModTime().UTC(), SHA256: sum}, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Info{}, fmt.Errorf("read %s: %w", path, err)
	}
	info, err := s.Add(ctx, name, f, true)
	if err != nil {
		return Info{}, err
	}
	if info.SHA256 != sum {
		return Info{}, fmt.Errorf("%s changed while it was added to the store; add it again once it is complete", path)
	}
	return info, nil
}

// DerivedName is the name AddFile gives a file: its base name made safe, and the start of its
// content's hash.
func DerivedName(base, sha string) string {
	ext := strings.ToLower(filepath.Ext(base))
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	var b strings.Builder
	for _, r := range stem {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	clean := strings.Trim(b.String(), ".-")
	if clean == "" {
		clean = "subjects"
	}
	if len(clean) > 80 {
		clean = clean[:80]
	}
	if ext != ".csv" {
		ext = ".csv"
	}
	return clean + "-" + sha[:12] + ext
}

// List returns the store's datasets, newest first.
func (s *Store) List() ([]Info, error) {
	if s.bucket != nil {
		return s.sharedList(context.Background())
	}
	entries, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("list datasets in %s: %w", s.dir, err)
	}
	var out []Info
	for _, e := range entries {
		if !e.Type().IsRegular() || ValidateName(e.Name()) != nil {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Info{Name: e.Name(), Ref: Ref(e.Name()), Size: st.Size(), Modified: st.ModTime().UTC()})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Modified.Equal(out[j].Modified) {
			return out[i].Modified.After(out[j].Modified)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Open opens a dataset by its reference (dataset:<name>): a regular file beneath the store,
// within the size limit.
func (s *Store) Open(ctx context.Context, ref string) (io.ReadSeekCloser, error) {
	name, err := NameOf(ref)
	if err != nil {
		return nil, err
	}
	if s.bucket != nil {
		return s.sharedOpen(ctx, name)
	}
	st, err := s.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("dataset %s is not in the store (%s): add it with `breach datasets add FILE`", name, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("dataset %s is not a regular file (%s); the store holds regular files only", name, st.Mode().Type())
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	if err := checkRegular(f, name, s.maxBytes); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkRegular checks the opened file itself: the name may have been swapped since it was
// looked at.
func checkRegular(f *os.File, name string, maxBytes int64) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s)", name, kind(st.Mode()))
	}
	if maxBytes > 0 && st.Size() > maxBytes {
		return &TooLargeError{Name: name, Limit: maxBytes}
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return m.Type().String()
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
