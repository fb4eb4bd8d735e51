package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ICE restart (RFC 8445 section 9, RFC 8829 section 5.2.1): when a browser's network changes (Wi-Fi to mobile
// data, a new address after a reconnect), its RTCPeerConnection makes a new offer with new ICE credentials and the
// same DTLS fingerprint. The relay answers it on the leg it already has: ICE starts over and finds the new path,
// while DTLS, SRTP, the tracks and their SSRCs stay as they were, so media resumes without a new keyframe cycle,
// and the other side notices nothing but a gap.

// ErrNoLeg is returned by Restart when there is no leg to renegotiate for that offer: the side has no connected
// leg (it never joined, its leg failed, or it is still joining), or the offer comes from another RTCPeerConnection
// than the leg's (another DTLS fingerprint: a reloaded page). The caller joins instead.
var ErrNoLeg = errors.New("media: no leg to restart for that offer")

// Restart renegotiates one side's existing leg with the browser's new offer, typically an ICE restart
// (createOffer({iceRestart: true})), and returns the relay's answer with its candidates. The leg keeps its tracks,
// its DTLS session and its measures; the other side's media flows on to it as soon as ICE connects again. It
// fails with ErrNoLeg when the offer is not from the leg's own connection (see ErrNoLeg), and with ErrBadSDP for
// an offer the relay can't use.
func (r *Relay) Restart(ctx context.Context, callID string, side Side, offerSDP string) (string, error) {
	if !side.valid() {
		return "", fmt.Errorf("media: unknown side %q", side)
	}
	c, err := r.call(callID)
	if err != nil {
		return "", err
	}
	if err := checkOffer(offerSDP); err != nil {
		return "", err
	}
	l := c.legs[side.index()].Load()
	if l == nil {
		return "", fmt.Errorf("%w: %s has no leg", ErrNoLeg, side)
	}
	answer, err := l.renegotiate(ctx, offerSDP)
	if err != nil {
		return "", err
	}
	r.metrics.restarts.Inc()
	return answer, nil
}

// renegotiate applies a new offer from the leg's browser and answers it.
func (l *leg) renegotiate(ctx context.Context, offer string) (answer string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the relay could not process it (%v)", ErrBadSDP, p)
		}
	}()
	l.negMu.Lock()
	defer l.negMu.Unlock()
	l.mu.Lock()
	pc, ready := l.pc, l.released && !l.closing
	l.mu.Unlock()
	if !ready || pc == nil || l.state.Load() == legDone {
		return "", fmt.Errorf("%w: the leg is joining or gone", ErrNoLeg)
	}
	current := pc.RemoteDescription()
	if current == nil {
		return "", fmt.Errorf("%w: the leg has no offer yet", ErrNoLeg)
	}
	if was, now := fingerprint(current.SDP), fingerprint(offer); was == "" || was != now {
		return "", fmt.Errorf("%w: another connection (DTLS fingerprint %q, the leg's is %q)", ErrNoLeg, now, was)
	}
	start := time.Now()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	local, err := answerOffer(ctx, pc, l.log)
	if err != nil {
		return "", err
	}
	l.log.Info("leg renegotiated", slog.Bool("ice_restart", iceUfrag(current.SDP) != iceUfrag(offer)),
		slog.Duration("took", time.Since(start)))
	return local.SDP, nil
}

// fingerprint returns an SDP's DTLS certificate fingerprint (RFC 8122 section 5): the first one, at session level
// or else in a media section. Two offers with the same fingerprint come from the same RTCPeerConnection.
func fingerprint(s string) string { return sdpAttribute(s, "fingerprint") }

// iceUfrag returns an SDP's ICE username fragment.
func iceUfrag(s string) string { return sdpAttribute(s, "ice-ufrag") }

func sdpAttribute(s, key string) string {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return ""
	}
	if v, ok := d.Attribute(key); ok {
		return strings.ToLower(strings.TrimSpace(v))
	}
	for _, m := range d.MediaDescriptions {
		if v, ok := m.Attribute(key); ok {
			return strings.ToLower(strings.TrimSpace(v))
		}
	}
	return ""
}
