package bus

import (
	"fmt"
	"slices"
	"testing"
)

func TestMemory(t *testing.T) {
	runConformance(t, func(t *testing.T) (a, b Bus) {
		m := NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m, m
	})
}

func TestMemoryPublishIsSynchronous(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	var got []string
	if _, err := m.Subscribe("visitor.v_1", func(_ string, data []byte) { got = append(got, string(data)) }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	for _, msg := range []string{"a", "b"} {
		if err := m.Publish(t.Context(), "visitor.v_1", []byte(msg)); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		// No synchronisation needed: with no concurrent publisher, the handler ran before Publish returned.
		if got[len(got)-1] != msg {
			t.Fatalf("after Publish(%q) handler has seen %q", msg, got)
		}
	}
}

// A panicking handler must not stall its own subscription or the others that were waiting on the same message.
func TestMemoryHandlerPanic(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	const subject = "site.s_1"
	var panicker []string
	if _, err := m.Subscribe(subject, func(_ string, data []byte) {
		panicker = append(panicker, string(data))
		if string(data) == "boom" {
			panic("handler bug")
		}
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	var other []string
	if _, err := m.Subscribe(subject, func(_ string, data []byte) { other = append(other, string(data)) }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("Publish did not propagate the handler's panic")
			}
		}()
		_ = m.Publish(t.Context(), subject, []byte("boom"))
	}()
	if err := m.Publish(t.Context(), subject, []byte("ok")); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	if want := []string{"boom", "ok"}; !slices.Equal(panicker, want) {
		t.Errorf("panicking subscriber got %q, want %q", panicker, want)
	}
	if want := []string{"boom", "ok"}; !slices.Equal(other, want) {
		t.Errorf("other subscriber got %q, want %q", other, want)
	}
}

// Subjects come and go with visitors, so the index must forget a subject once its last subscriber leaves.
func TestMemoryForgetsEmptySubjects(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	var subs []Subscription
	for i := range 100 {
		for range 2 {
			s, err := m.Subscribe(fmt.Sprintf("visitor.v_%d", i), func(string, []byte) {})
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			subs = append(subs, s)
		}
	}
	for _, s := range subs {
		if err := s.Unsubscribe(); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
	}
	m.mu.RLock()
	n := len(m.subs)
	m.mu.RUnlock()
	if n != 0 {
		t.Errorf("index holds %d subjects after every subscription ended, want 0", n)
	}
}

func TestMemoryPublishWithoutSubscriberDoesNotAllocate(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	if _, err := m.Subscribe("visitor.v_other", func(string, []byte) {}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	ctx, data := t.Context(), []byte("hello")
	allocs := testing.AllocsPerRun(100, func() {
		if err := m.Publish(ctx, "visitor.v_nobody", data); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	})
	if allocs != 0 {
		t.Errorf("Publish to a subject without subscribers allocates %v times, want 0", allocs)
	}
}

// BenchmarkMemoryPublish publishes to one subscribed subject among 10,000, and to a subject nobody listens on.
func BenchmarkMemoryPublish(b *testing.B) {
	const subjects = 10_000
	m := NewMemory()
	defer m.Close()
	var delivered int
	for i := range subjects {
		if _, err := m.Subscribe(fmt.Sprintf("visitor.v_%d", i), func(string, []byte) { delivered++ }); err != nil {
			b.Fatalf("Subscribe: %v", err)
		}
	}
	data := []byte(`{"type":"message.new","conversation":"c_123"}`)

	b.Run("subscribed", func(b *testing.B) {
		b.ReportAllocs()
		delivered = 0
		n := 0
		for b.Loop() {
			if err := m.Publish(b.Context(), "visitor.v_4242", data); err != nil {
				b.Fatalf("Publish: %v", err)
			}
			n++
		}
		if delivered != n {
			b.Fatalf("delivered %d of %d", delivered, n)
		}
	})
	b.Run("no_subscriber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Publish(b.Context(), "visitor.v_nobody", data); err != nil {
				b.Fatalf("Publish: %v", err)
			}
		}
	})
}
