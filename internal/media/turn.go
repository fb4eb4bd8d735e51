package media

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 8489 section 9.2 and the TURN REST API draft use HMAC-SHA1
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v4"
	"github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// The embedded TURN server is the last rung of the ladder UDP → ICE-TCP → TURN/TLS (DESIGN section 2): a browser
// whose network lets nothing out but TLS on a well-known port still reaches the relay, through a TURN allocation
// whose relayed socket sends to the relay's UDP port on the same machine. It is not a general-purpose TURN server:
// it relays UDP to the media relay's own UDP port and nowhere else, and only for short-lived credentials that the
// call service hands to a call's two participants.

// Parley's default TURN ports (internal/config sets them).
const (
	DefaultTURNUDPPort = 3478
	DefaultTURNTLSPort = 5349
)

// MaxTURNTTL is the longest life of TURN credentials: the TURN REST API draft (draft-uberti-behave-turn-rest-00,
// section 2.2) recommends a day; Parley keeps them to an hour, so a leaked credential is worth little.
const MaxTURNTTL = time.Hour

// maxAllocationsPerUser bounds the TURN allocations one set of credentials holds at once. A browser makes one per
// TURN URL and local address: two to six.
const maxAllocationsPerUser = 8

// ErrTURNCredentials is returned by TURNCredentials for a bad secret or TTL.
var ErrTURNCredentials = errors.New("media: cannot make TURN credentials")

// TURNConfig sets up the embedded TURN server.
type TURNConfig struct {
	// UDPPort is the TURN port over UDP (turn: URLs). 0 picks a free port (tests); -1 turns TURN over UDP off.
	UDPPort int
	// TLSPort is the TURN port over TLS on TCP (turns: URLs), the way through firewalls that let only TLS out.
	// 0 picks a free port (tests); -1 turns it off. It needs Certificate.
	TLSPort int
	// ListenIP is the address both ports and the relayed sockets bind; empty means every interface.
	ListenIP string
	// PublicIP is the address put in the relayed candidates (XOR-RELAYED-ADDRESS), for a server behind a 1:1 NAT.
	// Empty: ListenIP, or the media relay's first address when ListenIP is unspecified. Browsers never send to it
	// (their media goes to the relay through the TURN server), so a wrong value costs only a confusing candidate.
	PublicIP string
	// RelayPortMin and RelayPortMax bound the ports of relayed sockets, one per allocation: the firewall need not
	// open them (only the TURN server itself sends from them, to the media relay), but a range keeps them out of
	// the way of other services. 0 and 0: any free port.
	RelayPortMin, RelayPortMax int
	// Secret is shared with whoever makes the credentials (TURNCredentials): every node of a cluster uses the same.
	Secret string
	// Certificate serves TURN over TLS.
	Certificate *tls.Certificate
	// Realm names the server in its authentication challenges. Default "parley".
	Realm string
	// Net replaces the operating system's network for the UDP port (tests only; pion's vnet).
	Net transport.Net

	now func() time.Time // for tests; time.Now
}

// TURNServer is the embedded TURN server. Close it when done.
type TURNServer struct {
	srv     *turn.Server
	udpAddr *net.UDPAddr
	tlsAddr *net.TCPAddr
	relayIP net.IP
	log     *slog.Logger

	mu    sync.Mutex
	users map[string]int // allocations held, by user (the part of the username after the expiry)
}

// TURNIssuer hands out the TURN servers a browser may use, with fresh credentials (TURNCredentials). Any node with
// the same secret and ports issues credentials every node's TURN server accepts.
type TURNIssuer struct {
	Secret string
	// Host is the name or address in the URLs: a name on the TLS certificate, for turns: URLs to be trusted.
	Host string
	// UDPPort and TLSPort are the TURN server's ports; 0 leaves that URL out.
	UDPPort, TLSPort int
	// TTL is how long the credentials may open allocations, at most MaxTURNTTL.
	TTL time.Duration
	Now func() time.Time
}

// ICEServers returns the TURN servers for user (e.g. "call_123-visitor"), as one RTCIceServer: TURN over UDP,
// then over TLS.
func (i TURNIssuer) ICEServers(user string) ([]ICEServer, error) {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	username, password, _, err := TURNCredentials(i.Secret, user, i.TTL, now())
	if err != nil {
		return nil, err
	}
	s := ICEServer{Username: username, Credential: password}
	if i.UDPPort > 0 {
		s.URLs = append(s.URLs, fmt.Sprintf("turn:%s?transport=udp", net.JoinHostPort(i.Host, strconv.Itoa(i.UDPPort))))
	}
	if i.TLSPort > 0 {
		s.URLs = append(s.URLs, fmt.Sprintf("turns:%s?transport=tcp", net.JoinHostPort(i.Host, strconv.Itoa(i.TLSPort))))
	}
	if len(s.URLs) == 0 {
		return nil, nil
	}
	return []ICEServer{s}, nil
}

