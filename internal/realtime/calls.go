package realtime

import (
	"context"
	"errors"
	"strings"

	"github.com/parley/parley/internal/call"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
)

// Video-call request payloads (docs/protocol.md, "Video calls").
type callRequestData struct {
	ConversationID string `json:"conversation_id"`
	ClientMsgID    string `json:"client_msg_id"`
	InviteID       string `json:"invite_id"`
}

type inviteData struct {
	ConversationID string `json:"conversation_id"`
}

type inviteAnswerData struct {
	InviteID string `json:"invite_id"`
	Accept   *bool  `json:"accept"`
}

type inviteAck struct {
	Invite notify.InviteView `json:"invite"`
}

type callIDData struct {
	CallID string `json:"call_id"`
}

type callConnectData struct {
	CallID string `json:"call_id"`
	SDP    string `json:"sdp"`
	// TakeOver moves the leg to this socket when another socket of the same party holds it ("Continue here").
	TakeOver bool `json:"take_over,omitempty"`
}

type callCandidateData struct {
	CallID    string           `json:"call_id"`
	Candidate *media.Candidate `json:"candidate"`
}

type callMediaData struct {
	CallID string `json:"call_id"`
	Camera *bool  `json:"camera"`
	Mic    *bool  `json:"mic"`
}

type callAck struct {
	ConversationID string          `json:"conversation_id,omitempty"`
	Call           notify.CallView `json:"call"`
}

type sdpAck struct {
	SDP string `json:"sdp"`
}

// maxSDP bounds an SDP offer; a browser's is a few kilobytes. The frame limit applies too.
const maxSDP = 12 << 10

// callRequest answers the frames of the video-call signalling that both sides share. ok is false for a type that
// isn't one of them.
func (h *Hub) callRequest(ctx context.Context, p call.Party, env envelope) (ack any, ok bool, err error) {
	switch env.Type {
	case "call.connect":
		var d callConnectData
		if err := decode(env, &d); err != nil {
			return nil, true, err
		}
		if d.CallID == "" || strings.TrimSpace(d.SDP) == "" || len(d.SDP) > maxSDP {
			return nil, true, perr(CodeBadRequest, "call.connect needs a call_id and the browser's SDP offer")
		}
		answer, err := h.calls.Connect(ctx, p, d.CallID, d.SDP, d.TakeOver)
		if err != nil {
			return nil, true, callError(err)
		}
		return sdpAck{SDP: answer}, true, nil
	case "call.candidate":
		var d callCandidateData
		if err := decode(env, &d); err != nil {
			return nil, true, err
		}
		if d.CallID == "" || (d.Candidate != nil && len(d.Candidate.Candidate) > 1024) {
			return nil, true, perr(CodeBadRequest, "call.candidate needs a call_id and a candidate (or null)")
		}
		return nil, true, callError(h.calls.Candidate(ctx, p, d.CallID, d.Candidate))
	case "call.media":
		var d callMediaData
		if err := decode(env, &d); err != nil {
			return nil, true, err
		}
		if d.CallID == "" || d.Camera == nil || d.Mic == nil {
			return nil, true, perr(CodeBadRequest, "call.media needs a call_id, camera and mic")
		}
		if err := h.calls.Media(ctx, p, d.CallID, *d.Camera, *d.Mic); err != nil {
			return nil, true, callError(err)
		}
		return struct{}{}, true, nil
	case "call.hangup":
		var d callIDData
		if err := decode(env, &d); err != nil {
			return nil, true, err
		}
		v, err := h.calls.Hangup(ctx, p, d.CallID)
		if err != nil {
			return nil, true, callError(err)
		}
		return callAck{Call: v}, true, nil
	}
	return nil, false, nil
}

// callError maps the call service's and the relay's errors to protocol errors.
func callError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, call.ErrNotFound), errors.Is(err, media.ErrNoCall):
		return perr(CodeConversationNotFound, "call not found, or not yours")
	case errors.Is(err, call.ErrUnavailable):
		return perr(CodeForbidden, "video can't be offered in this conversation")
	case errors.Is(err, call.ErrConflict):
		return perr(CodeConflict, "a video call is already under way, or the call can't do this now")
	case errors.Is(err, call.ErrNotLive):
		return perr(CodeConflict, "the call is not live: connect once the agent has answered")
	case errors.Is(err, call.ErrLegTaken), errors.Is(err, media.ErrLegTaken):
		return perr(CodeConflict, "this call is already connected from another tab")
	case errors.Is(err, media.ErrBadSDP):
		return perr(CodeBadRequest, "the relay can't use this SDP offer: "+err.Error())
	case errors.Is(err, media.ErrBadCandidate):
		return perr(CodeBadRequest, "malformed ICE candidate")
	case errors.Is(err, call.ErrBadInput):
		return perr(CodeBadRequest, "invalid call request")
	case errors.Is(err, call.ErrForbidden):
		return perr(CodeForbidden, "you may not invite visitors into video: ask an admin for the escalation permission")
	case errors.Is(err, call.ErrAgentBusy):
		return perr(CodeAtCapacity, "the agent has no room for a video call now")
	}
	return chatError(err)
}

// deliverCall sends the call notices; ok is false for other kinds.
func (c *conn) deliverCall(n *notify.Notice) (ok bool, err error) {
	switch n.Kind {
	case notify.KindCall:
		if err := c.write(outFrame{V: Version, Type: "call", Data: n.Call}); err != nil {
			return true, err
		}
		if vc, isVisitor := c.h.(*visitorConn); isVisitor && n.Call.State == "ended" {
			// The call's end may change what the widget may offer: video is not offered again after a call.
			return true, c.write(outFrame{V: Version, Type: "video", Data: vc.videoSeen(vc.lastVideo())})
		}
		return true, nil
	case notify.KindCallCandidate:
		return true, c.write(outFrame{V: Version, Type: "call.candidate", Data: n.CallCandidate})
	case notify.KindCallMedia:
		return true, c.write(outFrame{V: Version, Type: "call.media", Data: n.CallMedia})
	case notify.KindCallQuality:
		return true, c.write(outFrame{V: Version, Type: "call.quality", Data: n.CallQuality})
	case notify.KindCallInvite:
		return true, c.write(outFrame{V: Version, Type: "call.invite", Data: n.CallInvite})
	case notify.KindVideo:
		v := *n.Video
		if vc, isVisitor := c.h.(*visitorConn); isVisitor {
			v = vc.videoSeen(v)
		}
		return true, c.write(outFrame{V: Version, Type: "video", Data: v})
	}
	return false, nil
}
