package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBots(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		sc, err := s.CreateBot(ctx, Bot{Name: "Greeter", Kind: BotScenario, Scenario: `{"start":"a"}`})
		if err != nil {
			t.Fatal(err)
		}
		hb, err := s.CreateBot(ctx, Bot{Name: "External", Kind: BotHTTP, WebhookURL: "https://bot.test/hook", WebhookSecret: "s1", TokenHash: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBot(ctx, Bot{Name: "Greeter", Kind: BotScenario}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second bot named Greeter: %v, want ErrConflict", err)
		}
		if b, err := s.BotByTokenHash(ctx, "h1"); err != nil || b.ID != hb.ID || b.WebhookSecret != "s1" {
			t.Fatalf("by token hash: %+v %v", b, err)
		}
		if _, err := s.BotByTokenHash(ctx, ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("empty token hash: %v", err)
		}
		if err := s.SetBotCredentials(ctx, hb.ID, "s2", "h2"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BotByTokenHash(ctx, "h1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the old token still works: %v", err)
		}
		sc.Name, sc.Scenario = "Greeter 2", `{"start":"b"}`
		if sc, err = s.UpdateBot(ctx, sc); err != nil || sc.Name != "Greeter 2" || sc.Scenario != `{"start":"b"}` || sc.TokenHash != "" {
			t.Fatalf("update: %+v %v", sc, err)
		}
		if list, err := s.Bots(ctx); err != nil || len(list) != 2 || list[0].Name != "External" {
			t.Fatalf("bots: %+v %v", list, err)
		}

		// A site's bot.
		if _, err := s.SiteBot(ctx, f.site.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("site without bot: %v", err)
		}
		if err := s.SetSiteBot(ctx, f.site.ID, "bt_missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown bot: %v", err)
		}
		if err := s.SetSiteBot(ctx, "st_missing", sc.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown site: %v", err)
		}
		if err := s.SetSiteBot(ctx, f.site.ID, sc.ID); err != nil {
			t.Fatal(err)
		}
		if b, err := s.SiteBot(ctx, f.site.ID); err != nil || b.ID != sc.ID {
			t.Fatalf("site bot: %+v %v", b, err)
		}
		if m, err := s.SiteBots(ctx); err != nil || len(m) != 1 || m[f.site.ID] != sc.ID {
			t.Fatalf("site bots: %v %v", m, err)
		}
		if err := s.DeleteBot(ctx, sc.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("deleting a bot a site uses: %v", err)
		}
		if err := s.DeleteBot(ctx, hb.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBot(ctx, hb.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if err := s.SetSiteBot(ctx, f.site.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SiteBot(ctx, f.site.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("detached: %v", err)
		}
	})
}

func TestBotTurns(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		b, err := s.CreateBot(ctx, Bot{Name: "Greeter", Kind: BotScenario, Scenario: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateBot(ctx, Bot{Name: "Other", Kind: BotHTTP, TokenHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.UnixMilli(1_700_000_000_000)
		res, err := s.AppendVisitorMessage(ctx, VisitorMessage{SiteID: f.site.ID, VisitorID: "v1", VisitorName: "Visitor", ClientMsgID: "m1",
			Body: "hi", At: at})
		if err != nil {
			t.Fatal(err)
		}
		conv := res.Conversation

		// Before the bot starts, it can't talk.
		if _, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: b.ID, Messages: []BotMessage{{Body: "x"}}, At: at}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a bot that didn't start: %v", err)
		}
		cb, created, err := s.StartConversationBot(ctx, conv.ID, b.ID, "fr", at)
		if err != nil || !created || !cb.Active || cb.Language != "fr" {
			t.Fatalf("start: %+v %v %v", cb, created, err)
		}
		if _, again, err := s.StartConversationBot(ctx, conv.ID, other.ID, "en", at); err != nil || again {
			t.Fatalf("a second start: %v %v", again, err)
		}
		if sm, _ := s.ConversationSummary(ctx, conv.ID); sm.Routing != RoutingBot {
			t.Fatalf("routing %q, want %q", sm.Routing, RoutingBot)
		}

		// A turn of two messages, the second with quick replies.
		turn, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: b.ID, BotName: "Greeter", Step: "menu", At: at,
			Messages: []BotMessage{{Body: "Hello"}, {Body: "Choose", Data: `{"quick_replies":[{"id":"a","label":"A"}]}`}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(turn.Events) != 2 || turn.Events[0].Seq != 2 || turn.Events[1].Seq != 3 || turn.Events[1].Author != AuthorBot ||
			turn.Events[1].AuthorName != "Greeter" || turn.Events[1].Data == "" {
			t.Fatalf("turn events: %+v", turn.Events)
		}
		if cb, _ := s.ConversationBot(ctx, conv.ID); cb.Step != "menu" || !cb.Active {
			t.Fatalf("after the turn: %+v", cb)
		}
		// Another bot can't talk in it.
		if _, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: other.ID, Messages: []BotMessage{{Body: "x"}}, At: at}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another bot: %v", err)
		}
		// An idempotent post.
		one := BotTurn{ConversationID: conv.ID, BotID: b.ID, Messages: []BotMessage{{Body: "once", ClientMsgID: "b1"}}, At: at}
		first, err := s.AppendBotTurn(ctx, one)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.AppendBotTurn(ctx, one)
		if err != nil || !again.Duplicate || again.Events[0].Seq != first.Events[0].Seq {
			t.Fatalf("the same client_msg_id again: %+v %v", again, err)
		}

		// The transfer ends the bot's part.
		tr, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: b.ID, Transfer: true, At: at.Add(time.Second),
			Messages: []BotMessage{{Body: "Handing over", Data: `{"transfer":true,"video":false}`}}})
		if err != nil {
			t.Fatal(err)
		}
		if cb, _ := s.ConversationBot(ctx, conv.ID); cb.Active || cb.EndedAt.IsZero() || cb.Step != "menu" {
			t.Fatalf("after the transfer: %+v", cb)
		}
		if tr.Conversation.LastSeq != tr.Events[0].Seq {
			t.Fatalf("conversation last seq %d, event %d", tr.Conversation.LastSeq, tr.Events[0].Seq)
		}
		if _, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: b.ID, Messages: []BotMessage{{Body: "x"}}, At: at}); !errors.Is(err, ErrConflict) {
			t.Fatalf("talking after the transfer: %v", err)
		}
	})
}

