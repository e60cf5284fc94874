package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

// ErrTypePseudonymKey: this worker cannot key an incident's people as its notices began (no
// key, or another key than the incident's). Retried slowly: another worker may hold the right
// key, or someone gives this one the installation's key.
const ErrTypePseudonymKey = "PseudonymKey"

// pseudonymRetryDelay is the wait before a worker tries again to key an incident's people.
const pseudonymRetryDelay = time.Minute

// subjectKeys keys the people of one incident.
type subjectKeys struct {
	incident string
	derive   pseudonym.Deriver
}

// address is the pseudonym of a person to be notified, by address.
func (k subjectKeys) address(email string) string { return k.derive(k.incident, mail.Normalize(email)) }

// other is the pseudonym of a row that gets no notice (invalid address, duplicate), by its id.
func (k subjectKeys) other(row subjects.Row) string { return k.derive(k.incident, "id\x00"+row.ID) }

func keyError(incidentID string, err error) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("key the people of %s: %v", incidentID, err), ErrTypePseudonymKey,
		temporal.ApplicationErrorOptions{NextRetryDelay: pseudonymRetryDelay})
}

// ledgerKeys keys an incident's people by the scheme the ledger records for it (recording this
// worker's, if its notices have not begun).
func ledgerKeys(ctx context.Context, s *SendGridMail, key *pseudonym.Key, incidentID string) (subjectKeys, error) {
	if key == nil {
		return subjectKeys{}, keyError(incidentID, errors.New("this worker has no pseudonym key; see internal/pseudonym"))
	}
	scheme, err := s.Ledger.PseudonymScheme(ctx, incidentID, string(key.Scheme()))
	if err != nil {
		return subjectKeys{}, err
	}
	derive, err := key.For(pseudonym.Scheme(scheme))
	if err != nil {
		return subjectKeys{}, keyError(incidentID, err)
	}
	return subjectKeys{incident: incidentID, derive: derive}, nil
}

// outboxHolder is a mailer that can tell whether it holds messages under a key prefix (the
// outbox): an incident with notices there from before schemes were recorded keeps its scheme.
type outboxHolder interface {
	Holds(prefix string) bool
}

// outboxKeys keys an incident's people on the outbox path: by the scheme recorded beside the
// incident's records, else (notices in the outbox already) the unkeyed one, else this worker's.
func (a *Activities) outboxKeys(ctx context.Context, incidentID string) (subjectKeys, error) {
	if a.Pseudonyms == nil {
		return subjectKeys{}, keyError(incidentID, errors.New("this worker has no pseudonym key; see internal/pseudonym"))
	}
	key, err := records.PseudonymSchemeKey(incidentID)
	if err != nil {
		return subjectKeys{}, pathError(err)
	}
	rs, err := a.records()
	if err != nil {
		return subjectKeys{}, err
	}
	// The first worker to send records its scheme; every other, and every retry, follows it.
	raw, err := rs.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		scheme := a.Pseudonyms.Scheme()
		if h, ok := a.Mail.(outboxHolder); ok && h.Holds(incidentID+"/notices") {
			scheme = pseudonym.Legacy
		}
		if err := rs.Create(ctx, key, []byte(string(scheme)+"\n")); err != nil && !errors.Is(err, store.ErrExists) {
			return subjectKeys{}, err
		}
		raw, err = rs.Get(ctx, key)
	}
	if err != nil {
		return subjectKeys{}, err
	}
	scheme := pseudonym.Scheme(strings.TrimSpace(string(raw)))
	derive, err := a.Pseudonyms.For(scheme)
	if err != nil {
		return subjectKeys{}, keyError(incidentID, err)
	}
	return subjectKeys{incident: incidentID, derive: derive}, nil
}
