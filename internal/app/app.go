// Package app is Parley's composition root: it builds every dependency by hand from the config, and runs the node.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/call"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/integrations"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/realtime"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/server"
	"github.com/parley/parley/internal/store"
	"github.com/parley/parley/internal/web"
	"github.com/parley/parley/internal/webhook"
)

// Open connects the store (migrating it) and the bus.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, bus.Bus, error) {
	st, err := store.Open(ctx, cfg.Database.URL, cfg.DataDir, cfg.Database.MaxOpenConns)
	if err != nil {
		return nil, nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", slog.Any("versions", applied), slog.String("database", st.Dialect()))
	}
	var b bus.Bus = bus.NewMemory()
	if cfg.Bus.NATSURL != "" {
		nb, err := bus.NewNATS(cfg.Bus.NATSURL, "parley", log)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("bus: %w", err)
		}
		b = nb
	}
	return st, b, nil
}

// Run serves until ctx ends, then shuts down gracefully. ready, if not nil, receives the listening address.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, beforeServe func(context.Context, *store.Store, string) (string, error), ready chan<- string) error {
	st, b, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	defer b.Close()

	secret := cfg.Auth.Secret
	if secret == "" {
		if secret, err = st.SettingOrInit(ctx, "visitor_token_secret", auth.RandomString(32)); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	addr := ln.Addr().String()
	var demoSite string
	if beforeServe != nil {
		if demoSite, err = beforeServe(ctx, st, addr); err != nil {
			ln.Close()
			return err
		}
	}

	m := metrics.New()
	now := time.Now
	nodeID := store.NewID("node")
	notifier := notify.New(st, b, log)
	router := routing.New(st, notifier, now, log, routing.DefaultConfig())
	relay, err := media.New(media.Config{UDPPort: cfg.Media.UDPPort, TCPPort: cfg.Media.TCPPort, ListenIP: cfg.Media.ListenIP,
		PublicIP: cfg.Media.PublicIP}, log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("media relay: %w", err)
	}
	defer relay.Close()
	m.Registry.MustRegister(relay.Collectors()...)
	turnSrv, turnIssuer, err := startTURN(ctx, cfg, st, relay, now, log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("turn server: %w", err)
	}
	if turnSrv != nil {
		defer turnSrv.Close()
		m.Registry.MustRegister(turnSrv.Collectors()...)
	}
	echo := media.NewEcho(relay, media.EchoConfig{})
	defer echo.Close()
	calls := call.New(call.Deps{Store: st, Router: router, Notifier: notifier, Relay: relay, Bus: b, NodeID: nodeID, Now: now, Log: log,
		SiteVideo: notify.SiteVideoFrom(st, log), ICEServers: callICEServers(turnIssuer, log)})
	if err := calls.Listen(); err != nil {
		ln.Close()
		return fmt.Errorf("calls: %w", err)
	}
	hooks := webhook.NewSender(webhook.Config{Timeout: cfg.Bots.WebhookTimeout, Attempts: cfg.Bots.WebhookAttempts,
		Backoff: time.Second, Workers: 4, Queue: 1024}, now, log)
	bots := bot.New(bot.Deps{Store: st, Notifier: notifier, Router: router, Video: calls, Webhooks: hooks,
		VideoPhrases: cfg.Bots.VideoPhrases, MaxMessage: cfg.Realtime.MaxMessageChars, Now: now, Log: log})
	// Webhooks to a company's own systems have their own delivery queue: a slow CRM never holds up a bot.
	outbound := webhook.NewSender(webhook.Config{Timeout: cfg.Bots.WebhookTimeout, Attempts: cfg.Bots.WebhookAttempts,
		Backoff: time.Second, Workers: 4, Queue: 4096}, now, log)
	dispatcher := integrations.New(st, outbound, now, log)
	notifier.OnEvents(dispatcher.Events)
	chatSvc := chat.NewService(chat.Deps{Store: st, Notifier: notifier, Router: router, Bots: bots, Now: now, Log: log, Metrics: m,
		MaxMessage: cfg.Realtime.MaxMessageChars, MaxFile: cfg.Chat.MaxFileBytes})
	signer := auth.NewVisitorSigner([]byte(secret))
	hub := realtime.NewHub(realtime.Deps{Config: cfg.Realtime, Store: st, Chat: chatSvc, Router: router, Calls: calls, Notifier: notifier,
		Bus: b, Signer: signer, Metrics: m, Log: log, Now: now, NodeID: nodeID})
	srv := server.New(server.Deps{Config: cfg, Store: st, Bus: b, Hub: hub, Router: router, Notifier: notifier, Bots: bots, Chat: chatSvc, Webhooks: dispatcher,
		Signer: signer, Metrics: m, Log: log, Now: now, Static: web.Static(), DemoSite: demoSite, Check: checkDeps(relay, echo, turnIssuer)})

	// The background loops stop, and are waited for, before the relay and the store they use close.
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var background sync.WaitGroup
	defer background.Wait()
	defer stopBackground()
	closeInactive := func(ctx context.Context) { chatSvc.RunInactivity(ctx, cfg.Chat.CloseInactiveAfter) }
	for _, run := range []func(context.Context){hub.Run, router.Run, calls.Run, hooks.Run, outbound.Run, dispatcher.Run, closeInactive} {
		background.Go(func() { run(bgCtx) })
	}

	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 2)
	if cfg.HTTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("http.tls_cert/tls_key: %w", err)
		}
		httpSrv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		go func() { errc <- httpSrv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- httpSrv.Serve(ln) }()
	}
	if cfg.HTTP.RedirectAddr != "" {
		redirect, err := redirectToHTTPS(cfg.HTTP.RedirectAddr, addr, log)
		if err != nil {
			httpSrv.Close()
			return err
		}
		defer redirect.Close()
		go func() { errc <- redirect.ListenAndServe() }()
	}
	if cfg.HTTP.DebugAddr != "" {
		debug, err := debugServer(cfg.HTTP.DebugAddr, log)
		if err != nil {
			httpSrv.Close()
			return err
		}
		defer debug.Close()
	}
	tcpAddr := "off"
	if a := relay.TCPAddr(); a != nil {
		tcpAddr = a.String()
	}
	log.Info("parley is listening", slog.String("addr", addr), slog.String("database", st.Dialect()), slog.String("node", nodeID),
		slog.String("media_udp", relay.UDPAddr().String()), slog.String("media_tcp", tcpAddr))
	if ready != nil {
		ready <- addr
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub.Shutdown()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// redirectToHTTPS listens on addr and sends every request to the same path over HTTPS, on the port of tlsAddr.
func redirectToHTTPS(addr, tlsAddr string, log *slog.Logger) (*http.Server, error) {
	_, port, err := net.SplitHostPort(tlsAddr)
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if port != "443" {
			host = net.JoinHostPort(host, port)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}, nil
}

// debugServer serves Go's profiler on addr, apart from the public listener.
func debugServer(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.debug_addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	log.Info("profiler listening", slog.String("addr", ln.Addr().String()))
	return srv, nil
}

// NewLogger builds the slog logger the config asks for.
func NewLogger(cfg config.LogConfig, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
