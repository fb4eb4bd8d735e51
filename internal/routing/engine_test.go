package routing

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

func offerMode(g *store.Group) { g.ChatMode = store.ChatOffer }

func TestChatGoesToTheLeastBusyThenLongestIdle(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 3, nil)
		h.available(0, store.ChannelChat)
		h.available(1, store.ChannelChat)
		first := h.conv(h.visitor())
		h.clk.Add(time.Second)
		second := h.conv(h.visitor())
		if first.AgentID == "" || second.AgentID == "" || first.AgentID == second.AgentID {
			t.Fatalf("two conversations went to %q and %q; want one each", first.AgentID, second.AgentID)
		}
		// Both agents have one conversation: the one idle longest (who got the first) gets the third.
		h.clk.Add(time.Second)
		third := h.conv(h.visitor())
		if third.AgentID != first.AgentID {
			t.Fatalf("third went to %s, want %s (idle longest)", third.AgentID, first.AgentID)
		}
		if v := h.queueView(third); v == nil || v.State != store.RequestAssigned {
			t.Fatalf("visitor told %+v, want assigned", v)
		}
	})
}

func TestNobodyAvailableQueuesAndTheFullQueueRefuses(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { g.QueuePlaces = 2 })
		a, b := h.visitor(), h.visitor()
		c := h.visitor()
		if v := h.queueView(a); v.State != store.RequestQueued || v.Position != 1 || v.ETA == nil || v.ETA.Bucket != Unknown ||
			v.ETA.Reason != "no_agent" {
			t.Fatalf("first visitor told %+v, want position 1 with a wait unknown because nobody is available", v)
		}
		if v := h.queueView(b); v.Position != 2 {
			t.Fatalf("second visitor told %+v", v)
		}
		if v := h.queueView(c); v.State != store.RequestRefused || v.Reason != "queue_full" {
			t.Fatalf("third visitor told %+v, want refused: queue_full", v)
		}
		// The agent arrives: the first in line is served, the second moves up.
		h.available(0, store.ChannelChat)
		if h.conv(a).AgentID != h.agents[0].ID || h.conv(b).AgentID != "" {
			t.Fatal("the first in line was not served first")
		}
		if v := h.queueView(b); v.State != store.RequestQueued || v.Position != 1 || v.ETA == nil || v.ETA.Reason != "" {
			t.Fatalf("second visitor told %+v, want position 1, and someone available (too little history to estimate)", v)
		}
	})
}

func TestNoQueueRefusesWhenNobodyIsFree(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { g.QueuePlaces = 0 })
		h.available(0, store.ChannelChat)
		served, refused := h.visitor(), h.visitor()
		if h.conv(served).AgentID == "" {
			t.Fatal("a free agent didn't get the conversation")
		}
		if v := h.queueView(refused); v.State != store.RequestRefused {
			t.Fatalf("got %+v, want refused", v)
		}
	})
}

func TestDeclineAndMissedOfferRequeueWithTheOriginalTime(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 3, func(g *store.Group) { offerMode(g); g.MaxAttempts = 5 })
		h.available(0, store.ChannelChat)
		c := h.visitor()
		enqueued := h.request(c).EnqueuedAt
		os := h.offers(0)
		if len(os) != 1 || !os[0].Deadline.Equal(h.clk.Now().Add(30*time.Second)) {
			t.Fatalf("offers %+v", os)
		}
		if err := h.e.Decline(h.ctx, h.agents[0].ID, os[0].ID); err != nil {
			t.Fatal(err)
		}
		r := h.request(c)
		if r.State != store.RequestQueued || !r.EnqueuedAt.Equal(enqueued) {
			t.Fatalf("after decline: %+v", r)
		}
		// Agent 0 declined: even alone and free, they are not offered it again.
		h.tick()
		if len(h.offers(0)) != 0 {
			t.Fatal("the agent who declined was offered the conversation again")
		}
		h.available(1, store.ChannelChat)
		os = h.offers(1)
		if len(os) != 1 {
			t.Fatalf("agent 1 offers %+v", os)
		}
		h.clk.Add(30 * time.Second)
		h.tick()
		p, _ := st.AgentPresence(h.ctx, h.agents[1].ID)
		if p.Chat != store.StatusNotResponding {
			t.Fatalf("missed offer: agent 1 is %s, want not_responding", p.Chat)
		}
		r = h.request(c)
		if r.State != store.RequestQueued || !r.EnqueuedAt.Equal(enqueued) || r.Attempts != 2 {
			t.Fatalf("after timeout: %+v", r)
		}
		// Becoming available again clears not_responding; the exclusion stays.
		h.available(1, store.ChannelChat)
		if len(h.offers(1)) != 0 {
			t.Fatal("the agent who missed the offer got it again")
		}
	})
}

