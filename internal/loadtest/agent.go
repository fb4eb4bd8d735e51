package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parley/parley/internal/media"
)

// The load test's agents: created once through the admin API and reused by later runs.
const (
	agentPassword     = "loadtest-password"
	agentChatCapacity = 10
)

func agentEmail(i int) string { return fmt.Sprintf("load-agent-%03d@loadtest.parley.test", i) }
func agentName(i int) string  { return fmt.Sprintf("Load agent %03d", i) }

// offerView is an OFFER of docs/protocol.md.
type offerView struct {
	OfferID        string `json:"offer_id"`
	ConversationID string `json:"conversation_id"`
	Channel        string `json:"channel"`
}

// callView is a CALL of docs/protocol.md.
type callView struct {
	CallID         string `json:"call_id"`
	ConversationID string `json:"conversation_id"`
	State          string `json:"state"`
	AgentID        string `json:"agent_id"`
	EndedBy        string `json:"ended_by"`
	Reason         string `json:"reason"`
}

// candidateData is a call.candidate frame's payload.
type candidateData struct {
	CallID    string           `json:"call_id"`
	Candidate *media.Candidate `json:"candidate"`
}

// agent is one load-test agent: logged in, with a desk socket, available for video, accepting every video offer.
type agent struct {
	lt    *loadTest
	id    string
	email string
	api   *apiClient
	desk  *socket

	ctx    context.Context // ends when the load test tears the agent down
	cancel context.CancelFunc
	bg     sync.WaitGroup // accepts under way
}

// startAgent makes sure agent i exists, is enabled and in the site's group, logs it in, opens its desk and makes
// it available for video. created tells whether the account is new.
func (lt *loadTest) startAgent(ctx context.Context, i int, existing *account) (a *agent, created bool, err error) {
	email := agentEmail(i)
	var acct account
	if existing == nil {
		body := map[string]any{"email": email, "name": agentName(i), "password": agentPassword, "role": "agent",
			"chat_capacity": agentChatCapacity, "group_ids": []string{lt.group.ID}}
		if err := lt.admin.do(ctx, "POST", "/api/admin/agents", body, &acct); err != nil {
			return nil, false, fmt.Errorf("create %s: %w", email, err)
		}
		created = true
	} else {
		acct = *existing
		patch := map[string]any{}
		if acct.Disabled {
			patch["disabled"] = false
		}
		if acct.Role != "agent" {
			patch["role"] = "agent"
		}
		if !slices.Contains(acct.GroupIDs, lt.group.ID) {
			patch["group_ids"] = append(slices.Clone(acct.GroupIDs), lt.group.ID)
		}
		if len(patch) > 0 {
			if err := lt.admin.do(ctx, "PATCH", "/api/admin/agents/"+acct.ID, patch, &acct); err != nil {
				return nil, false, fmt.Errorf("update %s: %w", email, err)
			}
		}
	}
	actx, cancel := context.WithCancel(context.Background())
	a = &agent{lt: lt, id: acct.ID, email: email, ctx: actx, cancel: cancel,
		api: newAPIClient(lt.base, lt.origin, lt.transport)}
	_, err = a.api.login(ctx, email, agentPassword)
	if isStatus(err, 401) && !created {
		// Someone changed the password since the run that created the agent: set it back.
		if err = lt.admin.do(ctx, "PATCH", "/api/admin/agents/"+acct.ID, map[string]any{"password": agentPassword}, nil); err == nil {
			_, err = a.api.login(ctx, email, agentPassword)
		}
	}
	if err != nil {
		cancel()
		return nil, created, fmt.Errorf("log in %s: %w", email, err)
	}
	a.desk, err = dialSocket(ctx, lt.wsBase+"/ws/desk", lt.origin, a.api.hc, a.onFrame)
	if err != nil {
		cancel()
		return nil, created, fmt.Errorf("desk of %s: %w", email, err)
	}
	var welcome struct {
		Offers []offerView `json:"offers"`
		Calls  []callView  `json:"calls"`
	}
	if err := a.desk.request(ctx, "hello", map[string]any{}, &welcome); err != nil {
		a.stop()
		return nil, created, fmt.Errorf("desk of %s: %w", email, err)
	}
	// Offers still ringing and calls still live are left over from an interrupted run: their visitors are gone.
	for _, o := range welcome.Offers {
		if o.Channel == "video" {
			_ = a.desk.request(ctx, "offer.decline", map[string]string{"offer_id": o.OfferID}, nil)
		}
	}
	for _, c := range welcome.Calls {
		_ = a.desk.request(ctx, "call.hangup", map[string]string{"call_id": c.CallID}, nil)
	}
	if err := a.desk.request(ctx, "presence.set", map[string]string{"channel": "video", "status": "available"}, nil); err != nil {
		a.stop()
		return nil, created, fmt.Errorf("make %s available for video: %w", email, err)
	}
	return a, created, nil
}

// onFrame handles the desk's frames, on its reader goroutine.
func (a *agent) onFrame(f frame) {
	switch f.Type {
	case "offer":
		var o offerView
		if json.Unmarshal(f.Data, &o) != nil || o.Channel != "video" {
			return
		}
		// The accept's reply comes through this goroutine: wait for it on another.
		a.bg.Add(1)
		go func() {
			defer a.bg.Done()
			ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
			defer cancel()
			if err := a.desk.request(ctx, "offer.accept", map[string]string{"offer_id": o.OfferID}, nil); err != nil && a.ctx.Err() == nil {
				a.lt.note("an agent's offer.accept failed: " + shortError(err))
			}
		}()
	case "call":
		var c callView
		if json.Unmarshal(f.Data, &c) != nil || c.AgentID != a.id {
			return
		}
		if c.State == "live" {
			a.lt.agentLive(c.CallID, a)
		}
	case "call.candidate":
		var d candidateData
		if json.Unmarshal(f.Data, &d) != nil || d.Candidate == nil {
			return
		}
		if c := a.lt.lookup(d.CallID); c != nil {
			if p := c.peer(sideAgent); p != nil {
				_ = p.AddCandidate(d.Candidate)
			}
		}
	}
}

// stop takes the agent off video and closes its desk. Its account stays, for the next run.
func (a *agent) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.desk.request(ctx, "presence.set", map[string]string{"channel": "video", "status": "offline"}, nil)
	a.cancel()
	a.desk.close()
	a.bg.Wait()
}
