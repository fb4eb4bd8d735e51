package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The echo serves the pre-call check (/check): a browser connects to the relay exactly as for a call (the same
// ports, the same ICE, DTLS and codecs), and the relay sends back what it receives. The page learns that media
// gets through, over which transport, and how fast: the bitrate that comes back has crossed the path twice.

// Errors of the echo.
var (
	// ErrEchoBusy is returned by Start when the relay already runs as many echo sessions as it allows.
	ErrEchoBusy = errors.New("media: too many echo sessions")
	// ErrNoEcho is returned by Stats for an unknown or forgotten session.
	ErrNoEcho = errors.New("media: no such echo session")
)

// EchoConfig bounds the echo sessions of a relay.
type EchoConfig struct {
	// MaxSessions is how many sessions may run at once on this node. Default 20: each costs about what a call's
	// leg does.
	MaxSessions int
	// MaxDuration ends a session, whatever the browser does. Default 10 s: the check needs 3 to 6.
	MaxDuration time.Duration
	// Keep is how long a session's measures stay readable after it ended. Default 30 s.
	Keep time.Duration
}

// Echo runs the relay's echo sessions. It is safe for concurrent use. Close it before the relay.
type Echo struct {
	relay *Relay
	cfg   EchoConfig
	log   *slog.Logger

	mu       sync.Mutex
	sessions map[string]*echoSession
	closed   bool
}

// EchoStats are what the relay received from an echo session's browser.
type EchoStats struct {
	// ReceivedKbps is the bitrate of the RTP the relay received (headers included), from the first packet to the
	// last, audio and video together.
	ReceivedKbps float64 `json:"received_kbps"`
	// VideoKbps is the same for video alone.
	VideoKbps float64 `json:"video_kbps"`
	Packets   uint64  `json:"packets"`
	Bytes     uint64  `json:"bytes"`
	// Seconds is the time from the first packet to the last.
	Seconds float64 `json:"seconds"`
	// Connected says whether the browser's connection came up, and Ended whether the session is over.
	Connected bool `json:"connected"`
	Ended     bool `json:"ended"`
}

// NewEcho makes the echo of relay r.
func NewEcho(r *Relay, cfg EchoConfig) *Echo {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 20
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 10 * time.Second
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 30 * time.Second
	}
	return &Echo{relay: r, cfg: cfg, log: r.log.With(slog.String("part", "echo")), sessions: map[string]*echoSession{}}
}

// MaxDuration is how long a session lasts at most.
func (e *Echo) MaxDuration() time.Duration { return e.cfg.MaxDuration }

type echoSession struct {
	id      string
	pc      *webrtc.PeerConnection
	out     [kindCount]*webrtc.TrackLocalStaticRTP
	videoIn atomic.Uint32 // the browser's video SSRC, for keyframe requests
	timer   *time.Timer

	connected atomic.Bool
	mu        sync.Mutex
	first     time.Time
	last      time.Time
	packets   uint64
	bytes     uint64
	video     uint64 // bytes
	ended     time.Time
	closing   bool
	wg        sync.WaitGroup // the session's goroutines, which end waits for
	closeOnce sync.Once
}

// Start answers a browser's offer with an echo session: whatever audio and video it sends comes back to it on the
// same sections. The offer needs one or two sections, audio (Opus) and/or video (VP8); the answer carries the
// relay's candidates. The session ends after MaxDuration, or when the browser goes.
func (e *Echo) Start(ctx context.Context, offer string) (id, answer string, err error) {
	if err := checkEchoOffer(offer); err != nil {
		return "", "", err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return "", "", ErrClosed
	}
	e.forget()
	running := 0
	for _, s := range e.sessions {
		if s.endedAt().IsZero() {
			running++
		}
	}
	if running >= e.cfg.MaxSessions {
		e.mu.Unlock()
		return "", "", ErrEchoBusy
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	s := &echoSession{id: "echo_" + hex.EncodeToString(b)}
	e.sessions[s.id] = s
	e.mu.Unlock()

	answer, err = e.negotiate(ctx, s, offer)
	if err != nil {
		e.end(s)
		return "", "", err
	}
	return s.id, answer, nil
}

func (e *Echo) negotiate(ctx context.Context, s *echoSession, offer string) (answer string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the relay could not process it (%v)", ErrBadSDP, p)
		}
	}()
	pc, err := e.relay.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire})
	if err != nil {
		return "", fmt.Errorf("media: new peer connection: %w", err)
	}
	s.mu.Lock()
	s.pc = pc
	s.mu.Unlock()
	s.timer = time.AfterFunc(e.cfg.MaxDuration, func() { e.relay.goBackground(func() { e.end(s) }) })
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !s.add() {
			return
		}
		defer s.wg.Done()
		e.loop(s, track)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.connected.Store(true)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			e.relay.goBackground(func() { e.end(s) })
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	for _, t := range pc.GetTransceivers() {
		k := kindOf(t.Kind())
		if s.out[k] != nil {
			continue
		}
		codec := opusCodec
		if k == kindVideo {
			codec = vp8Codec
		}
		track, err := webrtc.NewTrackLocalStaticRTP(codec, k.String(), "parley-echo")
		if err != nil {
			return "", fmt.Errorf("media: local track: %w", err)
		}
		sender, err := pc.AddTrack(track)
		if err != nil {
			return "", fmt.Errorf("%w: no %s section to send on: %v", ErrBadSDP, k, err)
		}
		s.out[k] = track
		s.goSession(func() { readRTCP(sender, e.onRTCP(s)) })
	}
	local, err := answerOffer(ctx, pc, e.log)
	if err != nil {
		return "", err
	}
	return local.SDP, nil
}

