// Package config holds Parley's settings: one struct with defaults, read from a YAML file, PARLEY_* environment
// variables and command-line flags (in that order, each overriding the one before), decoded strictly and validated
// before anything starts.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is every setting of a Parley node. Each field's comment says what it does and what it costs; the same text
// is in config.sample.yaml.
type Config struct {
	// DataDir is where the embedded SQLite database and generated secrets live. Default "./parley-data".
	DataDir  string         `yaml:"data_dir"`
	HTTP     HTTPConfig     `yaml:"http"`
	Database DatabaseConfig `yaml:"database"`
	Bus      BusConfig      `yaml:"bus"`
	Log      LogConfig      `yaml:"log"`
	Auth     AuthConfig     `yaml:"auth"`
	Realtime RealtimeConfig `yaml:"realtime"`
	Chat     ChatConfig     `yaml:"chat"`
	Media    MediaConfig    `yaml:"media"`
	TURN     TURNConfig     `yaml:"turn"`
	Bots     BotsConfig     `yaml:"bots"`
}

// ChatConfig covers conversations once they are under way.
type ChatConfig struct {
	// CloseInactiveAfter closes a conversation in which nothing was said for this long (and no video call is under
	// way, and nobody waits in a queue for it): its visitor has most likely left, and it would hold one of the
	// agent's chat slots until somebody ended it. The visitor and the agent see why it ended. 0 never closes one.
	// Default 30m.
	CloseInactiveAfter time.Duration `yaml:"close_inactive_after"`
	// MaxFileBytes is the largest file a visitor or an agent may send in a chat, in bytes. Files are kept in the
	// database. 0 turns files off (the widget and the desk then show no button for them). Default 10485760 (10 MiB).
	MaxFileBytes int `yaml:"max_file_bytes"`
}

// BotsConfig covers the bots that answer visitors first (internal/bot) and the webhooks sent to external bots.
type BotsConfig struct {
	// VideoPhrases: when a bot's transfer card contains one of these phrases (ignoring case and accents), the
	// conversation moves to video as soon as an agent takes it. Empty: handovers always stay chats. In an
	// environment variable, separate the phrases with "|".
	VideoPhrases []string `yaml:"video_phrases"`
	// WebhookTimeout is how long one webhook attempt may take. Longer waits longer for a slow bot before retrying.
	// Default 5s.
	WebhookTimeout time.Duration `yaml:"webhook_timeout"`
	// WebhookAttempts is how many times a webhook is tried (waiting 1s, then 2s, 4s, ... in between) before the
	// conversation is handed to the agents. Default 3.
	WebhookAttempts int `yaml:"webhook_attempts"`
}

// DefaultVideoPhrases are the transfer-card phrases that move a conversation to video, in English and French.
var DefaultVideoPhrases = []string{"You will be connected by video", "Vous allez être mis en relation par vidéo"}

// MediaConfig is the media relay that carries every video call: one UDP port for all calls, and ICE-TCP on one TCP
// port for networks that block UDP. Open both in the firewall.
type MediaConfig struct {
	// UDPPort is the one UDP port for every call's media (ICE UDP mux). Default 7882; 0 picks a free port.
	UDPPort int `yaml:"udp_port"`
	// TCPPort is the ICE-TCP port, for visitors whose network blocks UDP. Default 7881; 0 picks a free port; -1 turns
	// ICE-TCP off.
	TCPPort int `yaml:"tcp_port"`
	// ListenIP is the address the relay binds. Default "0.0.0.0" (every interface); "127.0.0.1" keeps calls on
	// this machine.
	ListenIP string `yaml:"listen_ip"`
	// PublicIP is the address browsers reach the relay at, when the server sits behind NAT (a cloud VM's public
	// address). Empty: the addresses of the server's own interfaces.
	PublicIP string `yaml:"public_ip"`
}

