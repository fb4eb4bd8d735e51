package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/server"
	"github.com/parley/parley/internal/store"
)

// startTURN starts the embedded TURN server in front of the relay, unless turn.enabled is off (then both results
// are nil). The issuer hands out its URLs with fresh credentials. The secret is turn.secret, or one generated once
// and kept in the database, so that every node accepts the credentials any node issues.
func startTURN(ctx context.Context, cfg config.Config, st *store.Store, relay *media.Relay, now func() time.Time,
	log *slog.Logger) (*media.TURNServer, *media.TURNIssuer, error) {
	t := cfg.TURN
	if !t.Enabled {
		log.Info("TURN server off (turn.enabled)")
		return nil, nil, nil
	}
	secret := t.Secret
	if secret == "" {
		var err error
		if secret, err = st.SettingOrInit(ctx, "turn_secret", auth.RandomString(32)); err != nil {
			return nil, nil, err
		}
	}
	certFile, keyFile := t.TLSCert, t.TLSKey
	if certFile == "" {
		certFile, keyFile = cfg.HTTP.TLSCert, cfg.HTTP.TLSKey
	}
	tlsPort := t.TLSPort
	var cert *tls.Certificate
	switch {
	case tlsPort < 0:
	case certFile == "":
		log.Info("TURN over TLS off: no certificate (turn.tls_cert or http.tls_cert)")
		tlsPort = -1
	default:
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("turn.tls_cert/tls_key: %w", err)
		}
		cert = &c
	}
	if t.UDPPort < 0 && tlsPort < 0 {
		log.Warn("TURN server off: its UDP port is off and TLS has no certificate")
		return nil, nil, nil
	}
	publicIP := t.PublicIP
	if publicIP == "" {
		publicIP = cfg.Media.PublicIP
	}
	srv, err := media.NewTURN(media.TURNConfig{UDPPort: t.UDPPort, TLSPort: tlsPort, ListenIP: cfg.Media.ListenIP,
		PublicIP: publicIP, RelayPortMin: t.RelayPortMin, RelayPortMax: t.RelayPortMax, Secret: secret,
		Certificate: cert}, relay, log)
	if err != nil {
		return nil, nil, err
	}
	issuer := &media.TURNIssuer{Secret: secret, Host: turnHost(cfg, srv), TTL: t.CredentialTTL, Now: now}
	if a := srv.UDPAddr(); a != nil {
		issuer.UDPPort = a.Port
	}
	if a := srv.TLSAddr(); a != nil {
		issuer.TLSPort = a.Port
	}
	return srv, issuer, nil
}

// turnHost is the host in the TURN URLs: http.public_url's host name, which the TLS certificate names, or else the
// TURN server's own address.
func turnHost(cfg config.Config, srv *media.TURNServer) string {
	if u, err := url.Parse(cfg.HTTP.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return srv.RelayedIP().String()
}

// callICEServers hands each side of a call its own TURN credentials (username "expiry:callID-side").
func callICEServers(issuer *media.TURNIssuer, log *slog.Logger) func(callID string, side media.Side) []notify.ICEServer {
	if issuer == nil {
		return nil
	}
	return func(callID string, side media.Side) []notify.ICEServer {
		servers, err := issuer.ICEServers(callID + "-" + string(side))
		if err != nil {
			log.Warn("TURN credentials", slog.String("call_id", callID), slog.Any("error", err))
			return nil
		}
		out := make([]notify.ICEServer, 0, len(servers))
		for _, s := range servers {
			out = append(out, notify.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		}
		return out
	}
}

// checkDeps are the pre-call check's: the relay's ports, its echo, and TURN credentials that last 5 minutes.
func checkDeps(relay *media.Relay, echo *media.Echo, issuer *media.TURNIssuer) server.CheckDeps {
	d := server.CheckDeps{Echo: echo, UDPPort: relay.UDPAddr().Port}
	if a := relay.TCPAddr(); a != nil {
		d.TCPPort = a.Port
	}
	if issuer != nil {
		short := *issuer
		short.TTL = 5 * time.Minute
		d.ICEServers = short.ICEServers
	}
	return d
}