// TURNCredentials makes TURN REST API credentials (draft-uberti-behave-turn-rest-00 section 2.2): the username is
// "expiry:user", expiry in Unix seconds, and the password is base64(HMAC-SHA1(secret, username)). Any node with
// the same secret makes credentials every node's TURN server accepts until they expire. user names who they are
// for, e.g. "call_123-visitor"; it must not contain a colon.
func TURNCredentials(secret, user string, ttl time.Duration, now time.Time) (username, password string, expires time.Time, err error) {
	switch {
	case secret == "":
		return "", "", time.Time{}, fmt.Errorf("%w: no secret", ErrTURNCredentials)
	case ttl <= 0 || ttl > MaxTURNTTL:
		return "", "", time.Time{}, fmt.Errorf("%w: TTL %v is not between 0 and %v", ErrTURNCredentials, ttl, MaxTURNTTL)
	case user == "" || strings.ContainsRune(user, ':'):
		return "", "", time.Time{}, fmt.Errorf("%w: user %q is empty or has a colon", ErrTURNCredentials, user)
	}
	expires = now.Add(ttl).Truncate(time.Second)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	return username, turnPassword(secret, username), expires, nil
}

func turnPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// NewTURN starts the TURN server in front of the media relay r: relayed sockets may send to r's UDP port only.
func NewTURN(cfg TURNConfig, r *Relay, log *slog.Logger) (*TURNServer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With(slog.String("component", "turn"))
	if len(cfg.Secret) < 16 {
		return nil, errors.New("media: TURN secret must have at least 16 characters")
	}
	if cfg.UDPPort < 0 && cfg.TLSPort < 0 {
		return nil, errors.New("media: TURN needs a UDP or a TLS port")
	}
	if cfg.TLSPort >= 0 && cfg.Certificate == nil {
		return nil, errors.New("media: TURN over TLS needs a certificate")
	}
	if cfg.RelayPortMin < 0 || cfg.RelayPortMax > 65535 || cfg.RelayPortMin > cfg.RelayPortMax ||
		(cfg.RelayPortMin == 0) != (cfg.RelayPortMax == 0) {
		return nil, fmt.Errorf("media: TURN relay ports %d-%d are not a range", cfg.RelayPortMin, cfg.RelayPortMax)
	}
	if cfg.Realm == "" {
		cfg.Realm = "parley"
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	listenIP := net.ParseIP(cfg.ListenIP)
	if listenIP == nil || listenIP.To4() == nil {
		return nil, fmt.Errorf("media: TURN listen address %q is not an IPv4 address", cfg.ListenIP)
	}
	peers := r.turnPeers()
	if len(peers.allowed) == 0 {
		return nil, errors.New("media: the media relay has no address to relay to")
	}
	relayIP := net.ParseIP(cfg.PublicIP)
	switch {
	case cfg.PublicIP != "" && relayIP == nil:
		return nil, fmt.Errorf("media: TURN public address %q is not an IP address", cfg.PublicIP)
	case relayIP == nil && !listenIP.IsUnspecified():
		relayIP = listenIP
	case relayIP == nil:
		relayIP = peers.local
	}
	logs := newPionLogs(log)
	gen := &relayedSockets{peers: peers, min: cfg.RelayPortMin, max: cfg.RelayPortMax, relayIP: relayIP,
		listenIP: listenIP, net: cfg.Net}
	if err := gen.Validate(); err != nil {
		return nil, fmt.Errorf("media: TURN relay ports: %w", err)
	}
	permit := func(_ net.Addr, peer net.IP) bool { return peers.permits(peer) }

	t := &TURNServer{log: log, relayIP: relayIP, users: map[string]int{}}
	var sc turn.ServerConfig
	var closers []func()
	fail := func(err error) (*TURNServer, error) {
		for _, c := range closers {
			c()
		}
		return nil, err
	}
	if cfg.UDPPort >= 0 {
		addr := &net.UDPAddr{IP: listenIP, Port: cfg.UDPPort}
		var conn net.PacketConn
		var err error
		if cfg.Net != nil {
			conn, err = cfg.Net.ListenUDP("udp4", addr)
		} else {
			conn, err = net.ListenUDP("udp4", addr)
		}
		if err != nil {
			return fail(fmt.Errorf("media: TURN listen on UDP %s: %w", addr, err))
		}
		closers = append(closers, func() { _ = conn.Close() })
		t.udpAddr, _ = conn.LocalAddr().(*net.UDPAddr)
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{PacketConn: conn,
			RelayAddressGenerator: gen, PermissionHandler: permit})
	}
	if cfg.TLSPort >= 0 {
		addr := &net.TCPAddr{IP: listenIP, Port: cfg.TLSPort}
		ln, err := net.ListenTCP("tcp4", addr)
		if err != nil {
			return fail(fmt.Errorf("media: TURN listen on TCP %s: %w", addr, err))
		}
		closers = append(closers, func() { _ = ln.Close() })
		t.tlsAddr, _ = ln.Addr().(*net.TCPAddr)
		tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cfg.Certificate},
			MinVersion: tls.VersionTLS12})
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: tlsLn,
			RelayAddressGenerator: gen, PermissionHandler: permit})
	}
	sc.Realm = cfg.Realm
	sc.LoggerFactory = logs
	sc.AuthHandler = turnAuth(cfg.Secret, cfg.now, log)
	sc.QuotaHandler = t.quota
	sc.EventHandler = turn.EventHandler{
		OnAllocationCreated: func(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) { t.count(user, 1) },
		OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { t.count(user, -1) },
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		return fail(fmt.Errorf("media: TURN server: %w", err))
	}
	t.srv = srv
	log.Info("TURN server listening", slog.String("udp", udpString(t.udpAddr)), slog.String("tls", addrString(t.tlsAddr)),
		slog.String("relayed_ip", relayIP.String()), slog.Int("relay_port_min", cfg.RelayPortMin),
		slog.Int("relay_port_max", cfg.RelayPortMax))
	return t, nil
}

