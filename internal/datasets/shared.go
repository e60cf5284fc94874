package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/breachops/breach/internal/store"
)

// The datasets of a cluster are in its shared store (BREACH_STORE_URL), under datasets/<name>,
// so that the worker that assesses the scope, the workers that send the notices and the CLI
// that added the file need not share a disk.

// sharedPrefix is where a shared store keeps the datasets.
const sharedPrefix = "datasets/"

// OnStore is the dataset store kept in the installation's shared store st. maxBytes bounds one
// dataset; 0 means DefaultMaxBytes.
func OnStore(st *store.Store, maxBytes int64) *Store {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Store{bucket: st, maxBytes: maxBytes, dir: st.Where(sharedPrefix)}
}

func sharedKey(name string) string { return sharedPrefix + name }

// sharedInfo describes a dataset of the shared store.
func (s *Store) sharedInfo(ctx context.Context, name, sum string) (Info, error) {
	st, err := s.bucket.Stat(ctx, sharedKey(name))
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Ref: Ref(name), Size: st.Size, Modified: st.Modified.UTC(), SHA256: sum}, nil
}

// sharedAdd streams r into the shared store as name; a reader that fails or passes the limit
// leaves nothing behind (the upload is abandoned before it completes).
func (s *Store) sharedAdd(ctx context.Context, name string, r io.Reader, replace bool) (Info, error) {
	if !replace {
		if ok, err := s.bucket.Exists(ctx, sharedKey(name)); err != nil {
			return Info{}, err
		} else if ok {
			return Info{}, fmt.Errorf("dataset %s already exists; choose another name, or replace it", name)
		}
	}
	wctx, abandon := context.WithCancel(ctx)
	defer abandon()
	w, err := s.bucket.Writer(wctx, sharedKey(name))
	if err != nil {
		return Info{}, fmt.Errorf("add dataset %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(ctxReader{ctx, r}, s.maxBytes+1))
	switch {
	case err != nil:
		abandon()
		_ = w.Close()
		return Info{}, fmt.Errorf("add dataset %s: %w", clip(name), err)
	case n > s.maxBytes:
		abandon()
		_ = w.Close()
		return Info{}, &TooLargeError{Name: clip(name), Limit: s.maxBytes}
	}
	if err := w.Close(); err != nil {
		return Info{}, fmt.Errorf("add dataset %s: %w", name, err)
	}
	return s.sharedInfo(ctx, name, hex.EncodeToString(h.Sum(nil)))
}

// sharedAddContent spools r to a local temporary file (its name depends on its hash), then
// stores it under its derived name unless that dataset is there already.
func (s *Store) sharedAddContent(ctx context.Context, base string, r io.Reader) (Info, error) {
	tmp, err := os.CreateTemp("", "breach-dataset-*")
	if err != nil {
		return Info{}, fmt.Errorf("add dataset %s: %w", clip(base), err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ctxReader{ctx, r}, s.maxBytes+1))
	switch {
	case err != nil:
		return Info{}, fmt.Errorf("add dataset %s: %w", clip(base), err)
	case n > s.maxBytes:
		return Info{}, &TooLargeError{Name: clip(base), Limit: s.maxBytes}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := DerivedName(base, sum)
	if info, err := s.sharedInfo(ctx, name, sum); err == nil {
		return info, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Info{}, err
	}
	return s.sharedAdd(ctx, name, tmp, true)
}

// sharedList lists the datasets of the shared store, newest first.
func (s *Store) sharedList(ctx context.Context) ([]Info, error) {
	keys, err := s.bucket.List(ctx, sharedPrefix)
	if err != nil {
		return nil, fmt.Errorf("list datasets in %s: %w", s.dir, err)
	}
	var out []Info
	for _, k := range keys {
		name := strings.TrimPrefix(k, sharedPrefix)
		if ValidateName(name) != nil {
			continue
		}
		if info, err := s.sharedInfo(ctx, name, ""); err == nil {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Modified.Equal(out[j].Modified) {
			return out[i].Modified.After(out[j].Modified)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// sharedOpen opens a dataset of the shared store, within the size limit.
func (s *Store) sharedOpen(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	st, err := s.bucket.Stat(ctx, sharedKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("dataset %s is not in the store (%s): add it with `breach datasets add FILE`", name, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	if st.Size > s.maxBytes {
		return nil, &TooLargeError{Name: name, Limit: s.maxBytes}
	}
	return s.bucket.Reader(ctx, sharedKey(name))
}