// TURNConfig is the embedded TURN server (RFC 8656): the last way in for a browser whose network blocks UDP and
// the relay's TCP port, over TLS on a port firewalls let through. It relays to this node's media relay only, and
// only for the two participants of a call, with short-lived credentials.
type TURNConfig struct {
	// Enabled runs the TURN server, and hands TURN credentials to the participants of each live call. Default true.
	Enabled bool `yaml:"enabled"`
	// UDPPort is TURN over UDP (turn: URLs). Default 3478; -1 turns it off. Open it in the firewall.
	UDPPort int `yaml:"udp_port"`
	// TLSPort is TURN over TLS (turns: URLs), for networks that let only TLS out. Default 5349; -1 turns it off.
	// It needs a certificate (tls_cert, or http.tls_cert): without one it stays off. 443 gets through the strictest
	// firewalls, when nothing else on this address uses it (Parley's HTTPS on another address, or behind a proxy on
	// another host).
	TLSPort int `yaml:"tls_port"`
	// PublicIP is the address put in relayed candidates, behind NAT. Empty: media.public_ip, or the relay's address.
	PublicIP string `yaml:"public_ip"`
	// RelayPortMin and RelayPortMax bound the port of each TURN allocation's relayed socket. The TURN server uses
	// them only to talk to the media relay on this node: the firewall need not open them. Each allocation takes
	// one; a browser makes one or two per call. Default 50000 to 50999.
	RelayPortMin int `yaml:"relay_port_min"`
	RelayPortMax int `yaml:"relay_port_max"`
	// Secret signs TURN credentials (the TURN REST API's shared secret). Empty means a random secret generated once
	// and kept in the database, shared by all nodes. At least 32 characters when set.
	Secret string `yaml:"secret"`
	// CredentialTTL is how long the credentials handed to a call's participants may open new TURN allocations.
	// An allocation made in time lives on for the whole call. Default and maximum 1h.
	CredentialTTL time.Duration `yaml:"credential_ttl"`
	// TLSCert and TLSKey are PEM files for TURN over TLS; empty: http.tls_cert and http.tls_key. Browsers check
	// the certificate against the host in the turns: URL (http.public_url's host).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// HTTPConfig is the web server: the widget, the desk, the APIs and the WebSockets all share it.
type HTTPConfig struct {
	// Addr is the TCP address to listen on. Default "127.0.0.1:8080"; use ":443" or ":8080" behind a proxy.
	Addr string `yaml:"addr"`
	// PublicURL is the address visitors' browsers use to reach Parley, e.g. "https://chat.example.com". It goes into
	// the install snippet. Empty means "derive it from each request's Host header".
	PublicURL string `yaml:"public_url"`
	// TrustProxy makes Parley believe X-Forwarded-Proto from a reverse proxy in front of it. Only turn it on when
	// such a proxy exists, or clients can lie about being on HTTPS.
	TrustProxy bool `yaml:"trust_proxy"`
	// TLSCert and TLSKey are PEM files: with both set, Parley serves HTTPS itself on Addr (browsers give the camera
	// only to HTTPS pages). Empty: plain HTTP, for localhost or behind a TLS-terminating proxy.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// RedirectAddr, with TLS on, also listens there (e.g. ":80") and redirects every request to HTTPS. Empty: off.
	RedirectAddr string `yaml:"redirect_addr"`
	// DebugAddr, when set (e.g. "127.0.0.1:6060"), serves Go's profiler (/debug/pprof/) there, for measuring a
	// running server. Keep it on a loopback address: profiles show internals. Empty: off.
	DebugAddr string `yaml:"debug_addr"`
}

// DatabaseConfig chooses the store.
type DatabaseConfig struct {
	// URL selects the database. Empty means SQLite in DataDir/parley.db. "postgres://user@host:5432/db" uses
	// PostgreSQL (needed to run more than one node). "sqlite:///path/file.db" names another SQLite file.
	URL string `yaml:"url"`
	// MaxOpenConns caps the pool. Default 16. More connections help only when PostgreSQL has cores to spare: on a
	// 2-core machine shared with PostgreSQL, 32 routed fewer conversations than 16, and 8 had a longer tail
	// (BENCHMARKS.md).
	MaxOpenConns int `yaml:"max_open_conns"`
}

// BusConfig chooses how nodes notify each other.
type BusConfig struct {
	// NATSURL, when set (e.g. "nats://127.0.0.1:4222"), carries notifications between nodes over NATS. Empty means
	// the in-process bus, which only reaches connections on this node.
	NATSURL string `yaml:"nats_url"`
}

// LogConfig sets up log/slog.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text (for people) or json (for log collectors). Default text.
	Format string `yaml:"format"`
}

// AuthConfig covers agent sessions and visitor tokens.
type AuthConfig struct {
	// SessionTTL is how long an agent stays logged in without activity. Default 12h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// VisitorTokenTTL is how long a visitor's signed token is valid; the widget renews it on each page load, so a
	// returning visitor within this time keeps their conversations. Default 720h (30 days).
	VisitorTokenTTL time.Duration `yaml:"visitor_token_ttl"`
	// Secret signs visitor tokens. Empty means a random secret generated once and kept in the database, shared by
	// all nodes. Set it to rotate the key (every visitor then gets a new identity).
	Secret string `yaml:"secret"`
}

