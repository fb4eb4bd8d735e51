// Package media is Parley's media plane: a thin SFU built on pion (DESIGN section 2, "Media plane").
//
// Every video call goes through the Relay. Each side's browser holds one RTCPeerConnection to the relay, never to
// the other side: the relay answers each browser's offer, receives its RTP and forwards it, without decoding, to the
// other side's connection (a "leg"). All calls share one UDP port (ICE UDP mux) and one TCP port (ICE-TCP), so a
// node needs only two open ports however many calls it carries. The relay answers NACKs from its own send buffer,
// forwards keyframe requests (PLI/FIR) to the sender, receives TWCC feedback, and measures each leg's quality for the
// call-quality record. From TWCC feedback and its own receive counts it estimates each leg's bandwidth (bwe.go) and
// gives each publisher a quality tier: high, low or audio only (tiers.go, Hooks.Tier).
//
// This is the only package in Parley that imports pion. Its API speaks plain Go types (SDP strings, Candidate,
// LegStats) so that the call service stays free of WebRTC. Peer, in peer.go, is a synthetic browser for integration
// tests and for `parley loadtest calls`.
package media

import (
	"errors"

	"github.com/pion/webrtc/v4"
)

// Side names one of a call's two legs.
type Side string

// The two sides of a call.
const (
	SideVisitor Side = "visitor"
	SideAgent   Side = "agent"
)

func (s Side) valid() bool { return s == SideVisitor || s == SideAgent }

// other returns the opposite side.
func (s Side) other() Side {
	if s == SideVisitor {
		return SideAgent
	}
	return SideVisitor
}

// index is the side's slot in per-call arrays.
func (s Side) index() int {
	if s == SideAgent {
		return 1
	}
	return 0
}

// Errors returned by the Relay. Callers test them with errors.Is; the wrapped text says more and is for logs, not
// for clients.
var (
	// ErrNoCall is returned for a call id that was never opened, or that has ended.
	ErrNoCall = errors.New("media: no such call")
	// ErrLegTaken is returned by Join when that side's leg is connecting or connected already: a third connection
	// to a call is refused (a page reload joins with replace=true instead).
	ErrLegTaken = errors.New("media: that side of the call is connected already")
	// ErrBadSDP is returned by Join for an offer the relay can't use; the wrapped message says why.
	ErrBadSDP = errors.New("media: unusable SDP offer")
	// ErrBadCandidate is returned by AddCandidate for a candidate that can't be parsed.
	ErrBadCandidate = errors.New("media: malformed ICE candidate")
	// ErrClosed is returned once the relay has been closed.
	ErrClosed = errors.New("media: relay closed")
)

// Candidate is one ICE candidate. It mirrors the browser's RTCIceCandidateInit, so it travels as JSON between the
// browser and the relay unchanged.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// candidateOf is pion's candidate as a Candidate; nil (the end of gathering) stays nil.
func candidateOf(ic *webrtc.ICECandidate) *Candidate {
	if ic == nil {
		return nil
	}
	init := ic.ToJSON()
	return &Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex,
		UsernameFragment: init.UsernameFragment}
}

// ICEServer is a STUN or TURN server for a browser, as its RTCIceServer: URLs such as
// "turn:chat.example.com:3478?transport=udp" and "turns:chat.example.com:5349?transport=tcp", with the
// credentials TURN needs.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// LegStats are one side's measures of what it SENT to the relay, over the whole call (every leg that side had,
// when a page reload replaced one).
type LegStats struct {
	// BitrateKbps is the average bitrate of the side's RTP (audio and video, headers included) while it was
	// sending: bytes over the time from its first packet to its last.
	BitrateKbps float64 `json:"bitrate_kbps"`
	// LossPct is the share of the side's packets that never reached the relay, after NACK retransmissions
	// (RFC 3550 section 6.4.1: expected minus received, over expected).
	LossPct float64 `json:"loss_pct"`
	// RTTMs is the mean round-trip time between the relay and the side's browser, measured from the receiver
	// reports the browser sends about the media the relay sends it (RFC 3550 section 6.4.1, LSR and DLSR).
	// It is 0 when no report carried a measurement (the other side sent nothing).
	RTTMs float64 `json:"rtt_ms"`
	// JitterMs is the mean RFC 3550 interarrival jitter of the side's audio, or of its video when it sent no audio.
	JitterMs float64 `json:"jitter_ms"`
	// Packets and Bytes count the RTP packets (and their bytes, headers included) the relay received from the side.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// CallStats holds both sides' LegStats, and the call's quality tier changes in order.
type CallStats struct {
	Visitor, Agent LegStats
	Tiers          []TierChange `json:",omitempty"`
}

// Hooks are the events a call reports to its owner, the call service. Any of them may be nil.
//
// A call's hooks run one at a time, in the order the events happened, on a goroutine of the relay's: never on
// the goroutine of a Relay method (so a hook may take a lock its owner holds while calling the relay), and never
// after End or Close has returned, except one already under way. A leg's Candidate hooks all come before its
// Connected. Hooks must not block for long: they hold up the call's later events.
type Hooks struct {
	// Candidate gives one of the relay's ICE candidates for that side's leg; nil means the end of candidates.
	// They are released as Join returns that leg's answer, so the first may run while Join's caller is still
	// sending the answer: a browser must hold candidates that arrive before its answer (as it must with any
	// trickle ICE signalling). The answer already carries every candidate (the relay's are host candidates on
	// its two ports, gathered at once), so forwarding these is optional, and adding one twice is harmless.
	Candidate func(side Side, c *Candidate)
	// Connected reports that side's leg reached ICE and DTLS connected. It fires once per leg.
	Connected func(side Side)
	// FirstMedia reports the first RTP packet received from that side's leg. It fires once per leg.
	FirstMedia func(side Side)
	// Failed reports that side's leg failed or was closed by the browser: network lost (15 s without traffic),
	// tab closed (DTLS close_notify), or not connected 20 s after Join. Its slot is free again: that side may
	// Join anew, without replace. It does not fire for legs closed by End, Close
	// or a replacing Join.
	Failed func(side Side)
	// Tier gives the target of the video that side publishes (see tiers.go): on every change of its tier, and
	// again when a new leg of that side connects while its tier is not high (a browser starts at high).
	Tier func(side Side, t TierInfo)
}