func udpString(a *net.UDPAddr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// turnAuth checks TURN REST API credentials (see TURNCredentials). It returns the long-term credential key
// (RFC 8489 section 9.2.2) for the password the secret gives that username: a forged password then fails the
// request's MESSAGE-INTEGRITY, and the server answers 401. An Allocate with an expired username, or one that
// expires further ahead than MaxTURNTTL (made with another rule than Parley's), is refused outright. The other
// requests (Refresh, CreatePermission, ChannelBind) only need a genuine username: they keep an allocation made in
// time alive, so that a call over TURN may outlast its credentials.
func turnAuth(secret string, now func() time.Time, log *slog.Logger) turn.AuthHandler {
	return func(ra *turn.RequestAttributes) (string, []byte, bool) {
		expiry, user, ok := strings.Cut(ra.Username, ":")
		sec, err := strconv.ParseInt(expiry, 10, 64)
		if !ok || err != nil || user == "" {
			log.Debug("TURN username refused", slog.String("username", ra.Username), slog.Any("src", ra.SrcAddr))
			return "", nil, false
		}
		t := now()
		exp := time.Unix(sec, 0)
		if exp.After(t.Add(MaxTURNTTL+time.Minute)) || ra.Method == stun.MethodAllocate && !exp.After(t) {
			log.Debug("TURN credentials expired or too long-lived", slog.String("username", ra.Username),
				slog.Any("src", ra.SrcAddr))
			return "", nil, false
		}
		return user, turn.GenerateAuthKey(ra.Username, ra.Realm, turnPassword(secret, ra.Username)), true
	}
}

// quota refuses an allocation (486 Allocation Quota Reached) to credentials that hold maxAllocationsPerUser. user
// is the part of the username after the expiry, as turnAuth returns it.
func (t *TURNServer) quota(user, _ string, _ net.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users[user] < maxAllocationsPerUser
}

func (t *TURNServer) count(user string, delta int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.users[user] += delta; t.users[user] <= 0 {
		delete(t.users, user)
	}
}

// RelayedIP is the address in the server's relayed candidates: its public address, or where it listens.
func (t *TURNServer) RelayedIP() net.IP { return t.relayIP }

// UDPAddr is the TURN server's UDP address, or nil when TURN over UDP is off.
func (t *TURNServer) UDPAddr() *net.UDPAddr { return t.udpAddr }

// TLSAddr is the TURN server's TLS address, or nil when TURN over TLS is off.
func (t *TURNServer) TLSAddr() *net.TCPAddr { return t.tlsAddr }

// Allocations is the number of TURN allocations in use.
func (t *TURNServer) Allocations() int { return t.srv.AllocationCount() }

// Collectors returns the TURN server's Prometheus collectors, for the composition root to register:
// parley_turn_allocations, the allocations in use.
func (t *TURNServer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_turn_allocations",
		Help: "TURN allocations in use on the embedded TURN server."}, func() float64 { return float64(t.Allocations()) })}
}