func TestAfterMaxAttemptsTheWholeGroupIsOffered(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 3, 3, func(g *store.Group) { offerMode(g); g.MaxAttempts = 1 })
		h.available(0, store.ChannelChat)
		c := h.visitor()
		if err := h.e.Decline(h.ctx, h.agents[0].ID, h.offers(0)[0].ID); err != nil {
			t.Fatal(err)
		}
		h.available(1, store.ChannelChat)
		h.available(2, store.ChannelChat)
		h.tick()
		o1, o2 := h.offers(1), h.offers(2)
		if len(o1) != 1 || len(o2) != 1 {
			t.Fatalf("group-wide offer: %d and %d offers, want 1 each", len(o1), len(o2))
		}
		if _, err := h.e.Accept(h.ctx, h.agents[2].ID, o2[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.e.Accept(h.ctx, h.agents[1].ID, o1[0].ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("second claimant: %v, want a conflict", err)
		}
		if got := h.conv(c).AgentID; got != h.agents[2].ID {
			t.Fatalf("conversation went to %s", got)
		}
	})
}

func TestAcceptRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 3, offerMode)
		h.available(0, store.ChannelChat)
		c := h.visitor()
		o := h.offers(0)[0]
		if _, err := h.e.Accept(h.ctx, h.agents[1].ID, o.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("someone else's offer: %v", err)
		}
		if err := h.e.Decline(h.ctx, h.agents[1].ID, o.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("declining someone else's offer: %v", err)
		}
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, "of_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown offer: %v", err)
		}
		h.clk.Add(30 * time.Second)
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, o.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("accept at the deadline: %v", err)
		}
		if r := h.request(c); r.State != store.RequestOffered || h.conv(c).AgentID != "" {
			t.Fatalf("a refused accept changed state: %+v", r)
		}
		h.clk.Add(-time.Second)
		conv, err := h.e.Accept(h.ctx, h.agents[0].ID, o.ID)
		if err != nil || conv != c.ID || h.conv(c).AgentID != h.agents[0].ID {
			t.Fatalf("accept: %q %v", conv, err)
		}
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, o.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("accepting twice: %v", err)
		}
		if err := h.e.Decline(h.ctx, h.agents[0].ID, o.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("declining an accepted offer: %v", err)
		}
	})
}

func TestPendingOffersCountAgainstCapacity(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, offerMode)
		h.available(0, store.ChannelChat)
		a, b := h.visitor(), h.visitor()
		if len(h.offers(0)) != 1 {
			t.Fatalf("%d offers for a 1-slot agent", len(h.offers(0)))
		}
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, h.offers(0)[0].ID); err != nil {
			t.Fatal(err)
		}
		h.tick()
		if len(h.offers(0)) != 0 || h.request(b).State != store.RequestQueued {
			t.Fatal("a full agent was offered more")
		}
		if err := h.e.Claim(h.ctx, h.agents[0].ID, b.ID); !errors.Is(err, ErrAtCapacity) {
			t.Fatalf("claim at capacity: %v", err)
		}
		h.end(a)
		if len(h.offers(0)) != 1 {
			t.Fatal("the freed slot was not offered the waiting conversation")
		}
	})
}

func TestExpiryAbandonAndLeave(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { g.MaxWait = 10 * time.Minute })
		leaver, stale, patient := h.visitor(), h.visitor(), h.visitor()
		if err := h.e.Leave(h.ctx, leaver.VisitorID, leaver.ID); err != nil {
			t.Fatal(err)
		}
		if err := h.e.Leave(h.ctx, "v_other", stale.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("leaving someone else's place: %v", err)
		}
		for i := 0; i < 4; i++ { // the patient visitor's socket keeps their place; the stale one's doesn't
			h.clk.Add(30 * time.Second)
			h.e.StillWaiting(h.ctx, patient.ID)
			h.tick()
		}
		if h.request(leaver).State != store.RequestAbandoned || h.request(stale).State != store.RequestAbandoned {
			t.Fatalf("leaver %s, stale %s; want both abandoned", h.request(leaver).State, h.request(stale).State)
		}
		if r := h.request(patient); r.State != store.RequestQueued {
			t.Fatalf("patient visitor: %s", r.State)
		}
		for i := 0; i < 20; i++ {
			h.clk.Add(30 * time.Second)
			h.e.StillWaiting(h.ctx, patient.ID)
			h.tick()
		}
		if v := h.queueView(patient); v.State != store.RequestExpired {
			t.Fatalf("after the maximum wait the visitor was told %+v", v)
		}
	})
}