// RealtimeConfig limits what one socket may do. Lower limits protect the server; higher ones cost memory and CPU.
type RealtimeConfig struct {
	// MaxFrameBytes is the largest frame accepted; a larger one gets error 102. Default 16384.
	MaxFrameBytes int `yaml:"max_frame_bytes"`
	// MaxMessageChars is the longest chat message, in characters. Default 4000.
	MaxMessageChars int `yaml:"max_message_chars"`
	// PingInterval is how often the server pings each socket. Shorter finds dead peers sooner and costs more
	// wake-ups with many idle visitors. Default 25s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// IdleTimeout closes a socket silent for this long (code 4002). Default 60s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ConnRate and ConnBurst limit messages per connection (per second, and the burst allowed). Default 5 and 20.
	ConnRate  float64 `yaml:"conn_rate"`
	ConnBurst int     `yaml:"conn_burst"`
	// VisitorRate and VisitorBurst limit messages per visitor, across their tabs, on this node. Default 10 and 30.
	VisitorRate  float64 `yaml:"visitor_rate"`
	VisitorBurst int     `yaml:"visitor_burst"`
	// SiteRate and SiteBurst limit messages per site on this node. Default 200 and 400.
	SiteRate  float64 `yaml:"site_rate"`
	SiteBurst int     `yaml:"site_burst"`
	// SendQueue is how many frames may wait for a slow socket before it is closed (code 4001). Each waiting frame
	// costs its size in memory. Default 256.
	SendQueue int `yaml:"send_queue"`
}

// Default returns the settings used when nothing else is given.
func Default() Config {
	return Config{
		DataDir:  "./parley-data",
		HTTP:     HTTPConfig{Addr: "127.0.0.1:8080"},
		Database: DatabaseConfig{MaxOpenConns: 16},
		Log:      LogConfig{Level: "info", Format: "text"},
		Auth:     AuthConfig{SessionTTL: 12 * time.Hour, VisitorTokenTTL: 30 * 24 * time.Hour},
		Realtime: RealtimeConfig{
			MaxFrameBytes: 16 << 10, MaxMessageChars: 4000,
			PingInterval: 25 * time.Second, IdleTimeout: 60 * time.Second,
			ConnRate: 5, ConnBurst: 20, VisitorRate: 10, VisitorBurst: 30, SiteRate: 200, SiteBurst: 400,
			SendQueue: 256,
		},
		Chat:  ChatConfig{CloseInactiveAfter: 30 * time.Minute, MaxFileBytes: 10 << 20},
		Media: MediaConfig{UDPPort: 7882, TCPPort: 7881, ListenIP: "0.0.0.0"},
		TURN: TURNConfig{Enabled: true, UDPPort: 3478, TLSPort: 5349, RelayPortMin: 50000, RelayPortMax: 50999,
			CredentialTTL: time.Hour},
		Bots: BotsConfig{VideoPhrases: append([]string(nil), DefaultVideoPhrases...), WebhookTimeout: 5 * time.Second,
			WebhookAttempts: 3},
	}
}

// LoadFile decodes a YAML file over c. Unknown keys are errors, so a typo never goes unnoticed.
func (c *Config) LoadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// LoadEnv applies PARLEY_* variables. Each field's variable is its YAML path in upper case joined by underscores:
// http.addr is PARLEY_HTTP_ADDR, bus.nats_url is PARLEY_BUS_NATS_URL.
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	return walk(reflect.ValueOf(c).Elem(), "PARLEY", func(name string, v reflect.Value) error {
		s, ok := lookup(name)
		if !ok {
			return nil
		}
		if err := setString(v, s); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
		return nil
	})
}

// EnvNames lists every environment variable LoadEnv reads, for --help.
func EnvNames() []string {
	var names []string
	c := Default()
	_ = walk(reflect.ValueOf(&c).Elem(), "PARLEY", func(name string, _ reflect.Value) error {
		names = append(names, name)
		return nil
	})
	return names
}

func walk(v reflect.Value, prefix string, fn func(string, reflect.Value) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			if err := walk(f, name, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(name, f); err != nil {
			return err
		}
	}
	return nil
}

