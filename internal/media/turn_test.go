package media

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/turn/v5"
)

const testTURNSecret = "a-test-secret-of-enough-length"

// testCert is a certificate for 127.0.0.1, made by setupTestCA. pion's TURN client checks the TURN server's
// certificate against the system's roots, with no way to pass others: the test binary's roots are this one alone
// (SSL_CERT_FILE, read once by crypto/x509).
var testCert *tls.Certificate

// setupTestCA makes a self-signed certificate for 127.0.0.1 and makes it the test binary's only trusted root. It
// returns a function that removes its file.
func setupTestCA() (func(), error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-media-ca")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	os.Setenv("SSL_CERT_FILE", file)
	os.Setenv("SSL_CERT_DIR", dir)
	testCert = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return func() { _ = os.RemoveAll(dir) }, nil
}

// newTestTURN starts a TURN server on loopback in front of r, over UDP and TLS, closed when the test ends.
func newTestTURN(t testing.TB, r *Relay, now func() time.Time) *TURNServer {
	t.Helper()
	ts, err := NewTURN(TURNConfig{ListenIP: "127.0.0.1", Secret: testTURNSecret, Certificate: testCert,
		RelayPortMin: 40000, RelayPortMax: 40999, now: now}, r, testLog())
	if err != nil {
		t.Fatalf("NewTURN: %v", err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	return ts
}

// turnServers are the ICE servers a call's participant gets for ts, with fresh credentials.
func turnServers(t testing.TB, ts *TURNServer, user string, udp, tls bool) []ICEServer {
	t.Helper()
	username, password, _, err := TURNCredentials(testTURNSecret, user, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := ICEServer{Username: username, Credential: password}
	if udp {
		s.URLs = append(s.URLs, fmt.Sprintf("turn:127.0.0.1:%d?transport=udp", ts.UDPAddr().Port))
	}
	if tls {
		s.URLs = append(s.URLs, fmt.Sprintf("turns:127.0.0.1:%d?transport=tcp", ts.TLSAddr().Port))
	}
	return []ICEServer{s}
}

func TestTURNCredentialsFormat(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	user, pass, exp, err := TURNCredentials("secret", "call_1-visitor", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if user != "1800003600:call_1-visitor" || !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("username %q, expires %v", user, exp)
	}
	// The TURN REST API draft's password: base64(HMAC-SHA1(secret, username)), as pion's own helper makes it.
	pionUser, pionPass, err := turn.GenerateLongTermTURNRESTCredentials("secret", "x", time.Hour)
	if err != nil || turnPassword("secret", pionUser) != pionPass || pass != turnPassword("secret", user) {
		t.Errorf("password %q differs from the TURN REST API's", pass)
	}
	for _, bad := range []struct {
		secret, user string
		ttl          time.Duration
	}{{"", "u", time.Minute}, {"s", "u", 2 * time.Hour}, {"s", "u", 0}, {"s", "a:b", time.Minute}, {"s", "", time.Minute}} {
		if _, _, _, err := TURNCredentials(bad.secret, bad.user, bad.ttl, now); err == nil {
			t.Errorf("TURNCredentials(%q, %q, %v) made credentials", bad.secret, bad.user, bad.ttl)
		}
	}
}

// TestTURNRefusesBadCredentials asks the embedded TURN server for allocations with real pion TURN clients: good
// credentials get one, expired, forged or too long-lived ones are refused.
func TestTURNRefusesBadCredentials(t *testing.T) {
	r := newTestRelay(t, Config{TCPPort: -1})
	ts := newTestTURN(t, r, nil)
	now := time.Now()
	good, goodPass, _, err := TURNCredentials(testTURNSecret, "call_1-visitor", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, expiredPass, _, _ := TURNCredentials(testTURNSecret, "call_1-visitor", time.Hour, now.Add(-2*time.Hour))
	longLived := fmt.Sprintf("%d:call_1-visitor", now.Add(48*time.Hour).Unix())
	cases := []struct {
		name, user, pass string
		ok               bool
	}{
		{"valid", good, goodPass, true},
		{"expired", expired, expiredPass, false},
		{"forged password", good, turnPassword("another-secret-entirely", good), false},
		{"forged expiry", fmt.Sprintf("%d:call_1-visitor", now.Add(2*time.Hour).Unix()), goodPass, false},
		{"too long-lived", longLived, turnPassword(testTURNSecret, longLived), false},
		{"no expiry", "call_1-visitor", turnPassword(testTURNSecret, "call_1-visitor"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: ts.UDPAddr().String(),
				STUNServerAddr: ts.UDPAddr().String(), Username: tc.user, Password: tc.pass, Realm: "parley",
				Conn: conn, LoggerFactory: newPionLogs(testLog()), RTO: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Listen(); err != nil {
				t.Fatal(err)
			}
			relayed, err := c.Allocate()
			if tc.ok != (err == nil) {
				t.Fatalf("Allocate: %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				return
			}
			defer relayed.Close()
			port := relayed.LocalAddr().(*net.UDPAddr).Port
			if port < 40000 || port > 40999 {
				t.Errorf("relayed port %d is outside the configured range", port)
			}
		})
	}
}

// TestTURNQuota: one set of credentials holds a few allocations at most.
func TestTURNQuota(t *testing.T) {
	r := newTestRelay(t, Config{TCPPort: -1})
	ts := newTestTURN(t, r, nil)
	user, pass, _, _ := TURNCredentials(testTURNSecret, "call_1-visitor", time.Hour, time.Now())
	for i := range maxAllocationsPerUser + 1 {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: ts.UDPAddr().String(), Username: user,
			Password: pass, Realm: "parley", Conn: conn, LoggerFactory: newPionLogs(testLog())})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		relayed, err := c.Allocate()
		if i < maxAllocationsPerUser {
			if err != nil {
				t.Fatalf("allocation %d: %v", i+1, err)
			}
			defer relayed.Close()
			continue
		}
		if err == nil {
			relayed.Close()
			t.Fatalf("allocation %d with the same credentials was granted", i+1)
		}
	}
	if n := ts.Allocations(); n != maxAllocationsPerUser {
		t.Errorf("%d allocations, want %d", n, maxAllocationsPerUser)
	}
}

// TestTURNRelaysOnlyToTheMediaRelay: a genuine participant may not use the TURN server to reach anything but the
// media relay's UDP port.
func TestTURNRelaysOnlyToTheMediaRelay(t *testing.T) {
	r := newTestRelay(t, Config{TCPPort: -1})
	ts := newTestTURN(t, r, nil)
	other, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	user, pass, _, _ := TURNCredentials(testTURNSecret, "call_1-agent", time.Hour, time.Now())
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: ts.UDPAddr().String(), Username: user,
		Password: pass, Realm: "parley", Conn: conn, LoggerFactory: newPionLogs(testLog())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	// Another port on the same address: the permission is granted (same IP) but the packet never leaves.
	if _, err := relayed.WriteTo([]byte("hello"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, _, err := other.ReadFrom(make([]byte, 100)); err == nil {
		t.Fatalf("the TURN server relayed %d bytes to a port other than the media relay's", n)
	}
	// Another address altogether: no permission.
	if _, err := relayed.WriteTo([]byte("hello"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: r.UDPAddr().Port}); err == nil {
		t.Error("permission granted for an address that is not the media relay's")
	}
}

// blockUDP is the network of a browser behind a firewall that drops UDP: sockets open, but nothing sent on them
// leaves. TCP goes through.
type blockUDP struct{ transport.Net }

func newBlockUDP(t testing.TB) transport.Net {
	t.Helper()
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return blockUDP{n}
}

func (b blockUDP) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := b.Net.ListenPacket(network, address)
	if err != nil || !strings.HasPrefix(network, "udp") {
		return c, err
	}
	return droppingPacketConn{c}, nil
}

func (b blockUDP) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := b.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	return droppingUDPConn{c}, nil
}

func (b blockUDP) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := b.Net.DialUDP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	return droppingUDPConn{c}, nil
}

type droppingPacketConn struct{ net.PacketConn }

func (droppingPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) { return len(p), nil }

type droppingUDPConn struct{ transport.UDPConn }

func (droppingUDPConn) Write(p []byte) (int, error)                      { return len(p), nil }
func (droppingUDPConn) WriteTo(p []byte, _ net.Addr) (int, error)        { return len(p), nil }
func (droppingUDPConn) WriteToUDP(p []byte, _ *net.UDPAddr) (int, error) { return len(p), nil }
func (droppingUDPConn) WriteMsgUDP(p, oob []byte, _ *net.UDPAddr) (int, int, error) {
	return len(p), len(oob), nil
}

// connectVisitor runs a call whose agent is an ordinary peer and whose visitor is shaped by vcfg, and returns how
// long the visitor took to connect after its Join was answered.
func connectVisitor(t *testing.T, r *Relay, vcfg PeerConfig) (*Peer, *Peer, time.Duration) {
	t.Helper()
	callID := newCallID()
	ev := newEvents()
	if err := r.Open(callID, ev.hooks()); err != nil {
		t.Fatal(err)
	}
	vcfg.Audio, vcfg.Video = true, true
	visitor := newTestPeer(t, vcfg)
	agent := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideAgent, agent, false)
	agent.Start()
	start := time.Now()
	join(t, r, ev, callID, SideVisitor, visitor, false)
	visitor.Start()
	waitConnected(t, visitor, agent)
	took := time.Since(start)
	mediaAdvances(t, visitor, "visitor", true)
	mediaAdvances(t, agent, "agent", true)
	return visitor, agent, took
}

// TestRelayOnlyThroughTURN: a browser told to use relays only (iceTransportPolicy "relay") connects through the
// embedded TURN server, over UDP and over TLS, and media flows both ways.
func TestRelayOnlyThroughTURN(t *testing.T) {
	for _, tc := range []struct {
		name     string
		udp, tls bool
		publicIP string
	}{
		{"turn-udp", true, false, ""},
		{"turn-tls", false, true, ""},
		// Behind a 1:1 NAT the relay's candidates carry its public address, which the TURN server, on the same
		// machine, reaches at the address the relay listens on (no hairpin through the NAT). 127.0.0.2 stands
		// for the public address: nothing listens there.
		{"turn-udp behind NAT", true, false, "127.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRelay(t, Config{TCPPort: -1, PublicIP: tc.publicIP})
			ts := newTestTURN(t, r, nil)
			_, _, took := connectVisitor(t, r, PeerConfig{UDPAndTCP: true, RelayOnly: true,
				ICEServers: turnServers(t, ts, "call-visitor", tc.udp, tc.tls)})
			if ts.Allocations() == 0 {
				t.Fatal("connected without a TURN allocation")
			}
			t.Logf("connected through %s in %v", tc.name, took.Round(time.Millisecond))
		})
	}
}

