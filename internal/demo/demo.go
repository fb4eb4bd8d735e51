// Package demo seeds the data `parley demo` shows: a shop site with the widget, a second shop whose chat starts with
// a scenario bot, a routing group, two agents and an admin. Seeding is idempotent: running the demo again keeps what
// is there and its conversations.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/store"
)

// The demo's fixed names and credentials, printed at start and documented in the README.
const (
	SiteName   = "Demo Shop"
	GroupName  = "Support"
	Password   = "demo-password"
	AdminEmail = "admin@demo.parley.test"
	// The demo shop's signed-in customer (/demo/?customer=claire).
	CustomerName  = "Claire Martin"
	CustomerEmail = "claire.martin@example.com"
	AnaEmail      = "ana@demo.parley.test"
	BenEmail      = "ben@demo.parley.test"
	// BotSiteName is the second shop, served at /demo/bot/, whose chat starts with the scenario bot BotName.
	BotSiteName = "Demo Bot Shop"
	BotName     = "Demo Bot Shop assistant"
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
	if err := seedSavedReplies(ctx, st); err != nil {
		return store.Site{}, err
	}
	origins := Origins(addr)
	if err := seedBotShop(ctx, st, g.ID, origins); err != nil {
		return store.Site{}, err
	}
	site, err := st.SiteByName(ctx, SiteName)
	if errors.Is(err, store.ErrNotFound) {
		site, err = st.CreateSite(ctx, store.Site{Name: SiteName, AllowedOrigins: origins, GroupID: g.ID})
	} else if err == nil {
		site, err = allowOrigins(ctx, st, site, g.ID, origins)
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("demo site: %w", err)
	}
	return site, seedInvitation(ctx, st, site.ID)
}

// Invitation is the demo shop's proactive invitation, made when the site has none: shown on its pages after
// InvitationDelay, while an agent is available for chat.
const (
	Invitation      = "Hello! Looking for the right piece for your home? We're online and happy to help."
	InvitationDelay = 20 * time.Second
)

func seedInvitation(ctx context.Context, st *store.Store, siteID string) error {
	have, err := st.Invitations(ctx, siteID)
	if err != nil || len(have) > 0 {
		return err
	}
	_, err = st.CreateInvitation(ctx, store.Invitation{SiteID: siteID, Message: Invitation, URLContains: "/demo/",
		Delay: InvitationDelay, Enabled: true}, time.Now())
	if err != nil {
		return fmt.Errorf("demo invitation: %w", err)
	}
	return nil
}

// SavedReplies are the demo's saved replies, made when there are none.
var SavedReplies = [][2]string{
	{"welcome", "Hello, and thanks for your message! How can I help you today?"},
	{"thanks", "Thank you for contacting us. Have a nice day!"},
}

func seedSavedReplies(ctx context.Context, st *store.Store) error {
	have, err := st.SavedReplies(ctx)
	if err != nil || len(have) > 0 {
		return err
	}
	for _, r := range SavedReplies {
		if _, err := st.CreateSavedReply(ctx, r[0], r[1], time.Now()); err != nil {
			return fmt.Errorf("demo saved replies: %w", err)
		}
	}
	return nil
}

// allowOrigins adds the demo's origins to a site, and routes it to the group if it has none.
func allowOrigins(ctx context.Context, st *store.Store, site store.Site, groupID string, origins []string) (store.Site, error) {
	for _, o := range origins {
		if !contains(site.AllowedOrigins, o) {
			site.AllowedOrigins = append(site.AllowedOrigins, o)
		}
	}
	if site.GroupID == "" {
		site.GroupID = groupID
	}
	return st.UpdateSite(ctx, site)
}

// seedBotShop creates the bot shop and its scenario bot when they are missing; a bot or site the admin changed is
// kept as it is.
func seedBotShop(ctx context.Context, st *store.Store, groupID string, origins []string) error {
	b, err := st.BotByName(ctx, BotName)
	if errors.Is(err, store.ErrNotFound) {
		b, err = st.CreateBot(ctx, store.Bot{Name: BotName, Kind: store.BotScenario, Scenario: BotScenario().JSON()})
	}
	if err != nil {
		return fmt.Errorf("demo bot: %w", err)
	}
	site, err := st.SiteByName(ctx, BotSiteName)
	if errors.Is(err, store.ErrNotFound) {
		site, err = st.CreateSite(ctx, store.Site{Name: BotSiteName, AllowedOrigins: origins, GroupID: groupID})
		if err == nil {
			err = st.SetSiteBot(ctx, site.ID, b.ID)
		}
	} else if err == nil {
		_, err = allowOrigins(ctx, st, site, groupID, origins)
	}
	if err != nil {
		return fmt.Errorf("demo bot shop: %w", err)
	}
	return nil
}

// BotScenario is the demo bot's scenario: a greeting with two quick replies, one leading to a transfer card that
// carries the video phrase (the conversation moves to video when an agent takes it), the other to a plain transfer.
func BotScenario() bot.Scenario {
	return bot.Scenario{
		Start: "welcome",
		Steps: []bot.Step{
			{ID: "welcome", Kind: bot.KindMessage,
				Text: bot.Text{"en": "Hello! I'm the shop's assistant. How can we help you today?",
					"fr": "Bonjour ! Je suis l'assistant de la boutique. Comment pouvons-nous vous aider ?"},
				QuickReplies: []bot.QuickReply{
					{ID: "video", Label: bot.Text{"en": "Talk to an expert by video", "fr": "Parler à un expert en vidéo"}, Next: "expert_video"},
					{ID: "question", Label: bot.Text{"en": "Ask a question", "fr": "Poser une question"}, Next: "agent_chat"},
				}},
			{ID: "expert_video", Kind: bot.KindTransfer,
				Text: bot.Text{"en": "An expert is on the way. You will be connected by video as soon as they answer.",
					"fr": "Un expert arrive. Vous allez être mis en relation par vidéo dès qu'il répond."}},
			{ID: "agent_chat", Kind: bot.KindTransfer,
				Text: bot.Text{"en": "Thanks! An agent will answer you here in a moment.",
					"fr": "Merci ! Un conseiller vous répond ici dans un instant."}},
		},
	}
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
