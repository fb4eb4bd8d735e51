package server_test

import (
	"strings"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// The admin writes saved replies; every agent's desk reads them. Bad shortcuts and texts, a shortcut taken twice,
// an agent writing them, and unknown ids get clear errors.
func TestSavedReplies(t *testing.T) {
	env := apptest.Start(t, nil)
	admin, ana := env.NewHTTP(t), env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	ana.Login(demo.AnaEmail, demo.Password)

	type reply struct {
		ID       string `json:"id"`
		Shortcut string `json:"shortcut"`
		Body     string `json:"body"`
	}
	type apiErr struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	var created reply
	if st := admin.Do("POST", "/api/admin/saved-replies", map[string]string{"shortcut": " /Delivery ", "body": " We deliver within five days. "}, &created); st != 201 ||
		created.Shortcut != "delivery" || created.Body != "We deliver within five days." || created.ID == "" {
		t.Fatalf("create: %d %+v", st, created)
	}
	for _, in := range []map[string]string{
		{"shortcut": "two words", "body": "x"},
		{"shortcut": "", "body": "x"},
		{"shortcut": strings.Repeat("a", 33), "body": "x"},
		{"shortcut": "ok", "body": "   "},
		{"shortcut": "ok", "body": strings.Repeat("é", 4001)},
		{"shortcut": "delivery", "body": "again"},
	} {
		var e apiErr
		if st := admin.Do("POST", "/api/admin/saved-replies", in, &e); st != 400 || e.Error.Code != "invalid_input" || len(e.Error.Fields) != 1 {
			t.Fatalf("create %v: %d %+v", in, st, e)
		}
	}
	if st := ana.Do("POST", "/api/admin/saved-replies", map[string]string{"shortcut": "mine", "body": "x"}, nil); st != 403 {
		t.Fatalf("an agent creates one: %d", st)
	}

	var updated reply
	if st := admin.Do("PATCH", "/api/admin/saved-replies/"+created.ID, map[string]string{"body": "We deliver within a week."}, &updated); st != 200 ||
		updated.Shortcut != "delivery" || updated.Body != "We deliver within a week." {
		t.Fatalf("update: %d %+v", st, updated)
	}
	if st := admin.Do("PATCH", "/api/admin/saved-replies/sr_nope", map[string]string{"body": "x"}, nil); st != 404 {
		t.Fatalf("update an unknown one: %d", st)
	}
	var list struct {
		SavedReplies []reply `json:"saved_replies"`
	}
	// The demo's own saved replies, and this one, by shortcut.
	if st := ana.Do("GET", "/api/desk/saved-replies", nil, &list); st != 200 || len(list.SavedReplies) != len(demo.SavedReplies)+1 ||
		list.SavedReplies[0].Shortcut != "delivery" || list.SavedReplies[0].Body != "We deliver within a week." {
		t.Fatalf("the desk's list: %d %+v", st, list)
	}
	if st := ana.Do("GET", "/api/admin/saved-replies", nil, nil); st != 403 {
		t.Fatalf("an agent reads the admin's list: %d", st)
	}
	if st := admin.Do("DELETE", "/api/admin/saved-replies/"+created.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := admin.Do("DELETE", "/api/admin/saved-replies/"+created.ID, nil, nil); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
	if st := env.NewHTTP(t).Do("GET", "/api/desk/saved-replies", nil, nil); st != 401 {
		t.Fatalf("without a session: %d", st)
	}
}
