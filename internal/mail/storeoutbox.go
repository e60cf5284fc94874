package mail

import (
	"context"
	"errors"

	"github.com/breachops/breach/internal/store"
)

// StoreOutbox is the outbox of a cluster: every message is the key outbox/<key>.eml of the
// installation's shared store (s3://…), created once: of two workers writing one key, the first
// wins and the other is told Duplicate, as with the local Outbox. One machine keeps its outbox
// in a directory (Outbox), under the same names.
type StoreOutbox struct {
	Store *store.Store
}

const outboxPrefix = "outbox/"

// Send writes m unless a message with the same key is already in the outbox.
func (o StoreOutbox) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := checkKey(m.Key); err != nil {
		return Receipt{}, err
	}
	raw, err := Render(m)
	if err != nil {
		return Receipt{}, err
	}
	key := outboxPrefix + m.Key + ".eml"
	switch err := o.Store.Create(ctx, key, raw); {
	case errors.Is(err, store.ErrExists):
		return Receipt{ID: o.Store.Where(key), Duplicate: true}, nil
	case err != nil:
		return Receipt{}, err
	}
	return Receipt{ID: o.Store.Where(key)}, nil
}

// Holds reports whether the outbox holds a message whose key starts with prefix + "/".
func (o StoreOutbox) Holds(prefix string) bool {
	if checkKey(prefix) != nil {
		return false
	}
	keys, err := o.Store.List(context.Background(), outboxPrefix+prefix+"/")
	return err == nil && len(keys) > 0
}
