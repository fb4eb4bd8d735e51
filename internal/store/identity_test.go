package store

import (
	"context"
	"testing"
	"time"
)

// A site's identity secret is made once; a visitor's identity shows in their conversations' summaries, and a new
// one replaces it.
func TestVisitorIdentity(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		secret, err := s.IdentitySecret(ctx, f.site.ID)
		if err != nil || len(secret) != 64 {
			t.Fatalf("secret %q %v", secret, err)
		}
		if again, err := s.IdentitySecret(ctx, f.site.ID); err != nil || again != secret {
			t.Fatalf("the secret changed: %q %v", again, err)
		}
		if other, err := s.IdentitySecret(ctx, f.otherSite.ID); err != nil || other == secret {
			t.Fatalf("another site's secret: %q %v", other, err)
		}
		id := opened(t, s, f)
		if c, err := s.OpenConversationOf(ctx, f.site.ID, "v1"); err != nil || c.ID != id {
			t.Fatalf("the open conversation: %+v %v", c, err)
		}
		for _, who := range [][2]string{{"Claire", "claire@example.com"}, {"Claire Martin", "claire.martin@example.com"}} {
			if err := s.SetVisitorIdentity(ctx, f.site.ID, "v1", who[0], who[1], time.Now()); err != nil {
				t.Fatal(err)
			}
			sm, err := s.ConversationSummary(ctx, id)
			if err != nil || sm.VisitorName != who[0] || sm.VisitorEmail != who[1] {
				t.Fatalf("summary: %q %q %v", sm.VisitorName, sm.VisitorEmail, err)
			}
		}
	})
}
