package bus

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestNATS runs the conformance suite on two connections to one server: the one at PARLEY_TEST_NATS_URL if set,
// otherwise an embedded server.
func TestNATS(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS_URL")
	if url == "" {
		url = startNATSServer(t, -1).ClientURL()
	} else {
		t.Logf("using NATS server at %s", url)
	}
	runConformance(t, func(t *testing.T) (a, b Bus) {
		return newTestNATS(t, url, "a", nil), newTestNATS(t, url, "b", nil)
	})
}

// TestNATSReconnect restarts the server under two connected nodes and checks that the subscription comes back and
// that the outage is logged. It always uses an embedded server, because it must control it.
func TestNATSReconnect(t *testing.T) {
	srv := startNATSServer(t, -1)
	url := srv.ClientURL()
	port := srv.Addr().(*net.TCPAddr).Port
	logs := &logRecorder{msgs: make(chan string, 100)}
	a := newTestNATS(t, url, "a", slog.New(logs))
	b := newTestNATS(t, url, "b", nil)
	subject := testSubject(t, "visitor.v_1")
	r := subscribe(t, b, subject)
	publish(t, a, subject, "before")
	r.wait(t, 1)

	srv.Shutdown()
	srv.WaitForShutdown()
	startNATSServer(t, port)

	// Nodes reconnect after nats.go's reconnect wait (2 s by default), so allow longer than waitTimeout. Messages
	// published during the outage may be lost: that is the contract. Keep publishing until one arrives.
	const reconnectTimeout = 15 * time.Second
	deadline := time.Now().Add(reconnectTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := a.Publish(t.Context(), subject, []byte("after")); err != nil {
			t.Fatalf("Publish during or after the outage: %v", err)
		}
		if got := r.datas(); len(got) > 1 && got[len(got)-1] == "after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery within %v of restarting the server; got %q", reconnectTimeout, r.datas())
		}
		<-tick.C
	}

	logs.waitFor(t, "nats disconnected, reconnecting", reconnectTimeout)
	logs.waitFor(t, "nats reconnected", reconnectTimeout)
}

func TestNewNATSUnreachable(t *testing.T) {
	n, err := NewNATS("nats://127.0.0.1:1", "test", slog.New(slog.DiscardHandler))
	if err == nil {
		_ = n.Close()
		t.Fatal("NewNATS with no server listening succeeded, want an error")
	}
}

// startNATSServer starts an embedded server on 127.0.0.1 at port (-1 for a random one), shut down when t ends.
func startNATSServer(t *testing.T, port int) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(waitTimeout) {
		t.Fatalf("nats server not ready within %v", waitTimeout)
	}
	return srv
}

// newTestNATS connects a node to url, closed when t ends. A nil logger discards the logs.
func newTestNATS(t *testing.T, url, name string, logger *slog.Logger) *NATS {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n, err := NewNATS(url, "parley-test-"+name, logger)
	if err != nil {
		t.Fatalf("NewNATS: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// logRecorder is a slog.Handler that passes each record's message to a channel, dropping it if the channel is full.
type logRecorder struct {
	msgs chan string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.msgs <- r.Message:
	default:
	}
	return nil
}

// waitFor waits up to timeout for a record with message msg, consuming the records before it.
func (l *logRecorder) waitFor(t *testing.T, msg string, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case m := <-l.msgs:
			if m == msg {
				return
			}
		case <-deadline.C:
			t.Fatalf("no %q log within %v", msg, timeout)
		}
	}
}
