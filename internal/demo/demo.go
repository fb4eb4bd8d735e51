// Package demo seeds the data `parley demo` shows: a shop site with the widget, a routing group, two agents and an
// admin. Seeding is idempotent: running the demo again keeps what is there and its conversations.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/store"
)

// The demo's fixed names and credentials, printed at start and documented in the README.
const (
	SiteName   = "Demo Shop"
	GroupName  = "Support"
	Password   = "demo-password"
	AdminEmail = "admin@demo.parley.test"
	AnaEmail   = "ana@demo.parley.test"
	BenEmail   = "ben@demo.parley.test"
)

// Seed creates whatever demo data is missing (Ana, a supervisor, and Ben in the group "Support"; an admin), and allows the origins the demo page is served from on addr. It
// returns the demo site.
func Seed(ctx context.Context, st *store.Store, addr string) (store.Site, error) {
	// Ana supervises and may turn a chat into a video call; Ben may not.
	ana, err := ensureAccount(ctx, st, store.Account{Email: AnaEmail, Name: "Ana", Role: store.RoleAgent, Supervisor: true, CanEscalate: true})
	if err != nil {
		return store.Site{}, err
	}
	ben, err := ensureAccount(ctx, st, store.Account{Email: BenEmail, Name: "Ben", Role: store.RoleAgent})
	if err != nil {
		return store.Site{}, err
	}
	if _, err := ensureAccount(ctx, st, store.Account{Email: AdminEmail, Name: "Admin", Role: store.RoleAdmin}); err != nil {
		return store.Site{}, err
	}
	g, err := st.GroupByName(ctx, GroupName)
	if errors.Is(err, store.ErrNotFound) {
		g, err = st.CreateGroup(ctx, store.DefaultGroup(GroupName)) // chat and video, 5 queue places
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("demo group: %w", err)
	}
	for _, id := range []string{ana.ID, ben.ID} {
		if err := st.AddGroupMember(ctx, g.ID, id); err != nil {
			return store.Site{}, fmt.Errorf("demo group: %w", err)
		}
	}
	origins := Origins(addr)
	site, err := st.SiteByName(ctx, SiteName)
	if errors.Is(err, store.ErrNotFound) {
		return st.CreateSite(ctx, store.Site{Name: SiteName, AllowedOrigins: origins, GroupID: g.ID})
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("demo site: %w", err)
	}
	for _, o := range origins {
		if !contains(site.AllowedOrigins, o) {
			site.AllowedOrigins = append(site.AllowedOrigins, o)
		}
	}
	if site.GroupID == "" {
		site.GroupID = g.ID
	}
	return st.UpdateSite(ctx, site)
}

// ensureAccount creates the account described by want (with the demo password and 3 chat slots) unless its e-mail
// address exists already.
func ensureAccount(ctx context.Context, st *store.Store, want store.Account) (store.Account, error) {
	a, err := st.AccountByEmail(ctx, want.Email)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return a, err
	}
	if want.PasswordHash, err = auth.HashPassword(Password); err != nil {
		return store.Account{}, err
	}
	want.ChatCapacity = 3
	return st.CreateAccount(ctx, want)
}

// Origins are the origins a browser on this machine uses for the demo page served on addr.
func Origins(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	switch host {
	case "", "0.0.0.0", "::", "127.0.0.1", "localhost":
		return []string{"http://127.0.0.1:" + port, "http://localhost:" + port}
	}
	return []string{"http://" + net.JoinHostPort(host, port)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