func TestDisconnectedAgentGoesOfflineAfterTheGracePeriod(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 3, offerMode)
		h.available(0, store.ChannelChat)
		h.visitor()
		if len(h.offers(0)) != 1 {
			t.Fatal("no offer")
		}
		if err := st.CloseDeskConnection(h.ctx, "desk-"+h.agents[0].ID, h.clk.Now()); err != nil {
			t.Fatal(err)
		}
		h.clk.Add(20 * time.Second)
		if err := h.e.Tick(h.ctx); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.AgentPresence(h.ctx, h.agents[0].ID); p.Chat != store.StatusAvailable || len(h.offers(0)) != 1 {
			t.Fatalf("within the grace period: %+v", p)
		}
		h.clk.Add(11 * time.Second)
		if err := h.e.Tick(h.ctx); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.AgentPresence(h.ctx, h.agents[0].ID); p.Chat != store.StatusOffline || len(h.offers(0)) != 0 {
			t.Fatalf("after the grace period: %+v with %d offers", p, len(h.offers(0)))
		}
	})
}

func TestOlderConversationsAreServedFirst(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { g.QueuePlaces = 10 })
		var cs []store.Conversation
		for i := 0; i < 5; i++ {
			cs = append(cs, h.visitor())
			h.clk.Add(time.Second)
		}
		h.available(0, store.ChannelChat)
		for i, c := range cs {
			if h.conv(c).AgentID == "" {
				t.Fatalf("conversation %d not served while %d was", i, i-1)
			}
			for _, later := range cs[i+1:] {
				if h.conv(later).AgentID != "" {
					t.Fatalf("a later conversation was served before conversation %d", i)
				}
			}
			h.end(c)
		}
	})
}

func TestADeadlineSurvivesARestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, offerMode)
		h.available(0, store.ChannelChat)
		c := h.visitor()
		// The node restarts: a new engine on the same database, with nothing in memory.
		h.e = New(st, h.e.n, h.clk.Now, h.e.log, DefaultConfig())
		h.clk.Add(31 * time.Second)
		h.tick()
		if r := h.request(c); r.State != store.RequestQueued {
			t.Fatalf("after the restart and the deadline: %s", r.State)
		}
		if p, _ := st.AgentPresence(h.ctx, h.agents[0].ID); p.Chat != store.StatusNotResponding {
			t.Fatalf("agent is %s", p.Chat)
		}
	})
}

// A missed offer marks the agent not responding on the channels they were available on, and only those: a channel
// they were away or offline on keeps its status.
func TestAMissedOfferLeavesAnUnusedChannelAlone(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 3, offerMode)
		h.available(0, store.ChannelChat) // agent 0: video never turned on (offline)
		h.available(1, store.ChannelChat)
		h.available(1, store.ChannelVideo)
		if _, err := h.e.SetPresence(h.ctx, h.agents[1].ID, store.ChannelVideo, store.StatusAway); err != nil {
			t.Fatal(err)
		}
		h.visitor()
		h.visitor()
		if len(h.offers(0)) != 1 || len(h.offers(1)) != 1 {
			t.Fatalf("offers: %+v and %+v", h.offers(0), h.offers(1))
		}
		h.clk.Add(31 * time.Second)
		h.tick()
		for i, want := range []store.Presence{
			{Chat: store.StatusNotResponding, Video: store.StatusOffline},
			{Chat: store.StatusNotResponding, Video: store.StatusAway},
		} {
			p, err := st.AgentPresence(h.ctx, h.agents[i].ID)
			if err != nil || p.Chat != want.Chat || p.Video != want.Video {
				t.Fatalf("agent %d after a missed offer: chat %s, video %s (%v); want chat %s, video %s", i, p.Chat, p.Video, err, want.Chat, want.Video)
			}
		}
		// Available on both: both stop ringing.
		h.available(0, store.ChannelChat)
		h.available(0, store.ChannelVideo)
		h.visitor()
		h.clk.Add(31 * time.Second)
		h.tick()
		if p, _ := st.AgentPresence(h.ctx, h.agents[0].ID); p.Chat != store.StatusNotResponding || p.Video != store.StatusNotResponding {
			t.Fatalf("agent 0 missed an offer while available on both: chat %s, video %s", p.Chat, p.Video)
		}
	})
}

func TestPresenceInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, nil)
		for _, c := range [][2]string{{"chat", "not_responding"}, {"chat", "busy"}, {"phone", "available"}, {"", ""}} {
			if _, err := h.e.SetPresence(h.ctx, h.agents[0].ID, c[0], c[1]); !errors.Is(err, ErrBadInput) {
				t.Errorf("%v: %v", c, err)
			}
		}
		if p, _ := st.AgentPresence(h.ctx, h.agents[0].ID); p.Chat != store.StatusOffline {
			t.Fatalf("bad input changed presence to %s", p.Chat)
		}
	})
}

func TestEstimate(t *testing.T) {
	avg := store.Averages{AHT: 4 * time.Minute, ACC: 10 * time.Second, AHTSamples: 5}
	cases := []struct {
		name string
		k    int
		c    store.Capacity
		a    store.Averages
		want time.Duration
		ok   bool
	}{
		{"free slot", 1, store.Capacity{Free: 1, Serving: 3, Online: 1}, avg, 10 * time.Second, true},
		{"behind the free slots", 3, store.Capacity{Free: 1, Serving: 4, Online: 2}, avg, 10*time.Second + 2*4*time.Minute/4, true},
		{"nobody online", 1, store.Capacity{}, avg, 0, false},
		{"too little history", 1, store.Capacity{Free: 1, Serving: 3, Online: 1}, store.Averages{AHT: time.Minute, AHTSamples: 2}, 0, false},
		{"measured advance replaces AHT/S", 3, store.Capacity{Free: 1, Serving: 4, Online: 2},
			store.Averages{AHT: 4 * time.Minute, ACC: 10 * time.Second, AHTSamples: 5, ADV: 45 * time.Second, ADVSamples: 20}, 10*time.Second + 2*45*time.Second, true},
		{"too few departures for the advance", 3, store.Capacity{Free: 1, Serving: 4, Online: 2},
			store.Averages{AHT: 4 * time.Minute, ACC: 10 * time.Second, AHTSamples: 5, ADV: 45 * time.Second, ADVSamples: 19}, 10*time.Second + 2*4*time.Minute/4, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Estimate(c.k, c.c, c.a, 3)
			if got != c.want || ok != c.ok {
				t.Fatalf("got %v %v, want %v %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestBucketsDontJumpAround(t *testing.T) {
	cases := []struct {
		d    time.Duration
		prev string
		want string
	}{
		{30 * time.Second, "", "<1"},
		{90 * time.Second, "", "<2"},
		{125 * time.Second, "<2", "<2"}, // just past the edge: stays
		{150 * time.Second, "<2", "<5"}, // clearly past: moves
		{115 * time.Second, "<5", "<5"},
		{11 * time.Minute, "", "10+"},
		{0, "<2", "<1"},
	}
	for _, c := range cases {
		if got := Bucket(c.d, true, c.prev); got != c.want {
			t.Errorf("Bucket(%v, %q) = %q, want %q", c.d, c.prev, got, c.want)
		}
	}
	if Bucket(time.Minute, false, "<2") != Unknown {
		t.Error("an unknown estimate was shown as a bucket")
	}
}

// The bucket shown is the one the wait most probably ends in: with departures at random, two departures 30 s apart
// end within the first minute more often than not, though their mean is exactly one minute.
func TestBucketOfWait(t *testing.T) {
	w := Wait{Step: 30 * time.Second, N: 2}
	if got := w.Within(time.Minute); got < 0.59 || got > 0.60 { // 1 − e^−2 (1 + 2)
		t.Fatalf("P(wait < 1 min) = %v, want 0.594", got)
	}
	if w.Mean() != time.Minute || Bucket(w.Mean(), true, "") != "<2" {
		t.Fatalf("mean %v", w.Mean())
	}
	cases := []struct {
		w    Wait
		prev string
		want string
	}{
		{w, "", "<1"},
		{w, "<2", "<1"},                          // "<2" is far less likely (0.31 against 0.59): it moves
		{Wait{Base: 10 * time.Second}, "", "<1"}, // a free slot: only the time to accept is left
		{Wait{Step: 20 * time.Second, N: 5}, "", "<2"},
		{Wait{Step: 20 * time.Second, N: 6}, "<5", "<5"}, // nearly as likely as "<2" (0.44 against 0.47): it stays
		{Wait{Step: time.Minute, N: 30}, "", "10+"},
	}
	for _, c := range cases {
		if got := BucketOfWait(c.w, true, c.prev); got != c.want {
			t.Errorf("BucketOfWait(%+v, %q) = %q, want %q", c.w, c.prev, got, c.want)
		}
	}
	if BucketOfWait(w, false, "<1") != Unknown {
		t.Error("an unknown wait was shown as a bucket")
	}
	k, c, a := 3, store.Capacity{Free: 1, Serving: 2, Online: 1}, store.Averages{AHT: time.Minute, AHTSamples: 5, ACC: 5 * time.Second}
	got, ok := WaitOf(k, c, a, 3)
	mean, _ := Estimate(k, c, a, 3)
	if !ok || got.N != 2 || got.Mean() != mean {
		t.Fatalf("WaitOf = %+v, %v; Estimate = %v", got, ok, mean)
	}
}

// The queue's advance is measured between departures while others wait, and forgotten when the queue empties.
func TestQueueAdvanceIsMeasured(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 1, func(g *store.Group) { g.QueuePlaces = 10 })
		var cs []store.Conversation
		for i := 0; i < 4; i++ {
			cs = append(cs, h.visitor())
		}
		h.available(0, store.ChannelChat) // the first one leaves the queue; three still wait
		for _, c := range cs[:3] {
			h.clk.Add(40 * time.Second)
			h.end(c) // each end lets the next one in, 40 s after the previous departure
		}
		// The queue is empty now: a visitor who arrives later starts a new busy period, not a 10-minute sample.
		h.clk.Add(10 * time.Minute)
		late := h.visitor()
		h.end(cs[3])
		a, err := st.GroupAverages(h.ctx, h.group.ID, store.ChannelChat)
		if err != nil {
			t.Fatal(err)
		}
		if a.ADVSamples != 3 || a.ADV != 40*time.Second || h.conv(late).AgentID == "" {
			t.Fatalf("advance %v over %d samples, want 40s over 3", a.ADV, a.ADVSamples)
		}
	})
}

// Video is offered to a group's visitors while an agent could take the call or the video queue has room, and they
// are told when that changes.
func TestVideoAvailabilityFollowsPresenceAndTheQueue(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 3, func(g *store.Group) { g.QueuePlaces = 1 })
		told := func() notify.VideoView {
			t.Helper()
			h.tick()
			n := h.pub.Last(notify.VideoSubject(h.group.ID), notify.KindVideo)
			if n == nil {
				t.Fatal("the group's visitors were never told about video")
			}
			return *n.Video
		}
		if _, v, err := h.e.VideoAvailability(h.ctx, h.site.ID); err != nil || v.Available || v.Reason != "no_agent" {
			t.Fatalf("nobody online: %+v %v", v, err)
		}
		h.available(0, store.ChannelVideo)
		if v := told(); !v.Available {
			t.Fatalf("an agent is free for video: %+v", v)
		}
		// The agent takes a call: the queue still has a place.
		call := func() store.Request {
			t.Helper()
			h.n++
			res, err := h.st.AppendVisitorMessage(h.ctx, store.VisitorMessage{SiteID: h.site.ID, VisitorID: fmt.Sprintf("v%d", h.n),
				VisitorName: "Visitor", ClientMsgID: "m", Body: "video please", At: h.clk.Now()})
			if err != nil {
				t.Fatal(err)
			}
			r, err := h.e.EnqueueVideo(h.ctx, res.Conversation, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		first := call()
		if first.State != store.RequestOffered {
			t.Fatalf("first call: %s", first.State)
		}
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, h.offers(0)[0].ID); err != nil {
			t.Fatal(err)
		}
		if v := told(); !v.Available {
			t.Fatalf("the queue has room: %+v", v)
		}
		if second := call(); second.State != store.RequestQueued {
			t.Fatalf("second call: %s", second.State)
		}
		if v := told(); v.Available || v.Reason != "queue_full" {
			t.Fatalf("the queue is full: %+v", v)
		}
		// The first call ends: the waiting call rings, and the queue has room again.
		h.e.EndVideo(h.ctx, first.ConversationID, store.RequestCancelled, "call_hangup")
		if v := told(); !v.Available {
			t.Fatalf("after the first call: %+v", v)
		}
		if len(h.offers(0)) != 1 {
			t.Fatal("the waiting call did not ring when the agent became free")
		}
	})
}