// TestFallbackLadder: a visitor whose network drops UDP still connects, over ICE-TCP when the relay offers it, or
// else over TURN/TLS, within 5 s. Its UDP fails from the first packet, so the 5 s count from its Join.
func TestFallbackLadder(t *testing.T) {
	const within = 5 * time.Second
	t.Run("ice-tcp", func(t *testing.T) {
		r := newTestRelay(t, Config{})
		ts := newTestTURN(t, r, nil)
		_, _, took := connectVisitor(t, r, PeerConfig{UDPAndTCP: true, Net: newBlockUDP(t),
			ICEServers: turnServers(t, ts, "call-visitor", true, true)})
		t.Logf("UDP blocked: connected in %v", took.Round(time.Millisecond))
		if took > within {
			t.Errorf("connected in %v, want within %v", took, within)
		}
	})
	t.Run("turn-tls", func(t *testing.T) {
		r := newTestRelay(t, Config{TCPPort: -1}) // ICE-TCP blocked too: only TLS to the TURN port gets out
		ts := newTestTURN(t, r, nil)
		_, _, took := connectVisitor(t, r, PeerConfig{UDPAndTCP: true, Net: newBlockUDP(t),
			ICEServers: turnServers(t, ts, "call-visitor", true, true)})
		t.Logf("UDP and ICE-TCP blocked: connected over TURN/TLS in %v", took.Round(time.Millisecond))
		if took > within {
			t.Errorf("connected in %v, want within %v", took, within)
		}
		if ts.Allocations() == 0 {
			t.Error("connected without a TURN allocation")
		}
	})
}
