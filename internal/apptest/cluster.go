package apptest

import (
	"os"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parley/parley/internal/demo"
)

// NATSURL is the NATS server for tests that run several nodes: PARLEY_TEST_NATS_URL, or an embedded one that stops
// with the test.
func NATSURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("PARLEY_TEST_NATS_URL"); u != "" {
		return u
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

// PostgresURL is PARLEY_TEST_POSTGRES_URL. Without it the test is skipped with a log line, except in CI, which must
// set it.
func PostgresURL(t testing.TB) (string, bool) {
	t.Helper()
	pg := os.Getenv("PARLEY_TEST_POSTGRES_URL")
	if pg == "" {
		t.Log("PARLEY_TEST_POSTGRES_URL is not set: this test needs PostgreSQL (CI sets it)")
		if os.Getenv("CI") != "" {
			t.Fatal("CI must set PARLEY_TEST_POSTGRES_URL")
		}
		return "", false
	}
	return pg, true
}

// SetGroup changes the demo's routing group through the admin API (PATCH /api/admin/groups/ID).
func (e *Env) SetGroup(t testing.TB, settings map[string]any) {
	t.Helper()
	admin := e.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	var groups struct {
		Groups []struct{ ID string } `json:"groups"`
	}
	admin.Do("GET", "/api/admin/groups", nil, &groups)
	if len(groups.Groups) == 0 {
		t.Fatal("the demo has no routing group")
	}
	if st := admin.Do("PATCH", "/api/admin/groups/"+groups.Groups[0].ID, settings, nil); st != 200 {
		t.Fatalf("change the group: %d", st)
	}
}
