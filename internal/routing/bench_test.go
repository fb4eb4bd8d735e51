package routing

import (
	"fmt"
	"testing"

	"github.com/parley/parley/internal/store"
)

// BenchmarkEnqueueToOffer measures the engine alone on SQLite (no sockets): a new conversation is enqueued and
// offered to one of 10 available agents, who accepts and ends it.
func BenchmarkEnqueueToOffer(b *testing.B) {
	t := &testing.T{}
	st, err := store.Open(b.Context(), "", b.TempDir(), 16)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	h := newHarness(t, st, 10, 50, offerMode)
	for i := range h.agents {
		h.available(i, store.ChannelChat)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := st.AppendVisitorMessage(h.ctx, store.VisitorMessage{SiteID: h.site.ID, VisitorID: fmt.Sprint("v", i), VisitorName: "V",
			ClientMsgID: "m", Body: "hi", At: h.clk.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.e.Enqueue(h.ctx, res.Conversation); err != nil {
			b.Fatal(err)
		}
		r, _ := st.LatestRequest(h.ctx, res.Conversation.ID, store.ChannelChat)
		if r.State != store.RequestOffered {
			b.Fatalf("request %s", r.State)
		}
	}
}
