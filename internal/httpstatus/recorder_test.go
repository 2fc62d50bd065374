package httpstatus

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	cases := map[string]struct {
		handler func(w http.ResponseWriter)
		want    int
	}{
		"explicit status, first one wins": {func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
		}, http.StatusTeapot},
		"body without status": {func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		"nothing written":     {func(http.ResponseWriter) {}, 0},
	}
	for name, tc := range cases {
		rec := &Recorder{ResponseWriter: httptest.NewRecorder()}
		tc.handler(rec)
		if rec.Status != tc.want {
			t.Errorf("%s: Status = %d, want %d", name, rec.Status, tc.want)
		}
	}
	if (&Recorder{ResponseWriter: httptest.NewRecorder()}).Unwrap() == nil {
		t.Error("Unwrap must reach the wrapped writer")
	}
}
