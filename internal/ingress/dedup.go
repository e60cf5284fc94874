package ingress

import (
	"sync"
	"time"
)

// replays remembers what was acted on, so that a request delivered twice (a Slack retry with
// X-Slack-Retry-Num, or a replay inside the signature window) is acted on once. Keys live
// longer than the signature window; the table is bounded.
type replays struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	seen map[string]time.Time
}

func newReplays(ttl time.Duration, max int) *replays {
	return &replays{ttl: ttl, max: max, seen: map[string]time.Time{}}
}

// first reports whether none of keys was seen within the TTL, and records them all.
func (r *replays) first(now time.Time, keys ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	fresh := true
	for _, k := range keys {
		if k == "" {
			continue
		}
		if at, ok := r.seen[k]; ok && now.Sub(at) < r.ttl {
			fresh = false
		}
	}
	if len(r.seen) >= r.max {
		for k, at := range r.seen {
			if now.Sub(at) >= r.ttl {
				delete(r.seen, k)
			}
		}
		// Still full: keys this young are inside the signature window, so forgetting the
		// oldest only risks acting twice on a replay older than it.
		for len(r.seen) >= r.max {
			oldest, oldestAt := "", now
			for k, at := range r.seen {
				if at.Before(oldestAt) || oldest == "" {
					oldest, oldestAt = k, at
				}
			}
			delete(r.seen, oldest)
		}
	}
	for _, k := range keys {
		if k != "" {
			r.seen[k] = now
		}
	}
	return fresh
}
