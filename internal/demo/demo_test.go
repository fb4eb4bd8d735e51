package demo

import (
	"context"
	"slices"
	"testing"

	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/store"
)

func TestSeedIsIdempotentAndFollowsThePort(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := Seed(ctx, st, "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Seed(ctx, st, "127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.PublicID != first.PublicID {
		t.Fatalf("second seed made another site: %+v vs %+v", again, first)
	}
	for _, o := range []string{"http://127.0.0.1:8080", "http://localhost:9000"} {
		if !slices.Contains(again.AllowedOrigins, o) {
			t.Errorf("origins %v lack %s", again.AllowedOrigins, o)
		}
	}
	accts, _ := st.Accounts(ctx)
	if len(accts) != 3 {
		t.Fatalf("%d accounts after two seeds, want 3", len(accts))
	}
	g, err := st.GroupByName(ctx, GroupName)
	if err != nil || len(g.Members) != 2 || again.GroupID != g.ID {
		t.Fatalf("group %+v %v, site group %s", g, err, again.GroupID)
	}
	// The bot shop: the same group, the same origins, and its scenario bot, once.
	botSite, err := st.SiteByName(ctx, BotSiteName)
	if err != nil || botSite.GroupID != g.ID || !slices.Contains(botSite.AllowedOrigins, "http://localhost:9000") {
		t.Fatalf("bot site %+v %v", botSite, err)
	}
	b, err := st.SiteBot(ctx, botSite.ID)
	if err != nil || b.Name != BotName || b.Kind != store.BotScenario {
		t.Fatalf("the bot shop's bot: %+v %v", b, err)
	}
	if _, err := bot.ParseScenario(b.Scenario); err != nil {
		t.Fatalf("the demo scenario is invalid: %v", err)
	}
	if bots, _ := st.Bots(ctx); len(bots) != 1 {
		t.Fatalf("%d bots after two seeds, want 1", len(bots))
	}
	if _, err := st.SiteBot(ctx, again.ID); err == nil {
		t.Fatal("the first demo shop has a bot")
	}
}
