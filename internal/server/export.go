package server

import (
	"cmp"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/notify"
)

// maxExportDays is the longest period one export covers.
const maxExportDays = 366

// exportConversations answers the admin's CSV of the conversations opened from one day to another (both included,
// UTC days; the last 7 days by default): one line each, with the site, the visitor (the name and address the website
// signed, if it did), the agent, when, how many messages, the visitor's first message, the rating and the e-mail
// address a visitor left.
func (s *Server) exportConversations(w http.ResponseWriter, r *http.Request, _ session) {
	today := s.now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -6), today
	bad := map[string]string{}
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				bad[name] = "a day as YYYY-MM-DD"
				continue
			}
			*dst = d
		}
	}
	if len(bad) == 0 && (to.Before(from) || to.Sub(from) >= maxExportDays*24*time.Hour) {
		bad["to"] = "a day on or after from, at most 366 days later"
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	rows, err := s.store.ExportConversations(r.Context(), from, to.AddDate(0, 0, 1))
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="parley-conversations-`+from.Format(time.DateOnly)+"-to-"+to.Format(time.DateOnly)+`.csv"`)
	out := csv.NewWriter(w)
	out.Write([]string{"conversation_id", "site", "visitor", "visitor_email", "agent", "status", "opened_at", "closed_at",
		"messages", "first_message", "rating", "rating_comment", "contact_email", "tags"})
	for _, x := range rows {
		closed, rating := "", ""
		if !x.ClosedAt.IsZero() {
			closed = x.ClosedAt.UTC().Format(time.RFC3339)
		}
		if x.RatingScore > 0 {
			rating = strconv.Itoa(x.RatingScore)
		}
		visitor := cmp.Or(x.VisitorName, x.VisitorEmail, notify.VisitorLabel(x.VisitorID))
		out.Write(cells(x.ID, x.SiteName, visitor, x.VisitorEmail, x.AgentName, x.Status, x.CreatedAt.UTC().Format(time.RFC3339),
			closed, strconv.Itoa(x.Messages), x.FirstMessage, rating, x.RatingComment, x.ContactEmail, x.Tags))
	}
	out.Flush()
}

// cells makes text safe for a spreadsheet: a cell that would start with =, +, -, @, a tab or a carriage return is
// read as a formula by spreadsheet programs, so what a visitor wrote gets a leading apostrophe instead.
func cells(values ...string) []string {
	for i, v := range values {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			values[i] = "'" + v
		}
	}
	return values
}
