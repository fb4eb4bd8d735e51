package call

import (
	"context"
	"errors"
	"log/slog"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// Chat-to-video escalation: an agent with the permission invites the visitor of their chat into a video call. The
// visitor accepts (and goes to the lobby) or declines; an invitation nobody answers expires. Accepted, the call goes
// straight to that agent, within their capacity: it is not routed. A bot's handover to video works the same way,
// with an invitation the visitor doesn't have to accept.

// Invite lets an agent invite the visitor of their conversation into a video call.
func (s *Service) Invite(ctx context.Context, p Party, convID string) (notify.InviteView, error) {
	if p.AgentID == "" || convID == "" {
		return notify.InviteView{}, ErrBadInput
	}
	a, err := s.st.Account(ctx, p.AgentID)
	if err != nil {
		return notify.InviteView{}, err
	}
	if !a.CanEscalate {
		return notify.InviteView{}, ErrForbidden
	}
	now := s.now()
	inv, err := s.st.CreateInvite(ctx, convID, p.AgentID, store.InvitePending, false, now, now.Add(s.cfg.InviteTTL))
	if err != nil {
		return notify.InviteView{}, inviteErr(err)
	}
	v := notify.ViewInvite(inv)
	s.n.CallInvite(ctx, v, inv.VisitorID)
	return v, nil
}

// AnswerInvite records the visitor's answer. Accepting sends them to the lobby: their call.request then names the
// invitation.
func (s *Service) AnswerInvite(ctx context.Context, p Party, inviteID string, accept bool) (notify.InviteView, error) {
	if p.VisitorID == "" || inviteID == "" {
		return notify.InviteView{}, ErrBadInput
	}
	now := s.now()
	inv, err := s.st.AnswerInvite(ctx, inviteID, p.VisitorID, accept, now, now.Add(s.cfg.LobbyTTL))
	if err != nil {
		return notify.InviteView{}, inviteErr(err)
	}
	v := notify.ViewInvite(inv)
	s.n.CallInvite(ctx, v, inv.VisitorID)
	return v, nil
}

// VideoOnAssign moves a conversation into video with the first agent who takes it (a bot's handover to video): the
// visitor goes to the lobby without being asked, and the call connects them with that agent. If an agent has the
// conversation already, it starts now.
func (s *Service) VideoOnAssign(ctx context.Context, convID string) error {
	if err := s.st.SetVideoOnAssign(ctx, convID, true); err != nil {
		return err
	}
	c, err := s.st.Conversation(ctx, convID)
	if err != nil {
		return err
	}
	if c.AgentID != "" {
		s.handOver(ctx, convID, c.AgentID)
	}
	return nil
}

// handOver starts the video of a conversation marked by VideoOnAssign, with agentID, once.
func (s *Service) handOver(ctx context.Context, convID, agentID string) {
	took, err := s.st.TakeVideoOnAssign(ctx, convID)
	if err != nil || !took {
		return
	}
	now := s.now()
	inv, err := s.st.CreateInvite(ctx, convID, agentID, store.InviteAccepted, true, now, now.Add(s.cfg.LobbyTTL))
	if err != nil {
		s.log.Error("hand over to video", slog.String("conversation_id", convID), slog.Any("error", err))
		return
	}
	s.n.CallInvite(ctx, notify.ViewInvite(inv), inv.VisitorID)
}

// requestInvited starts the call an invitation leads to, with the inviting agent.
func (s *Service) requestInvited(ctx context.Context, p Party, conv store.Conversation, inviteID string) (notify.CallView, error) {
	c, inv, err := s.st.CreateInvitedCall(ctx, conv.ID, p.VisitorID, inviteID, s.now())
	if err != nil {
		return notify.CallView{}, inviteErr(err)
	}
	s.n.CallInvite(ctx, notify.ViewInvite(inv), inv.VisitorID)
	_, err = s.router.AssignVideo(ctx, conv, inv.AgentID, func(reqID string) {
		if err := s.st.LinkCallRequest(ctx, c.ID, reqID); err != nil {
			s.log.Error("link call request", slog.String("call_id", c.ID), slog.Any("error", err))
		}
	})
	if err != nil {
		s.finish(ctx, c.ID, "system", "agent_busy")
		if errors.Is(err, routing.ErrAtCapacity) {
			return notify.CallView{}, ErrAgentBusy
		}
		return notify.CallView{}, err
	}
	c, err = s.st.Call(ctx, c.ID)
	if err != nil {
		return notify.CallView{}, err
	}
	return s.viewFor(ctx, c, media.SideVisitor), nil
}

// VisitorInvite returns the invitation waiting in a visitor's conversation, or nil.
func (s *Service) VisitorInvite(ctx context.Context, convID string) *notify.InviteView {
	inv, err := s.st.LiveInvite(ctx, convID)
	if err != nil {
		return nil
	}
	v := notify.ViewInvite(inv)
	return &v
}

// AgentInvites returns the invitations an agent made that are still waiting, for their desk's hello.
func (s *Service) AgentInvites(ctx context.Context, agentID string) []notify.InviteView {
	out := []notify.InviteView{}
	invs, err := s.st.AgentInvites(ctx, agentID)
	if err != nil {
		s.log.Warn("agent invitations", slog.Any("error", err))
	}
	for _, i := range invs {
		out = append(out, notify.ViewInvite(i))
	}
	return out
}

// expireInvites ends the invitations past their time and tells both sides.
func (s *Service) expireInvites(ctx context.Context) {
	ended, err := s.st.ExpireInvites(ctx, s.now())
	if err != nil {
		s.log.Warn("expire invitations", slog.Any("error", err))
	}
	for _, inv := range ended {
		s.n.CallInvite(ctx, notify.ViewInvite(inv), inv.VisitorID)
	}
}

func inviteErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrClosed):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrConflict
	}
	return err
}