// An end that stopped halfway (the conversation closed, its request still assigned: the process stopped between
// the two) is settled by the engine's tick, as of when the conversation closed: the agent's video slot frees up.
func TestAnEndCutShortIsSettledByTheTick(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 3, nil)
		h.available(0, store.ChannelChat)
		c := h.conv(h.visitor())
		if c.AgentID == "" {
			t.Fatal("the conversation was not assigned")
		}
		h.clk.Add(2 * time.Minute)
		closedAt := h.clk.Now()
		if _, err := st.EndConversation(h.ctx, c.ID, c.AgentID, "Agent", closedAt); err != nil {
			t.Fatal(err)
		}
		// No h.e.Ended: the process stopped here.
		if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 1 {
			t.Fatalf("the invariants see %v (%v), want the live request of a closed conversation", v, err)
		}
		h.clk.Add(time.Minute)
		h.tick()
		r := h.request(c)
		if r.State != store.RequestClosed || !r.EndedAt.Equal(closedAt) {
			t.Fatalf("after the tick the request is %s, ended at %v; want closed at %v", r.State, r.EndedAt, closedAt)
		}
		if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 0 {
			t.Fatalf("violations after the tick: %v %v", v, err)
		}
		a, err := st.GroupAverages(h.ctx, h.group.ID, store.ChannelChat)
		if err != nil {
			t.Fatal(err)
		}
		if a.AHT != 2*time.Minute {
			t.Fatalf("the handling time counted is %v, want the 2 minutes to the close", a.AHT)
		}
	})
}

