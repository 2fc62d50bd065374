package instagram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// countingLimiter admits the first allow calls and refuses the rest.
type countingLimiter struct{ waits, allow int }

func (l *countingLimiter) Wait(context.Context) error {
	l.waits++
	if l.waits > l.allow {
		return errors.New("would exceed the limit")
	}
	return nil
}

func TestLimiterPacesEveryRequest(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits++
		_, _ = w.Write([]byte(`{"access_token":"IGAAnew","token_type":"bearer","expires_in":5184000}`))
	}))
	defer srv.Close()
	lim := &countingLimiter{allow: 2}
	c := New(Config{GraphURL: srv.URL, Limiter: lim})
	for range 2 {
		if _, err := c.RefreshToken(context.Background(), "IGAAold"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.RefreshToken(context.Background(), "IGAAold")
	if ClassOf(err) != ClassRetryLater {
		t.Fatalf("a refused rate-limit wait must be RetryLater, got %v", err)
	}
	if lim.waits != 3 || hits != 2 {
		t.Fatalf("waits=%d hits=%d: every request waits, and a refused wait sends nothing", lim.waits, hits)
	}
}
