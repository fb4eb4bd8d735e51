package server_test

import (
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// A group's opening hours through the admin API: set, refused with a reason in plain words, and cleared.
func TestGroupOpeningHours(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	g, err := env.Store.GroupByName(t.Context(), demo.GroupName)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/admin/groups/" + g.ID
	type group struct {
		Hours *struct {
			TimeZone string `json:"timezone"`
			Days     map[string]struct {
				Open  string `json:"open"`
				Close string `json:"close"`
			} `json:"days"`
		} `json:"hours"`
	}
	var got group
	hours := map[string]any{"timezone": "Europe/Paris", "days": map[string]any{"mon": map[string]string{"open": "09:00", "close": "18:00"}}}
	if st := admin.Do("PATCH", path, map[string]any{"hours": hours}, &got); st != 200 || got.Hours == nil ||
		got.Hours.TimeZone != "Europe/Paris" || got.Hours.Days["mon"].Close != "18:00" {
		t.Fatalf("set: %d %+v", st, got.Hours)
	}
	for _, bad := range []any{
		map[string]any{"timezone": "Nowhere/Land", "days": map[string]any{"mon": map[string]string{"open": "09:00", "close": "18:00"}}},
		map[string]any{"timezone": "Europe/Paris", "days": map[string]any{"mon": map[string]string{"open": "18:00", "close": "09:00"}}},
		map[string]any{"timezone": "Europe/Paris", "days": map[string]any{}},
		map[string]any{"timezone": "Europe/Paris", "week": "mon-fri"},
		"always",
	} {
		var e struct {
			Error struct {
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if st := admin.Do("PATCH", path, map[string]any{"hours": bad}, &e); st != 400 || e.Error.Fields["hours"] == "" {
			t.Fatalf("hours %v: %d %+v", bad, st, e)
		}
	}
	if stored, err := env.Store.Group(t.Context(), g.ID); err != nil || stored.Hours == nil || stored.Hours.TimeZone != "Europe/Paris" {
		t.Fatalf("a refused change was saved: %+v %v", stored.Hours, err)
	}
	if st := admin.Do("PATCH", path, map[string]any{"hours": nil}, &got); st != 200 || got.Hours != nil {
		t.Fatalf("clear: %d %+v", st, got.Hours)
	}
}
