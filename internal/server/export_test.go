package server_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// The admin downloads the conversations as CSV: one line each, with the rating; what a visitor wrote can't become
// a spreadsheet formula; bad days and agents get clear errors.
func TestExportConversations(t *testing.T) {
	env := apptest.Start(t, nil)
	id := closedWithAna(t, env, "v-export", `=HYPERLINK("http://evil.example","click")`).ID
	site, err := env.Store.SiteByName(t.Context(), demo.SiteName)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SetVisitorIdentity(t.Context(), site.ID, "v-export", "Claire Martin", "claire@example.com", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.RateConversation(t.Context(), id, "v-export", 4, "Helpful, thanks", time.Now()); err != nil {
		t.Fatal(err)
	}
	ana, err := env.Store.AccountByEmail(t.Context(), demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"refund", "delivery"} {
		if _, err := env.Store.TagConversation(t.Context(), id, ana.ID, tag, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	today := time.Now().UTC().Format(time.DateOnly)
	req, _ := http.NewRequest("GET", env.URL+"/api/admin/conversations.csv?from="+today+"&to="+today, nil)
	resp, err := admin.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	lines, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0][0] != "conversation_id" {
		t.Fatalf("the CSV: %q", lines)
	}
	row := map[string]string{}
	for i, name := range lines[0] {
		row[name] = lines[1][i]
	}
	if row["conversation_id"] != id || row["site"] != demo.SiteName || row["visitor"] != "Claire Martin" ||
		row["visitor_email"] != "claire@example.com" || row["agent"] != "Ana" || row["status"] != "closed" ||
		row["messages"] != "1" || row["rating"] != "4" || row["rating_comment"] != "Helpful, thanks" || row["closed_at"] == "" ||
		row["tags"] != "delivery,refund" {
		t.Fatalf("the line: %q", row)
	}
	if !strings.HasPrefix(row["first_message"], "'=HYPERLINK") {
		t.Fatalf("a formula came through: %q", row["first_message"])
	}

	for _, q := range []string{"?from=yesterday", "?from=2026-12-07&to=2026-12-01", "?from=2024-01-01&to=2026-01-01"} {
		if st := admin.Do("GET", "/api/admin/conversations.csv"+q, nil, nil); st != 400 {
			t.Fatalf("export %s: %d", q, st)
		}
	}
	agent := env.NewHTTP(t)
	agent.Login(demo.AnaEmail, demo.Password)
	if st := agent.Do("GET", "/api/admin/conversations.csv", nil, nil); st != 403 {
		t.Fatalf("an agent exports: %d", st)
	}
}
