package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request that changes something keeps going when its client leaves; a read stops with it.
func TestChangesAreCarriedOutWhenTheClientLeaves(t *testing.T) {
	type seen struct {
		clientGone bool  // the server noticed the client leave (its own context ended)
		err        error // the handler's context then
	}
	results := make(chan seen, 1)
	var inner http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		original := r.Context().Value(originalKey{}).(context.Context)
		select {
		case <-original.Done():
			results <- seen{clientGone: true, err: r.Context().Err()}
		case <-time.After(10 * time.Second):
			results <- seen{}
		}
	})
	wrapped := carriedOut(inner)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wrapped.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originalKey{}, r.Context())))
	}))
	defer srv.Close()

	for _, c := range []struct {
		method    string
		cancelled bool
	}{{"POST", false}, {"PATCH", false}, {"DELETE", false}, {"GET", true}} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, c.method, srv.URL+"/api/x", nil)
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		if _, err := http.DefaultClient.Do(req); err == nil {
			t.Fatalf("%s: the request was meant to be cut off by the client", c.method)
		}
		got := <-results
		if !got.clientGone {
			t.Fatalf("%s: the server never noticed the client leave", c.method)
		}
		if (got.err != nil) != c.cancelled {
			t.Errorf("%s: handler's context error %v after the client left, want cancelled=%v", c.method, got.err, c.cancelled)
		}
	}
}

type originalKey struct{}