// An agent who takes a conversation by hand silences its bot, and a bot can't start in a conversation that has an
// agent.
func TestBotStepsBackForAnAgent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		b, err := s.CreateBot(ctx, Bot{Name: "Greeter", Kind: BotScenario, Scenario: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		res, err := s.AppendVisitorMessage(ctx, VisitorMessage{SiteID: f.site.ID, VisitorID: "v1", VisitorName: "Visitor", Body: "hi", At: now})
		if err != nil {
			t.Fatal(err)
		}
		conv := res.Conversation
		if _, _, err := s.StartConversationBot(ctx, conv.ID, b.ID, "", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, conv.ID, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendBotTurn(ctx, BotTurn{ConversationID: conv.ID, BotID: b.ID, Messages: []BotMessage{{Body: "x"}}, At: now}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a bot talking after an agent took the conversation: %v", err)
		}
		if err := s.StopConversationBot(ctx, conv.ID, now); err != nil {
			t.Fatal(err)
		}
		if cb, _ := s.ConversationBot(ctx, conv.ID); cb.Active {
			t.Fatal("the bot is still active")
		}

		res2, err := s.AppendVisitorMessage(ctx, VisitorMessage{SiteID: f.site.ID, VisitorID: "v2", VisitorName: "Visitor", Body: "hi", At: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, res2.Conversation.ID, f.ben.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.StartConversationBot(ctx, res2.Conversation.ID, b.ID, "", now); !errors.Is(err, ErrConflict) {
			t.Fatalf("starting a bot in an agent's conversation: %v", err)
		}
	})
}
