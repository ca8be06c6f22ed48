package auth

import (
	"sync"
	"time"
)

// Defaults of the per-IP limit on authentication attempts (AUTH-6: 60 a
// minute, as Medplum does, against credential stuffing).
const (
	DefaultIPLimit       = 60
	DefaultIPLimitWindow = time.Minute
	rateLimiterMaxKeys   = 100_000
)

// RateLimiter counts events per key (a client IP) in fixed windows and
// refuses those beyond the limit until the window ends. It is in memory,
// per replica: a client spread over n replicas gets at most n times the
// limit. The per-account lockout, which must hold across replicas, lives
// in the database (runtime/user).
type RateLimiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	clock   func() time.Time
	entries expiring[string, *rateWindow]
}

type rateWindow struct {
	start time.Time
	count int
}

// NewRateLimiter allows limit events per window and key. clock gives the
// current time (time.Now when nil).
func NewRateLimiter(limit int, window time.Duration, clock func() time.Time) *RateLimiter {
	if clock == nil {
		clock = time.Now
	}
	return &RateLimiter{limit: limit, window: window, clock: clock,
		entries: newExpiring[string, *rateWindow](rateLimiterMaxKeys)}
}

// Allow counts one event for key and reports whether it is within the
// limit; if not, retryAfter is how long until the window ends (at least a
// second).
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, found := l.entries.get(key, now)
	if !found {
		w = &rateWindow{start: now}
		l.entries.set(key, w, now.Add(l.window), now)
	}
	w.count++
	if w.count <= l.limit {
		return true, 0
	}
	return false, max(w.start.Add(l.window).Sub(now), time.Second)
}
