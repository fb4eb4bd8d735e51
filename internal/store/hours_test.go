package store

import (
	"context"
	"testing"
	"time"
)

func TestOpeningHours(t *testing.T) {
	h := &Hours{TimeZone: "Europe/Paris", Days: map[string]DayHours{
		"mon": {"09:00", "18:00"}, "tue": {"09:00", "18:00"}, "sat": {"10:00", "12:30"},
	}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-12-07 is a Monday.
	for _, tc := range []struct {
		at   string
		open bool
		next string
	}{
		{"2026-12-07 08:59", false, "2026-12-07 09:00"},
		{"2026-12-07 09:00", true, "2026-12-07 09:00"},
		{"2026-12-07 17:59", true, "2026-12-07 17:59"},
		{"2026-12-07 18:00", false, "2026-12-08 09:00"},
		{"2026-12-08 20:00", false, "2026-12-12 10:00"}, // Tuesday evening: next is Saturday
		{"2026-12-12 12:30", false, "2026-12-14 09:00"}, // Saturday's closing: next is Monday
	} {
		if got := h.OpenAt(at(tc.at)); got != tc.open {
			t.Errorf("open at %s: %v", tc.at, got)
		}
		if got := h.NextOpening(at(tc.at)); !got.Equal(at(tc.next)) {
			t.Errorf("next opening after %s: %v, want %s", tc.at, got.In(paris), tc.next)
		}
	}
	// The same instant in UTC.
	if !h.OpenAt(at("2026-12-07 10:00").UTC()) {
		t.Error("a time in UTC is not read in the group's zone")
	}
	var always *Hours
	if !always.OpenAt(time.Now()) {
		t.Error("no hours: always open")
	}
	for _, bad := range []Hours{
		{TimeZone: "Mars/Olympus", Days: map[string]DayHours{"mon": {"09:00", "18:00"}}},
		{TimeZone: "Europe/Paris", Days: map[string]DayHours{"monday": {"09:00", "18:00"}}},
		{TimeZone: "Europe/Paris", Days: map[string]DayHours{"mon": {"18:00", "09:00"}}},
		{TimeZone: "Europe/Paris", Days: map[string]DayHours{"mon": {"9:00", "18:00"}}},
		{TimeZone: "Europe/Paris", Days: map[string]DayHours{"mon": {"09:00", "24:30"}}},
		{TimeZone: "Europe/Paris", Days: map[string]DayHours{}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v is accepted", bad)
		}
	}
}

// A group's hours are kept, and cleared.
func TestGroupHoursAreStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		g := DefaultGroup("Shop hours")
		g.Hours = &Hours{TimeZone: "America/New_York", Days: map[string]DayHours{"fri": {"08:30", "24:00"}}}
		g, err := s.CreateGroup(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Group(ctx, g.ID)
		if err != nil || got.Hours == nil || got.Hours.TimeZone != "America/New_York" || got.Hours.Days["fri"].Close != "24:00" {
			t.Fatalf("stored: %+v %v", got.Hours, err)
		}
		got.Hours = nil
		if _, err := s.UpdateGroup(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, err := s.Group(ctx, g.ID); err != nil || again.Hours != nil {
			t.Fatalf("cleared: %+v %v", again.Hours, err)
		}
	})
}
