// Package cli is the parley command: serve, demo, migrate, simulate, loadtest and version.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/parley/parley/internal/app"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/loadtest"
	"github.com/parley/parley/internal/server"
	"github.com/parley/parley/internal/store"
)

const usage = `Parley: a self-hosted customer-engagement server (chat, then video, with your visitors).

Usage:
  parley serve   [flags]   run a Parley node
  parley demo    [flags]   run with demo data: a shop page with the widget, agents and an admin
  parley migrate [flags]   apply database migrations and exit
  parley simulate [flags]  run the distribution engine on a simulated workload and report ETA accuracy
  parley loadtest calls [flags]  run concurrent video calls through a running server and measure its relay
  parley version           print the version

Run "parley COMMAND --help" for a command's flags.
`

// Run runs the command line args (without the program name) and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr, false)
	case "demo":
		err = serve(args[1:], stdout, stderr, true)
	case "migrate":
		err = migrate(args[1:], stdout, stderr)
	case "simulate":
		err = simulateCmd(args[1:], stdout, stderr)
	case "loadtest":
		err = loadtest.Main(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "parley", Version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	return 0
}

// Version is the module version, or the VCS revision of a development build.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

// loadConfig builds the config from defaults, the --config file, PARLEY_* variables and flags, in that order, and
// validates it.
func loadConfig(name string, args []string, stderr io.Writer, defaults config.Config) (config.Config, error) {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML config file (see config.sample.yaml)")
	addr := fs.String("http-addr", defaults.HTTP.Addr, "HTTP listen address")
	dataDir := fs.String("data-dir", defaults.DataDir, "directory for the SQLite database")
	dbURL := fs.String("database-url", "", "postgres://... to use PostgreSQL (default: SQLite in the data dir)")
	natsURL := fs.String("nats-url", "", "nats://... to connect nodes through NATS (default: in-process bus)")
	publicURL := fs.String("public-url", "", "the URL browsers use to reach Parley, e.g. https://chat.example.com")
	logLevel := fs.String("log-level", defaults.Log.Level, "debug, info, warn or error")
	logFormat := fs.String("log-format", defaults.Log.Format, "text or json")
	tlsCert := fs.String("tls-cert", defaults.HTTP.TLSCert, "PEM certificate file: serve HTTPS (with --tls-key)")
	tlsKey := fs.String("tls-key", defaults.HTTP.TLSKey, "PEM private key file of --tls-cert")
	redirectAddr := fs.String("redirect-addr", defaults.HTTP.RedirectAddr, "with TLS, also listen here (e.g. :80) and redirect to HTTPS")
	debugAddr := fs.String("debug-addr", defaults.HTTP.DebugAddr, "serve Go's profiler (/debug/pprof/) here, e.g. 127.0.0.1:6060 (default: off)")
	udpPort := fs.Int("media-udp-port", defaults.Media.UDPPort, "the UDP port that carries every video call (0: a free port)")
	tcpPort := fs.Int("media-tcp-port", defaults.Media.TCPPort, "the ICE-TCP port for video calls (0: a free port, -1: off)")
	publicIP := fs.String("media-public-ip", defaults.Media.PublicIP, "the IP browsers reach the media relay at, behind NAT")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nEnvironment variables (flags win over them, they win over the config file):\n  %s\n",
			strings.Join(config.EnvNames(), "\n  "))
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := defaults
	if *file != "" {
		if err := cfg.LoadFile(*file); err != nil {
			return config.Config{}, err
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return config.Config{}, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "http-addr":
			cfg.HTTP.Addr = *addr
		case "data-dir":
			cfg.DataDir = *dataDir
		case "database-url":
			cfg.Database.URL = *dbURL
		case "nats-url":
			cfg.Bus.NATSURL = *natsURL
		case "public-url":
			cfg.HTTP.PublicURL = *publicURL
		case "log-level":
			cfg.Log.Level = *logLevel
		case "log-format":
			cfg.Log.Format = *logFormat
		case "tls-cert":
			cfg.HTTP.TLSCert = *tlsCert
		case "tls-key":
			cfg.HTTP.TLSKey = *tlsKey
		case "redirect-addr":
			cfg.HTTP.RedirectAddr = *redirectAddr
		case "debug-addr":
			cfg.HTTP.DebugAddr = *debugAddr
		case "media-udp-port":
			cfg.Media.UDPPort = *udpPort
		case "media-tcp-port":
			cfg.Media.TCPPort = *tcpPort
		case "media-public-ip":
			cfg.Media.PublicIP = *publicIP
		}
	})
	if err := cfg.Validate(); err != nil {
		return config.Config{}, fmt.Errorf("invalid config:\n%w", err)
	}
	return cfg, nil
}

func serve(args []string, stdout, stderr io.Writer, isDemo bool) error {
	defaults := config.Default()
	name := "serve"
	if isDemo {
		name = "demo"
		defaults.DataDir = "./parley-demo-data"
		defaults.Media.ListenIP = "127.0.0.1" // the demo's calls stay on this machine
	}
	cfg, err := loadConfig(name, args, stderr, defaults)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var before func(context.Context, *store.Store, string) (string, error)
	if isDemo {
		before = func(ctx context.Context, st *store.Store, addr string) (string, error) {
			site, err := demo.Seed(ctx, st, addr)
			if err != nil {
				return "", fmt.Errorf("seed demo: %w", err)
			}
			base := "http://" + addr
			if cfg.HTTP.PublicURL != "" {
				base = strings.TrimRight(cfg.HTTP.PublicURL, "/")
			}
			fmt.Fprintf(stdout, `
Parley demo is running.

  Demo shop (a visitor's view):  %[1]s/demo/
  Demo shop, signed in:          %[1]s/demo/?customer=claire
  Demo shop with a bot:          %[1]s/demo/bot/
  Agent desk:                    %[1]s/desk/
  Admin:                         %[1]s/admin/

  Agents:  %[2]s and %[3]s
  Admin:   %[4]s
  Password for all three: %[5]s

  Install snippet of the demo site:
  %[6]s

Data is kept in %[7]s. Press Ctrl+C to stop.

`, base, demo.AnaEmail, demo.BenEmail, demo.AdminEmail, demo.Password, server.Snippet(base, site.PublicID), cfg.DataDir)
			return site.PublicID, nil
		}
	}
	return app.Run(ctx, cfg, log, before, nil)
}

func migrate(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("migrate", args, stderr, config.Default())
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.URL, cfg.DataDir, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s database is up to date\n", st.Dialect())
		return nil
	}
	fmt.Fprintf(stdout, "applied migrations %v to the %s database\n", applied, st.Dialect())
	return nil
}
