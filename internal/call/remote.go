package call

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/store"
)

// A call's media is pinned to the node whose relay the first side joined. A side whose socket is on another node
// reaches that relay through the bus: the node sends a relay request to the relaying node's subject and waits for
// the reply on its own. Candidates from the relay travel back as ordinary notices on the sides' subjects.

// remoteTimeout bounds a relay request to another node.
const remoteTimeout = 10 * time.Second

type relayRequest struct {
	ID        string           `json:"id"`
	From      string           `json:"from"`
	Op        string           `json:"op"` // join, candidate, end
	CallID    string           `json:"call_id"`
	Side      media.Side       `json:"side,omitempty"`
	SDP       string           `json:"sdp,omitempty"`
	Candidate *media.Candidate `json:"candidate,omitempty"`
}

type relayReply struct {
	ID     string          `json:"id"`
	Answer string          `json:"answer,omitempty"`
	Stats  media.CallStats `json:"stats"`
	Error  string          `json:"error,omitempty"` // a code from relayErrors, or "internal"
	Detail string          `json:"detail,omitempty"`
}

// relayErrors are the errors that keep their meaning across nodes.
var relayErrors = map[string]error{
	"no_call":       media.ErrNoCall,
	"leg_taken":     media.ErrLegTaken,
	"bad_sdp":       media.ErrBadSDP,
	"bad_candidate": media.ErrBadCandidate,
	"closed":        media.ErrClosed,
	"not_found":     ErrNotFound,
}

func requestSubject(node string) string { return "media." + node }
func replySubject(node string) string   { return "media." + node + ".replies" }

// local reports whether node's relay is this node's.
func (s *Service) local(node string) bool {
	return node == "" || node == s.cfg.NodeID || s.cfg.Bus == nil
}

// Listen subscribes this node to relay requests from other nodes, and to their replies. Call it once, before
// serving; without a bus it does nothing.
func (s *Service) Listen() error {
	if s.cfg.Bus == nil {
		return nil
	}
	if _, err := s.cfg.Bus.Subscribe(requestSubject(s.cfg.NodeID), func(_ string, data []byte) {
		var req relayRequest
		if err := json.Unmarshal(data, &req); err != nil || req.ID == "" || req.From == "" {
			s.log.Warn("bad relay request", slog.Any("error", err))
			return
		}
		go s.serveRemote(req)
	}); err != nil {
		return err
	}
	_, err := s.cfg.Bus.Subscribe(replySubject(s.cfg.NodeID), func(_ string, data []byte) {
		var rep relayReply
		if json.Unmarshal(data, &rep) != nil {
			return
		}
		s.mu.Lock()
		ch := s.pending[rep.ID]
		delete(s.pending, rep.ID)
		s.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	})
	return err
}

// ask sends a relay request to node and waits for its reply.
func (s *Service) ask(ctx context.Context, node string, req relayRequest) (relayReply, error) {
	req.ID, req.From = store.NewID("rr"), s.cfg.NodeID
	ch := make(chan relayReply, 1)
	s.mu.Lock()
	s.pending[req.ID] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, req.ID)
		s.mu.Unlock()
	}()
	data, err := json.Marshal(req)
	if err != nil {
		return relayReply{}, err
	}
	if err := s.cfg.Bus.Publish(ctx, requestSubject(node), data); err != nil {
		return relayReply{}, fmt.Errorf("call: reach the relay of node %s: %w", node, err)
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	select {
	case rep := <-ch:
		if rep.Error != "" {
			if known, ok := relayErrors[rep.Error]; ok {
				return rep, fmt.Errorf("%w (on node %s): %s", known, node, rep.Detail)
			}
			return rep, fmt.Errorf("call: relay of node %s: %s", node, rep.Detail)
		}
		return rep, nil
	case <-ctx.Done():
		return relayReply{}, fmt.Errorf("call: the relay of node %s did not answer: %w", node, ctx.Err())
	}
}

// serveRemote runs a relay request from another node on this node's relay and replies.
func (s *Service) serveRemote(req relayRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	rep := relayReply{ID: req.ID}
	var err error
	switch req.Op {
	case "join":
		var c store.Call
		if c, err = s.st.Call(ctx, req.CallID); err == nil {
			if c.NodeID != s.cfg.NodeID {
				err = ErrNotFound // not pinned here: the asking node's view is stale
			} else {
				rep.Answer, err = s.join(ctx, c.NodeID, c, req.Side, req.SDP)
			}
		} else {
			err = ErrNotFound
		}
	case "candidate":
		err = s.relay.AddCandidate(req.CallID, req.Side, req.Candidate)
	case "end":
		rep.Stats, err = s.end(ctx, s.cfg.NodeID, req.CallID)
	default:
		err = fmt.Errorf("unknown relay request %q", req.Op)
	}
	if err != nil {
		rep.Error, rep.Detail = "internal", err.Error()
		for code, known := range relayErrors {
			if errors.Is(err, known) {
				rep.Error = code
			}
		}
	}
	data, _ := json.Marshal(rep)
	if err := s.cfg.Bus.Publish(ctx, replySubject(req.From), data); err != nil {
		s.log.Warn("relay reply", slog.String("node", req.From), slog.Any("error", err))
	}
}

// end closes a call on the relay that carries it and returns its stats.
func (s *Service) end(ctx context.Context, node, callID string) (media.CallStats, error) {
	if !s.local(node) {
		rep, err := s.ask(ctx, node, relayRequest{Op: "end", CallID: callID})
		return rep.Stats, err
	}
	s.mu.Lock()
	delete(s.live, callID)
	s.mu.Unlock()
	return s.relay.End(callID)
}