// A call that ended without its video request settled (the process stopped in between) gives the agent's video slot
// back at the engine's tick, and the chat goes on.
func TestACallEndCutShortIsSettledByTheTick(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 1, 3, nil)
		h.available(0, store.ChannelVideo)
		c := h.visitor()
		call, err := st.CreateCall(h.ctx, c.ID, c.VisitorID, h.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.e.EnqueueVideo(h.ctx, c, func(reqID string) {
			if err := st.LinkCallRequest(h.ctx, call.ID, reqID); err != nil {
				t.Fatal(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.e.Accept(h.ctx, h.agents[0].ID, h.offers(0)[0].ID); err != nil {
			t.Fatal(err)
		}
		h.clk.Add(3 * time.Minute)
		endedAt := h.clk.Now()
		if _, _, _, err := st.EndCall(h.ctx, call.ID, "agent", "hangup", "", endedAt); err != nil {
			t.Fatal(err)
		}
		// No h.e.EndVideo: the process stopped here, and the agent looks busy with video for good.
		if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 1 {
			t.Fatalf("the invariants see %v (%v), want the live video request of an ended call", v, err)
		}
		h.clk.Add(time.Minute)
		h.tick()
		r, err := st.LatestRequest(h.ctx, c.ID, store.ChannelVideo)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != store.RequestClosed || !r.EndedAt.Equal(endedAt) {
			t.Fatalf("after the tick the video request is %s, ended at %v; want closed at %v", r.State, r.EndedAt, endedAt)
		}
		if h.conv(c).Status != store.StatusOpen {
			t.Fatal("settling the call closed the conversation")
		}
		if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 0 {
			t.Fatalf("violations after the tick: %v %v", v, err)
		}
	})
}

// An agent hands a conversation back to the group: it goes to a colleague ahead of a newer visitor, never back to
// the agent who handed it over, the agent's slot frees up, and the transcript says so. Only the conversation's
// agent may hand it over, and not while a video call is under way in it.
func TestATransferGoesToAColleagueFirst(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, 2, 1, nil)
		ana, ben := h.agents[0], h.agents[1]
		h.available(0, store.ChannelChat)
		c := h.visitor()
		if got := h.conv(c).AgentID; got != ana.ID {
			t.Fatalf("the first conversation went to %q", got)
		}
		if err := h.e.Transfer(h.ctx, ben.ID, ben.Name, c.ID, ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a transfer by someone else: %v", err)
		}

		// Nobody else is free: it waits, and Ana, though free again, is not given it back.
		if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		r := h.request(c)
		if r.State != store.RequestQueued || r.Priority != store.TransferPriority || h.conv(c).AgentID != "" {
			t.Fatalf("after the transfer: %+v, agent %q", r, h.conv(c).AgentID)
		}
		evs, _ := st.Events(h.ctx, c.ID, 0, 10)
		if last := evs[len(evs)-1]; last.Type != store.EventTransferred || last.AuthorID != ana.ID {
			t.Fatalf("the transcript ends with %+v", last)
		}
		// The visitor is told honestly that nobody can take it now: Ana, the only one available, won't.
		if q := h.queueView(c); q == nil || q.ETA == nil || q.ETA.Reason != "no_agent" {
			t.Fatalf("the transferred visitor's queue view: %+v", q)
		}
		// Ana's slot is free: a new visitor gets her at once.
		newer := h.visitor()
		if got := h.conv(newer).AgentID; got != ana.ID {
			t.Fatalf("Ana's freed slot: the newer visitor went to %q", got)
		}
		if h.conv(c).AgentID != "" {
			t.Fatal("the transferred conversation went back to Ana")
		}
		// A third visitor arrives before Ben is free: the transferred conversation is still served first.
		third := h.visitor()
		h.available(1, store.ChannelChat)
		if got := h.conv(c).AgentID; got != ben.ID {
			t.Fatalf("the transferred conversation went to %q, want Ben", got)
		}
		if h.conv(third).AgentID != "" {
			t.Fatal("the newer visitor went before the transferred conversation")
		}

		// Not while an invitation to video waits for the visitor, nor while a call is under way; nor once it is over.
		inv, err := st.CreateInvite(h.ctx, c.ID, ben.ID, store.InvitePending, false, h.clk.Now(), h.clk.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.e.Transfer(h.ctx, ben.ID, ben.Name, c.ID, ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("a transfer during an invitation: %v", err)
		}
		if _, err := st.AnswerInvite(h.ctx, inv.ID, c.VisitorID, false, h.clk.Now(), h.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateCall(h.ctx, c.ID, c.VisitorID, h.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if err := h.e.Transfer(h.ctx, ben.ID, ben.Name, c.ID, ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("a transfer during a call: %v", err)
		}
		h.end(newer)
		if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, newer.ID, ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("a transfer of a closed conversation: %v", err)
		}
		if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 0 {
			t.Fatalf("violations: %v %v", v, err)
		}
	})
}

// An agent hands a conversation to a named colleague. In "assign" mode the colleague gets it at once; in "offer"
// mode it rings on their desk alone, and if they decline it goes to the group, never back to the first agent. A
// colleague who is not available, has no free slot, is the agent themselves or is not in the group is refused,
// and nothing changes.
func TestATransferToANamedColleague(t *testing.T) {
	t.Run("assign", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, st *store.Store) {
			h := newHarness(t, st, 3, 1, nil)
			ana, ben, cleo := h.agents[0], h.agents[1], h.agents[2]
			h.available(0, store.ChannelChat)
			c := h.visitor()
			before, _ := st.Events(h.ctx, c.ID, 0, 100)
			for _, tc := range []struct {
				to   string
				want error
			}{{ben.ID, ErrUnavailable}, {ana.ID, ErrNotColleague}, {"ac_nobody", ErrNotColleague}} {
				if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, c.ID, tc.to); !errors.Is(err, tc.want) {
					t.Fatalf("a transfer to %s: %v, want %v", tc.to, err, tc.want)
				}
			}
			h.available(1, store.ChannelChat)
			if got := h.conv(h.visitor()).AgentID; got != ben.ID {
				t.Fatalf("the second visitor went to %q, want Ben", got)
			}
			if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, c.ID, ben.ID); !errors.Is(err, ErrAtCapacity) {
				t.Fatalf("a transfer to Ben, who is full: %v", err)
			}
			after, _ := st.Events(h.ctx, c.ID, 0, 100)
			if h.conv(c).AgentID != ana.ID || h.request(c).State != store.RequestAssigned || len(after) != len(before) {
				t.Fatalf("refused transfers changed the conversation: %+v, %d events (was %d)", h.conv(c), len(after), len(before))
			}

			h.available(2, store.ChannelChat)
			cs, err := h.e.Colleagues(h.ctx, ana.ID, c.ID)
			if err != nil || len(cs) != 2 || cs[0].ID != ben.ID || cs[0].FreeSlots != 0 || cs[1].ID != cleo.ID ||
				cs[1].Chat != store.StatusAvailable || cs[1].FreeSlots != 1 {
				t.Fatalf("Ana's colleagues: %+v %v", cs, err)
			}
			if _, err := h.e.Colleagues(h.ctx, ben.ID, c.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Ben lists colleagues for Ana's conversation: %v", err)
			}
			if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, c.ID, cleo.ID); err != nil {
				t.Fatal(err)
			}
			if got := h.conv(c).AgentID; got != cleo.ID {
				t.Fatalf("the conversation went to %q, want Cleo", got)
			}
			evs, _ := st.Events(h.ctx, c.ID, 0, 100)
			tr, as := evs[len(evs)-2], evs[len(evs)-1]
			if tr.Type != store.EventTransferred || tr.AuthorID != ana.ID || !strings.Contains(tr.Data, `"to_name":"Agent 2"`) ||
				as.Type != store.EventAssigned || as.AuthorID != cleo.ID {
				t.Fatalf("the transcript ends with %+v, %+v", tr, as)
			}
			// Ana's slot is free again.
			if got := h.conv(h.visitor()).AgentID; got != ana.ID {
				t.Fatalf("a new visitor went to %q, want Ana", got)
			}
			if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 0 {
				t.Fatalf("violations: %v %v", v, err)
			}
		})
	})
	t.Run("offer", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, st *store.Store) {
			h := newHarness(t, st, 3, 1, offerMode)
			ana, ben, cleo := h.agents[0], h.agents[1], h.agents[2]
			h.available(0, store.ChannelChat)
			c := h.visitor()
			if _, err := h.e.Accept(h.ctx, ana.ID, h.offers(0)[0].ID); err != nil {
				t.Fatal(err)
			}
			h.available(1, store.ChannelChat)
			h.available(2, store.ChannelChat)
			if err := h.e.Transfer(h.ctx, ana.ID, ana.Name, c.ID, ben.ID); err != nil {
				t.Fatal(err)
			}
			if len(h.offers(1)) != 1 || len(h.offers(2)) != 0 || h.conv(c).AgentID != "" {
				t.Fatalf("after the transfer: Ben rings %d, Cleo %d, the conversation is %q's", len(h.offers(1)), len(h.offers(2)), h.conv(c).AgentID)
			}
			// Ben declines: the group takes over, without Ana.
			if err := h.e.Decline(h.ctx, ben.ID, h.offers(1)[0].ID); err != nil {
				t.Fatal(err)
			}
			if len(h.offers(0)) != 0 || len(h.offers(2)) != 1 {
				t.Fatalf("after Ben declined: Ana rings %d, Cleo %d", len(h.offers(0)), len(h.offers(2)))
			}
			if _, err := h.e.Accept(h.ctx, cleo.ID, h.offers(2)[0].ID); err != nil {
				t.Fatal(err)
			}
			if got := h.conv(c).AgentID; got != cleo.ID {
				t.Fatalf("the conversation went to %q, want Cleo", got)
			}
			if v, err := st.RoutingViolations(h.ctx, h.clk.Now(), time.Second); err != nil || len(v) != 0 {
				t.Fatalf("violations: %v %v", v, err)
			}
		})
	})
}

