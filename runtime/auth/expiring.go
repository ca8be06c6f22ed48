package auth

import "time"

// expiring is a map of at most max entries, each valid until its own time.
// When full, expired entries are dropped, and if none had expired, all of
// them: the caches built on it only ever save work, so forgetting is safe.
// It is not safe for concurrent use; its owners lock around it.
type expiring[K comparable, V any] struct {
	entries map[K]expiringEntry[V]
	max     int
}

type expiringEntry[V any] struct {
	value V
	until time.Time
}

func newExpiring[K comparable, V any](max int) expiring[K, V] {
	return expiring[K, V]{entries: make(map[K]expiringEntry[V]), max: max}
}

// get returns the value stored for k if it is still valid at now.
func (m *expiring[K, V]) get(k K, now time.Time) (V, bool) {
	e, ok := m.entries[k]
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// set stores v for k until the given time.
func (m *expiring[K, V]) set(k K, v V, until, now time.Time) {
	if len(m.entries) >= m.max {
		for key, e := range m.entries {
			if !now.Before(e.until) {
				delete(m.entries, key)
			}
		}
		if len(m.entries) >= m.max {
			clear(m.entries)
		}
	}
	m.entries[k] = expiringEntry[V]{value: v, until: until}
}

// deleteFunc deletes the entries whose key satisfies del.
func (m *expiring[K, V]) deleteFunc(del func(K) bool) {
	for k := range m.entries {
		if del(k) {
			delete(m.entries, k)
		}
	}
}