func setString(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		parts := []string{}
		for _, p := range strings.Split(s, "|") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, why string) { errs = append(errs, fmt.Errorf("%s: %s", field, why)) }
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		bad("http.tls_cert", "tls_cert and tls_key go together: set both for HTTPS, or neither")
	}
	if c.HTTP.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.DebugAddr); err != nil {
			bad("http.debug_addr", "must be host:port, e.g. 127.0.0.1:6060")
		}
	}
	if c.HTTP.RedirectAddr != "" {
		if c.HTTP.TLSCert == "" {
			bad("http.redirect_addr", "redirects to HTTPS need tls_cert and tls_key")
		} else if _, _, err := net.SplitHostPort(c.HTTP.RedirectAddr); err != nil {
			bad("http.redirect_addr", "must be host:port, e.g. :80")
		}
	}
	if c.HTTP.PublicURL != "" {
		u, err := url.Parse(c.HTTP.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("http.public_url", "must be an http:// or https:// URL")
		}
	}
	if u := c.Database.URL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "sqlite://") {
		bad("database.url", "must start with postgres://, postgresql:// or sqlite://")
	}
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns", "must be at least 1")
	}
	if u := c.Bus.NATSURL; u != "" && !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
		bad("bus.nats_url", "must start with nats:// or tls://")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error")
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json")
	}
	if c.Auth.SessionTTL < time.Minute {
		bad("auth.session_ttl", "must be at least 1m")
	}
	if c.Auth.VisitorTokenTTL < time.Minute {
		bad("auth.visitor_token_ttl", "must be at least 1m")
	}
	if c.Auth.Secret != "" && len(c.Auth.Secret) < 32 {
		bad("auth.secret", "must be at least 32 characters")
	}
	if c.Media.UDPPort < 0 || c.Media.UDPPort > 65535 {
		bad("media.udp_port", "must be a port number (0 picks a free one)")
	}
	if c.Media.TCPPort < -1 || c.Media.TCPPort > 65535 {
		bad("media.tcp_port", "must be a port number (0 picks a free one, -1 turns ICE-TCP off)")
	}
	if c.Media.ListenIP == "" || net.ParseIP(c.Media.ListenIP) == nil {
		bad("media.listen_ip", "must be an IP address, e.g. 0.0.0.0")
	}
	if c.Media.PublicIP != "" && net.ParseIP(c.Media.PublicIP) == nil {
		bad("media.public_ip", "must be an IP address")
	}
	if t := c.TURN; t.Enabled {
		if t.UDPPort < -1 || t.UDPPort > 65535 {
			bad("turn.udp_port", "must be a port number (0 picks a free one, -1 turns TURN over UDP off)")
		}
		if t.TLSPort < -1 || t.TLSPort > 65535 {
			bad("turn.tls_port", "must be a port number (0 picks a free one, -1 turns TURN over TLS off)")
		}
		if t.UDPPort == -1 && t.TLSPort == -1 {
			bad("turn.udp_port", "TURN needs its UDP or its TLS port: set turn.enabled to false to turn it off")
		}
		if t.RelayPortMin < 1024 || t.RelayPortMax > 65535 || t.RelayPortMin > t.RelayPortMax {
			bad("turn.relay_port_min", "relay_port_min and relay_port_max must be a range of ports from 1024 to 65535")
		}
		if t.PublicIP != "" && net.ParseIP(t.PublicIP) == nil {
			bad("turn.public_ip", "must be an IP address")
		}
		if t.Secret != "" && len(t.Secret) < 32 {
			bad("turn.secret", "must be at least 32 characters")
		}
		if t.CredentialTTL < time.Minute || t.CredentialTTL > time.Hour {
			bad("turn.credential_ttl", "must be between 1m and 1h")
		}
		if (t.TLSCert == "") != (t.TLSKey == "") {
			bad("turn.tls_cert", "tls_cert and tls_key go together: set both, or neither to use http's")
		}
		if t.UDPPort > 0 && (t.UDPPort == c.Media.UDPPort) {
			bad("turn.udp_port", "must differ from media.udp_port")
		}
	}
	if c.Bots.WebhookTimeout < 100*time.Millisecond || c.Bots.WebhookTimeout > time.Minute {
		bad("bots.webhook_timeout", "must be between 100ms and 1m")
	}
	if c.Bots.WebhookAttempts < 1 || c.Bots.WebhookAttempts > 10 {
		bad("bots.webhook_attempts", "must be between 1 and 10")
	}
	for _, p := range c.Bots.VideoPhrases {
		if strings.TrimSpace(p) == "" || len(p) > 200 {
			bad("bots.video_phrases", "each phrase must have 1 to 200 characters")
			break
		}
	}
	if c.Chat.CloseInactiveAfter < 0 {
		bad("chat.close_inactive_after", "must be 0 (never) or a duration, like 30m")
	}
	if c.Chat.MaxFileBytes < 0 || c.Chat.MaxFileBytes > 100<<20 {
		bad("chat.max_file_bytes", "must be between 0 (no files) and 104857600 (100 MiB)")
	}
	r := c.Realtime
	if r.MaxFrameBytes < 1024 || r.MaxFrameBytes > 1<<20 {
		bad("realtime.max_frame_bytes", "must be between 1024 and 1048576")
	}
	if r.MaxMessageChars < 1 {
		bad("realtime.max_message_chars", "must be positive")
	}
	if r.PingInterval < time.Second || r.IdleTimeout <= r.PingInterval {
		bad("realtime.ping_interval", "must be at least 1s and shorter than realtime.idle_timeout")
	}
	if r.ConnRate <= 0 || r.VisitorRate <= 0 || r.SiteRate <= 0 || r.ConnBurst < 1 || r.VisitorBurst < 1 || r.SiteBurst < 1 {
		bad("realtime rates", "every rate and burst must be positive")
	}
	if r.SendQueue < 8 {
		bad("realtime.send_queue", "must be at least 8")
	}
	return errors.Join(errs...)
}
