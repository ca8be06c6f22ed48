package auth

import (
	"testing"
	"time"
)

func TestAUTH6_RateLimiterPerKeyWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewRateLimiter(60, time.Minute, func() time.Time { return now })
	for i := range 60 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	now = now.Add(20 * time.Second)
	ok, retry := l.Allow("192.0.2.1")
	if ok || retry != 40*time.Second {
		t.Fatalf("61st event: ok=%v retry=%v, want refused, 40s", ok, retry)
	}
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Fatal("another key is limited too")
	}
	now = now.Add(40 * time.Second)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Fatal("a new window is still limited")
	}
}
