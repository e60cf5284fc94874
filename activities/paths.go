package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// IncidentDir is where an incident's local records live: reports, evidence, timeline.
func IncidentDir(root, incidentID string) string {
	return filepath.Join(root, "incidents", incidentID)
}

func (a *Activities) incidentDir(incidentID string) string { return IncidentDir(a.Dir, incidentID) }

// writeFileAtomic writes data to path through a temporary file and a rename, so readers never
// see half a file and a retried activity overwrites cleanly.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// subjectKey is a stable pseudonymous key for a subject's address within one incident. It names
// the subject's notice so that it is delivered once, and it reveals nothing by itself.
func subjectKey(incidentID, normalizedEmail string) string {
	h := sha256.Sum256([]byte(incidentID + "\x00" + normalizedEmail))
	return hex.EncodeToString(h[:16])
}