// loop sends a track's packets back to the browser, on the section of the same kind, and counts them.
func (e *Echo) loop(s *echoSession, track *webrtc.TrackRemote) {
	k := kindOf(track.Kind())
	out := s.out[k]
	if k == kindVideo {
		s.videoIn.Store(uint32(track.SSRC()))
		e.keyframe(s)
	}
	buf := make([]byte, receiveMTU)
	var pkt rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		s.mu.Lock()
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
		s.packets++
		s.bytes += uint64(n)
		if k == kindVideo {
			s.video += uint64(n)
		}
		s.mu.Unlock()
		if out == nil || pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		// The browser's header extensions carry its own sequence numbers (TWCC); the relay's interceptors add the
		// relay's to what it sends.
		pkt.Header.Extension = false
		pkt.Header.ExtensionProfile = 0
		pkt.Header.Extensions = pkt.Header.Extensions[:0]
		_ = out.WriteRTP(&pkt)
	}
}

// onRTCP passes the browser's keyframe requests about the echoed video on to its own sender.
func (e *Echo) onRTCP(s *echoSession) func(time.Time, []rtcp.Packet) {
	return func(_ time.Time, pkts []rtcp.Packet) {
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				e.keyframe(s)
			}
		}
	}
}

func (e *Echo) keyframe(s *echoSession) {
	if ssrc := s.videoIn.Load(); ssrc != 0 {
		_ = s.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
}

// end closes a session; its measures stay readable for EchoConfig.Keep.
func (e *Echo) end(s *echoSession) {
	s.closeOnce.Do(func() {
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Lock()
		pc := s.pc
		s.closing = true
		s.mu.Unlock()
		if pc != nil {
			_ = pc.GracefulClose()
		}
		s.wg.Wait()
		s.mu.Lock()
		s.ended = time.Now()
		s.mu.Unlock()
	})
}

// add counts one more of the session's goroutines, unless it is closing.
func (s *echoSession) add() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *echoSession) goSession(f func()) {
	if !s.add() {
		return
	}
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *echoSession) endedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// forget drops the sessions that ended longer than Keep ago; e.mu is held.
func (e *Echo) forget() {
	for id, s := range e.sessions {
		if t := s.endedAt(); !t.IsZero() && time.Since(t) > e.cfg.Keep {
			delete(e.sessions, id)
		}
	}
}

// Stats returns what the relay received from a session so far.
func (e *Echo) Stats(id string) (EchoStats, error) {
	e.mu.Lock()
	s := e.sessions[id]
	e.mu.Unlock()
	if s == nil {
		return EchoStats{}, ErrNoEcho
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := EchoStats{Packets: s.packets, Bytes: s.bytes, Connected: s.connected.Load(), Ended: !s.ended.IsZero()}
	if d := s.last.Sub(s.first).Seconds(); d > 0 {
		st.Seconds = d
		st.ReceivedKbps = float64(s.bytes) * 8 / 1000 / d
		st.VideoKbps = float64(s.video) * 8 / 1000 / d
	}
	return st, nil
}

// End closes a session before its maximum duration, when its page is done with it; its measures stay readable for
// EchoConfig.Keep. An unknown id is ErrNoEcho.
func (e *Echo) End(id string) error {
	e.mu.Lock()
	s := e.sessions[id]
	e.mu.Unlock()
	if s == nil {
		return ErrNoEcho
	}
	e.end(s)
	return nil
}

// Close ends every session.
func (e *Echo) Close() {
	e.mu.Lock()
	e.closed = true
	sessions := e.sessions
	e.sessions = map[string]*echoSession{}
	e.mu.Unlock()
	for _, s := range sessions {
		e.end(s)
	}
}

// checkEchoOffer checks an offer for the echo: like a call's (checkOffer), but one section of either kind is
// enough, as the check's bandwidth test sends video only.
func checkEchoOffer(offer string) error {
	if strings.TrimSpace(offer) == "" {
		return fmt.Errorf("%w: empty offer", ErrBadSDP)
	}
	if len(offer) > maxOfferSize {
		return fmt.Errorf("%w: offer is %d bytes, more than %d", ErrBadSDP, len(offer), maxOfferSize)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: not SDP: %v", ErrBadSDP, err)
	}
	seen := map[string]bool{}
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		if seen[kind] {
			return fmt.Errorf("%w: more than one %s section", ErrBadSDP, kind)
		}
		seen[kind] = true
		if m.MediaName.Port.Value == 0 {
			return fmt.Errorf("%w: the %s section is disabled (port 0)", ErrBadSDP, kind)
		}
		want := "opus"
		if kind == "video" {
			want = "vp8"
		}
		if !codecNames(m)[want] {
			return fmt.Errorf("%w: the %s section offers no %s", ErrBadSDP, kind, strings.ToUpper(want))
		}
	}
	if len(seen) == 0 {
		return fmt.Errorf("%w: no audio or video section", ErrBadSDP)
	}
	return nil
}
