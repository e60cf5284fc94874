//go:build !unix

package register

import (
	"context"
	"sync"
)

// lockFile serializes appends within this process only: on systems without flock, keep the
// register of several processes in PostgreSQL.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, _ := locks.LoadOrStore(path, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock, nil
}

var locks sync.Map
