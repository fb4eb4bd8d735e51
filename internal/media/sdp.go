package media

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// maxOfferSize bounds the SDP the relay parses. A browser's offer for one audio and one video section is 3 to 6 KB.
const maxOfferSize = 64 << 10

// checkOffer tells why an offer is one the relay can't answer, in words a developer can act on. It is stricter
// than pion on purpose: pion would answer many of these offers with a section disabled, and the call would then
// connect without sound or picture. The contract (docs/protocol.md, "Video calls") is that the browser offers
// exactly one audio and one video section (audio it sends, video it sends when it has a camera), wants to receive
// both, and supports Opus and VP8.
func checkOffer(offer string) error {
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
	if len(d.MediaDescriptions) == 0 {
		return fmt.Errorf("%w: no media sections", ErrBadSDP)
	}
	sessionSetup, _ := d.Attribute("setup")
	sessionUfrag, _ := d.Attribute("ice-ufrag")
	sessionFingerprint, _ := d.Attribute("fingerprint")
	seen := map[string]bool{}
	for i, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue // a data channel's section is answered by pion and left unused
		}
		if seen[kind] {
			return fmt.Errorf("%w: more than one %s section (section %d): the relay takes one audio and one video",
				ErrBadSDP, kind, i)
		}
		seen[kind] = true
		if m.MediaName.Port.Value == 0 {
			return fmt.Errorf("%w: the %s section is disabled (port 0)", ErrBadSDP, kind)
		}
		// RFC 5763 section 5: the offerer must say setup:actpass. Any other value is an answer's.
		setup, ok := m.Attribute("setup")
		if !ok {
			setup = sessionSetup
		}
		switch setup {
		case "actpass":
		case "":
			return fmt.Errorf("%w: the %s section has no a=setup (DTLS role)", ErrBadSDP, kind)
		default:
			return fmt.Errorf("%w: a=setup:%s in the %s section: this is an answer, not an offer", ErrBadSDP, setup,
				kind)
		}
		if _, ok := m.Attribute("ice-ufrag"); !ok && sessionUfrag == "" {
			return fmt.Errorf("%w: the %s section has no ICE credentials (a=ice-ufrag)", ErrBadSDP, kind)
		}
		if _, ok := m.Attribute("fingerprint"); !ok && sessionFingerprint == "" {
			return fmt.Errorf("%w: the %s section has no DTLS fingerprint", ErrBadSDP, kind)
		}
		switch direction(m) {
		case "sendonly", "inactive":
			return fmt.Errorf("%w: the %s section is %s: the browser must receive the other side's %s",
				ErrBadSDP, kind, direction(m), kind)
		}
		want := "opus"
		if kind == "video" {
			want = "vp8"
		}
		if codecs := codecNames(m); !codecs[want] {
			return fmt.Errorf("%w: the %s section offers no %s (only %s): the relay forwards Opus and VP8",
				ErrBadSDP, kind, strings.ToUpper(want), strings.Join(sortedKeys(codecs), ", "))
		}
	}
	for _, kind := range []string{"audio", "video"} {
		if !seen[kind] {
			return fmt.Errorf("%w: no %s section: the browser must offer %s, even receive-only", ErrBadSDP, kind, kind)
		}
	}
	return nil
}

// direction returns a media section's direction attribute; sendrecv is the default (RFC 8866 section 6.7).
func direction(m *sdp.MediaDescription) string {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}

// codecNames returns the lower-case encoding names of a section's a=rtpmap lines.
func codecNames(m *sdp.MediaDescription) map[string]bool {
	names := map[string]bool{}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		// "111 opus/48000/2"
		_, encoding, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(encoding, "/")
		names[strings.ToLower(strings.TrimSpace(name))] = true
	}
	return names
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return []string{"none"}
	}
	slices.Sort(keys)
	return keys
}
