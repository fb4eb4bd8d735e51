package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The sample file documents every field with its default: loading it must change nothing.
func TestSampleMatchesDefaults(t *testing.T) {
	c := Default()
	if err := c.LoadFile("../../config.sample.yaml"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("config.sample.yaml differs from the defaults:\n%+v\n%+v", c, Default())
	}
	raw, _ := os.ReadFile("../../config.sample.yaml")
	for _, name := range EnvNames() {
		key := strings.ToLower(name[strings.LastIndex(name, "_")+1:])
		if !strings.Contains(string(raw), key) {
			t.Errorf("config.sample.yaml doesn't document %s", name)
		}
	}
}

func TestUnknownFieldIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("http:\n  adr: 1.2.3.4:80\n"), 0o600)
	c := Default()
	if err := c.LoadFile(p); err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("typo accepted: %v", err)
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("http:\n  addr: 0.0.0.0:9000\nrealtime:\n  ping_interval: 10s\nbus:\n  nats_url: nats://a:4222\n"), 0o600)
	c := Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PARLEY_BUS_NATS_URL": "nats://b:4222", "PARLEY_REALTIME_CONN_RATE": "2.5", "PARLEY_HTTP_TRUST_PROXY": "true"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "0.0.0.0:9000" || c.Realtime.PingInterval != 10*time.Second || c.Bus.NATSURL != "nats://b:4222" ||
		c.Realtime.ConnRate != 2.5 || !c.HTTP.TrustProxy {
		t.Fatalf("got %+v", c)
	}
	bad := map[string]string{"PARLEY_REALTIME_SEND_QUEUE": "lots"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := bad[k]; return v, ok }); err == nil {
		t.Fatal("non-numeric PARLEY_REALTIME_SEND_QUEUE accepted")
	}
}

// TURN off is valid whatever its other settings say.
func TestTURNOff(t *testing.T) {
	c := Default()
	c.TURN = TURNConfig{Enabled: false, UDPPort: -1, TLSPort: -1}
	if err := c.Validate(); err != nil {
		t.Fatalf("TURN off: %v", err)
	}
	c.TURN.Enabled = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "turn.udp_port") {
		t.Fatalf("TURN on without ports: %v", err)
	}
}

func TestValidate(t *testing.T) {
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := map[string]func(*Config){
		"addr":       func(c *Config) { c.HTTP.Addr = "nope" },
		"db":         func(c *Config) { c.Database.URL = "mysql://x" },
		"nats":       func(c *Config) { c.Bus.NATSURL = "http://x" },
		"level":      func(c *Config) { c.Log.Level = "loud" },
		"secret":     func(c *Config) { c.Auth.Secret = "short" },
		"frame":      func(c *Config) { c.Realtime.MaxFrameBytes = 10 },
		"ping":       func(c *Config) { c.Realtime.PingInterval = time.Hour },
		"publicurl":  func(c *Config) { c.HTTP.PublicURL = "chat.example.com" },
		"turnttl":    func(c *Config) { c.TURN.CredentialTTL = 2 * time.Hour },
		"turnrange":  func(c *Config) { c.TURN.RelayPortMin, c.TURN.RelayPortMax = 60000, 50000 },
		"turnports":  func(c *Config) { c.TURN.UDPPort, c.TURN.TLSPort = -1, -1 },
		"turnsecret": func(c *Config) { c.TURN.Secret = "short" },
		"turncert":   func(c *Config) { c.TURN.TLSCert = "cert.pem" },
		"debugaddr":  func(c *Config) { c.HTTP.DebugAddr = "6060" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := Default()
			mutate(&c)
			if c.Validate() == nil {
				t.Fatal("invalid config accepted")
			}
		})
	}
}

// The video phrases come from the file as a list, or from PARLEY_BOTS_VIDEO_PHRASES separated by "|".
func TestVideoPhrases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("bots:\n  video_phrases:\n    - On passe en vidéo\n"), 0o600)
	c := Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Bots.VideoPhrases, []string{"On passe en vidéo"}) {
		t.Fatalf("from the file: %q", c.Bots.VideoPhrases)
	}
	env := map[string]string{"PARLEY_BOTS_VIDEO_PHRASES": "Video now | Vidéo maintenant|"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Bots.VideoPhrases, []string{"Video now", "Vidéo maintenant"}) {
		t.Fatalf("from the environment: %q", c.Bots.VideoPhrases)
	}
	c.Bots.VideoPhrases = []string{" "}
	c.Bots.WebhookAttempts = 0
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "bots.video_phrases") || !strings.Contains(err.Error(), "bots.webhook_attempts") {
		t.Fatalf("bad bot settings: %v", err)
	}
}
