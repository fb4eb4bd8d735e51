package cli

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpForEachCommand(t *testing.T) {
	for _, cmd := range []string{"serve", "demo", "migrate"} {
		t.Run(cmd, func(t *testing.T) {
			code, _, stderr := run(cmd, "--help")
			if code != 0 || !strings.Contains(stderr, "-http-addr") || !strings.Contains(stderr, "PARLEY_DATABASE_URL") {
				t.Fatalf("exit %d, help:\n%s", code, stderr)
			}
		})
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "parley demo") || !strings.Contains(out, "parley loadtest calls") {
		t.Fatalf("top-level help: %d %s", code, out)
	}
	if code, _, stderr := run("loadtest", "calls", "--help"); code != 0 || !strings.Contains(stderr, "-calls") || !strings.Contains(stderr, "-admin-email") {
		t.Fatalf("loadtest help: exit %d:\n%s", code, stderr)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "parley ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, stderr := run("launch"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, stderr)
	}
}

func TestMigrate(t *testing.T) {
	// Every migration of internal/store/migrations, in order.
	files, err := filepath.Glob("../store/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	versions := make([]string, len(files))
	for i := range files {
		versions[i] = strconv.Itoa(i + 1)
	}
	dir := t.TempDir()
	code, out, stderr := run("migrate", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "applied migrations ["+strings.Join(versions, " ")+"]") {
		t.Fatalf("first migrate: %d %s %s", code, out, stderr)
	}
	code, out, _ = run("migrate", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %d %s", code, out)
	}
	code, out, _ = run("migrate", "--database-url", "sqlite://"+filepath.Join(dir, "other.db"))
	if code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("sqlite:// URL: %d %s", code, out)
	}
}

func TestInvalidConfigStopsStartup(t *testing.T) {
	code, _, stderr := run("serve", "--http-addr", "nowhere", "--log-level", "loud")
	if code != 1 || !strings.Contains(stderr, "http.addr") || !strings.Contains(stderr, "log.level") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Setenv("PARLEY_REALTIME_MAX_FRAME_BYTES", "12")
	code, _, stderr = run("serve")
	if code != 1 || !strings.Contains(stderr, "max_frame_bytes") {
		t.Fatalf("env var not validated: %d %s", code, stderr)
	}
}

// simulate --seeds runs one workload with several seeds and prints a row each, with the cross-seed bound.
func TestSimulateSeeds(t *testing.T) {
	code, out, stderr := run("simulate", "--seeds", "2", "--agents", "5", "--load", "0.9", "--duration", "40m", "--warmup", "10m")
	if code != 0 || !strings.Contains(out, "cross-seed MdAPE") || !strings.Contains(out, "\n     1 ") || !strings.Contains(out, "\n     2 ") ||
		!strings.Contains(out, "mean") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := run("simulate", "--seeds", "2", "--matrix"); code == 0 || !strings.Contains(stderr, "--seeds") {
		t.Fatalf("--seeds with --matrix: exit %d: %s", code, stderr)
	}
}