// Close stops the server and its allocations.
func (t *TURNServer) Close() error {
	err := t.srv.Close()
	t.log.Info("TURN server closed")
	return err
}

// turnPeers is where TURN may send: the media relay's UDP port, at one of its addresses.
type turnPeers struct {
	port    int
	allowed []net.IP // the addresses browsers learn from the relay's candidates
	local   net.IP   // where the relay really listens, for the addresses it only advertises (PublicIP)
	public  net.IP   // the relay's advertised public address, or nil
}

func (p turnPeers) permits(ip net.IP) bool {
	for _, a := range p.allowed {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}

// turnPeers lists the addresses the TURN server may relay to: those in the relay's candidates.
func (r *Relay) turnPeers() turnPeers {
	p := turnPeers{port: r.udpAddr.Port}
	if ip := r.udpAddr.IP; !ip.IsUnspecified() {
		p.allowed = append(p.allowed, ip)
	} else {
		for _, a := range r.udpMux.GetListenAddresses() {
			if ua, ok := a.(*net.UDPAddr); ok && ua.IP.To4() != nil {
				p.allowed = append(p.allowed, ua.IP)
			}
		}
	}
	if len(p.allowed) > 0 {
		p.local = p.allowed[0]
	}
	if r.cfg.PublicIP != "" {
		p.public = net.ParseIP(r.cfg.PublicIP)
		p.allowed = append(p.allowed, p.public)
	}
	return p
}

// relayedSockets makes the relayed socket of each allocation, in the configured port range. The sockets only
// talk to the media relay: see relayedConn.
type relayedSockets struct {
	peers    turnPeers
	min, max int
	relayIP  net.IP
	listenIP net.IP
	net      transport.Net
	ranged   *turn.RelayAddressGeneratorPortRange
	any      *turn.RelayAddressGeneratorStatic
}

func (g *relayedSockets) Validate() error {
	if g.min > 0 {
		g.ranged = &turn.RelayAddressGeneratorPortRange{RelayAddress: g.relayIP, Address: g.listenIP.String(),
			MinPort: uint16(g.min), MaxPort: uint16(g.max), MaxRetries: 32, Net: g.net}
		return g.ranged.Validate()
	}
	g.any = &turn.RelayAddressGeneratorStatic{RelayAddress: g.relayIP, Address: g.listenIP.String(), Net: g.net}
	return g.any.Validate()
}

func (g *relayedSockets) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	var conn net.PacketConn
	var addr net.Addr
	var err error
	if g.ranged != nil {
		conn, addr, err = g.ranged.AllocatePacketConn(c)
	} else {
		conn, addr, err = g.any.AllocatePacketConn(c)
	}
	if err != nil {
		return nil, nil, err
	}
	return &relayedConn{PacketConn: conn, peers: g.peers}, addr, nil
}

// Browsers never ask for TCP allocations (RFC 6062); the relay has nothing to offer them.
func (g *relayedSockets) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errors.New("media: TCP allocations are not offered")
}

func (g *relayedSockets) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errors.New("media: TCP allocations are not offered")
}

// relayedConn is an allocation's relayed socket, restricted to the media relay: what a browser sends anywhere
// else is dropped, so that a call's credentials can't turn the server into an open relay. The relay's public
// address (behind a 1:1 NAT) is mapped to the address it listens on, both ways: sending to the public address
// from inside would need the NAT to hairpin, which many don't.
type relayedConn struct {
	net.PacketConn
	peers turnPeers
}

func (c *relayedConn) WriteTo(b []byte, to net.Addr) (int, error) {
	ua, ok := to.(*net.UDPAddr)
	if !ok || ua.Port != c.peers.port || !c.peers.permits(ua.IP) {
		return len(b), nil // dropped, as UDP may be
	}
	if c.peers.public != nil && ua.IP.Equal(c.peers.public) {
		ua = &net.UDPAddr{IP: c.peers.local, Port: ua.Port}
	}
	return c.PacketConn.WriteTo(b, ua)
}

func (c *relayedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || ua.Port != c.peers.port || !c.peers.permits(ua.IP) {
			continue
		}
		if c.peers.public != nil && ua.IP.Equal(c.peers.local) {
			from = &net.UDPAddr{IP: c.peers.public, Port: ua.Port}
		}
		return n, from, nil
	}
}
