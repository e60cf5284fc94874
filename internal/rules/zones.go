package rules

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"time"
)

// tzRelease is the IANA release of tzdata/zoneinfo.zip.
const tzRelease = "2025c"

//go:embed tzdata/zoneinfo.zip
var zoneinfo []byte

var (
	zoneMu    sync.Mutex
	zoneCache = map[string]*time.Location{}
	zones     *zip.Reader
)

// location loads a zone from the embedded database, never from the machine's: deadlines must
// not depend on where they are computed. Zones are loaded once per process.
func location(name string) (*time.Location, error) {
	zoneMu.Lock()
	defer zoneMu.Unlock()
	if loc, ok := zoneCache[name]; ok {
		return loc, nil
	}
	if name == "UTC" || name == "" {
		return time.UTC, nil
	}
	if zones == nil {
		r, err := zip.NewReader(bytes.NewReader(zoneinfo), int64(len(zoneinfo)))
		if err != nil {
			return nil, fmt.Errorf("the embedded time zone database: %w", err)
		}
		zones = r
	}
	f, err := zones.Open(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %s", name)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("time zone %s: %w", name, err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("time zone %s: %w", name, err)
	}
	zoneCache[name] = loc
	return loc, nil
}

// Version names the rulebook: the SHA-256 of its data files (regimes, calendars, sectors) and
// the tzdata release. Every evaluation records it, so a deadline can be traced to the rules
// that computed it.
var Version = mustVersion()

func mustVersion() string {
	h := sha256.New()
	var names []string
	if err := fs.WalkDir(dataFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}); err != nil {
		panic("rules: " + err.Error())
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(dataFS, n)
		if err != nil {
			panic("rules: " + err.Error())
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("rules-%s+tz%s", hex.EncodeToString(h.Sum(nil))[:12], tzRelease)
}

// Location loads a time zone from the rules' embedded database (the same one deadlines are
// computed with), never from the machine's: "UTC" and "" are UTC.
func Location(name string) (*time.Location, error) { return location(name) }
