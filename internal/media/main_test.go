package media

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the package if goroutines outlive the tests: every relay, call, leg and peer a test made is
// closed by then, whichever way its legs ended (End, Close, a reload, a failure).
func TestMain(m *testing.M) {
	cleanup, err := setupTestCA()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test CA:", err)
		os.Exit(1)
	}
	base := runtime.NumGoroutine()
	code := m.Run()
	cleanup()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "%d goroutines outlived the tests (%d before):\n%s", n, base,
				buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}