// Outside its group's opening hours a new conversation is refused ("closed"), whoever is available, and the visitor
// is told when the group opens; video is not offered. Once open, visitors are told video is back and conversations
// are routed again.
func TestOpeningHours(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		// The harness's clock starts on Friday 2027-01-15 at 08:00 UTC; the group opens on Mondays only.
		h := newHarness(t, st, 1, 3, func(g *store.Group) {
			g.Hours = &store.Hours{TimeZone: "UTC", Days: map[string]store.DayHours{"mon": {Open: "09:00", Close: "17:00"}}}
		})
		h.available(0, store.ChannelChat)
		h.available(0, store.ChannelVideo)
		h.tick()
		c := h.visitor()
		monday := time.Date(2027, 1, 18, 9, 0, 0, 0, time.UTC)
		if r := h.request(c); r.State != store.RequestRefused || r.Reason != ReasonClosed || h.conv(c).AgentID != "" {
			t.Fatalf("a conversation while closed: %+v, agent %q", r, h.conv(c).AgentID)
		}
		if q := h.queueView(c); q == nil || q.State != store.RequestRefused || q.Reason != ReasonClosed || q.OpensAt != monday.UnixMilli() {
			t.Fatalf("the visitor was told %+v, want closed until %v", q, monday)
		}
		if q := h.e.QueueState(h.ctx, c.ID); q == nil || q.OpensAt != monday.UnixMilli() {
			t.Fatalf("the visitor's hello: %+v", q)
		}
		if sm, err := st.ConversationSummary(h.ctx, c.ID); err != nil || sm.Routing != store.RequestRefused || sm.RoutingReason != ReasonClosed {
			t.Fatalf("the desks' summary: routing %q, reason %q, %v", sm.Routing, sm.RoutingReason, err)
		}
		if _, v, err := h.e.VideoAvailability(h.ctx, h.site.ID); err != nil || v.Available || v.Reason != ReasonClosed {
			t.Fatalf("video while closed: %+v %v", v, err)
		}

		h.clk.Add(monday.Sub(h.clk.Now()))
		h.tick()
		if n := h.pub.Last(notify.VideoSubject(h.group.ID), notify.KindVideo); n == nil || !n.Video.Available {
			t.Fatalf("at the opening the visitors were told %+v", n)
		}
		if got := h.conv(h.visitor()).AgentID; got != h.agents[0].ID {
			t.Fatalf("a conversation while open went to %q", got)
		}
	})
}
