package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestInstagramHTTPClientKeepsConnectionsAndFollowsNoRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	hc := instagramHTTPClient(64)
	if tr := hc.Transport.(*http.Transport); tr.MaxIdleConnsPerHost < 64 {
		t.Errorf("MaxIdleConnsPerHost = %d, want at least the reconciles that can call at once", tr.MaxIdleConnsPerHost)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d: Instagram's endpoints never redirect, and a followed redirect would hide that", resp.StatusCode)
	}
}
