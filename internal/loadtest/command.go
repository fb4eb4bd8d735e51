package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/parley/parley/internal/demo"
)

const usage = `Usage: parley loadtest calls [flags]

Runs concurrent video calls through a running Parley server (normally "parley demo") and measures its media
relay. Each call has a visitor and an agent, each a synthetic WebRTC peer that sends video and Opus-sized audio
through the relay, over the real signalling and DTLS-SRTP. The load test creates the agents it needs through the
admin API ("Load agent 001", ...), in the routing group of the site, and reuses them on later runs.

It reports the calls established and why others failed, the server's CPU and memory per call, the loss, the
relay's forwarding time, the one-way delay and the time from joining to the first media. It exits with status 1
when more than 5% of the calls failed.
`

// maxFailedPct is the share of failed calls above which the command fails.
const maxFailedPct = 5

// Main runs `parley loadtest` with its arguments (after "loadtest"). Ctrl+C stops the load test cleanly: the calls
// are hung up, the agents go offline and the group's settings are restored; a second Ctrl+C stops at once.
func Main(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("loadtest: name a scenario: calls")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	case "calls":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("loadtest: unknown scenario %q", args[0])
	}
	cfg := Config{}
	fs := flag.NewFlagSet("parley loadtest calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", DefaultURL, "the running Parley server")
	fs.IntVar(&cfg.Calls, "calls", DefaultCalls, "concurrent calls")
	fs.DurationVar(&cfg.Duration, "duration", DefaultDuration, "how long all the calls stay up, measured, once started")
	fs.StringVar(&cfg.AdminEmail, "admin-email", demo.AdminEmail, "an admin's email, to set up the agents")
	fs.StringVar(&cfg.AdminPassword, "admin-password", demo.Password, "that admin's password")
	fs.StringVar(&cfg.Site, "site", "", "public id or name of the site the visitors come from (default: the demo site)")
	fs.IntVar(&cfg.VideoKbps, "video-kbps", DefaultVideoKbps, "video bitrate each peer sends")
	fs.Float64Var(&cfg.Ramp, "ramp", DefaultRamp, "calls started per second")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprint(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected argument %q", fs.Arg(0))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl+C ends the process at once
	}()
	res, err := Run(ctx, cfg, stderr)
	if res != nil && (err == nil || errors.Is(err, ErrInterrupted)) {
		if sameMachine(cfg.URL) {
			cores := runtime.NumCPU()
			if res.Generator != nil {
				cores = res.Generator.MachineCores
			}
			res.Notes = append(res.Notes, fmt.Sprintf("The server and this load generator (%d peers) run on the same machine (%d CPU cores): "+
				"the delays and times include the generator's own work.", 2*cfg.Calls, cores))
		}
		if *asJSON {
			err = errors.Join(err, res.WriteJSON(stdout))
		} else {
			err = errors.Join(err, res.WriteText(stdout))
		}
	}
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if res.FailedPct > maxFailedPct {
		return fmt.Errorf("loadtest: %d of %d calls failed (%.1f%%, more than %d%%)", res.Failed, res.Calls, res.FailedPct, maxFailedPct)
	}
	return nil
}

// sameMachine reports whether the server's URL names this machine.
func sameMachine(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
