package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Site is a website that embeds the widget.
type Site struct {
	ID             string
	PublicID       string // the id in the install snippet
	Name           string
	AllowedOrigins []string // e.g. "https://shop.example.com"; the widget works only on these
	Language       string   // "" follows the visitor's browser; "en" or "fr" forces one
	GroupID        string   // the routing group that answers this site; "" for none
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const siteCols = "id, public_id, name, allowed_origins, language, group_id, created_at, updated_at"

func scanSite(sc interface{ Scan(...any) error }) (Site, error) {
	var st Site
	var origins string
	var group *string
	var created, updated int64
	if err := sc.Scan(&st.ID, &st.PublicID, &st.Name, &origins, &st.Language, &group, &created, &updated); err != nil {
		return Site{}, notFound(err)
	}
	if err := json.Unmarshal([]byte(origins), &st.AllowedOrigins); err != nil {
		return Site{}, fmt.Errorf("store: site %s origins: %w", st.ID, err)
	}
	if group != nil {
		st.GroupID = *group
	}
	st.CreatedAt, st.UpdatedAt = fromMS(created), fromMS(updated)
	return st, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateSite stores a site; ID and PublicID are generated when empty. A taken name is ErrConflict.
func (s *Store) CreateSite(ctx context.Context, st Site) (Site, error) {
	if st.ID == "" {
		st.ID = NewID("st")
	}
	if st.PublicID == "" {
		st.PublicID = NewID("site")
	}
	if st.AllowedOrigins == nil {
		st.AllowedOrigins = []string{}
	}
	origins, _ := json.Marshal(st.AllowedOrigins)
	now := time.Now()
	st.CreatedAt, st.UpdatedAt = now, now
	_, err := s.q().exec(ctx, "INSERT INTO sites ("+siteCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		st.ID, st.PublicID, st.Name, string(origins), st.Language, nullable(st.GroupID), ms(now), ms(now))
	if isUnique(err) {
		return Site{}, fmt.Errorf("site %q: %w", st.Name, ErrConflict)
	}
	if err != nil {
		return Site{}, fmt.Errorf("store: create site: %w", err)
	}
	return st, nil
}

// UpdateSite saves a site's name, origins, language and group.
func (s *Store) UpdateSite(ctx context.Context, st Site) (Site, error) {
	if st.AllowedOrigins == nil {
		st.AllowedOrigins = []string{}
	}
	origins, _ := json.Marshal(st.AllowedOrigins)
	st.UpdatedAt = time.Now()
	res, err := s.q().exec(ctx, "UPDATE sites SET name = ?, allowed_origins = ?, language = ?, group_id = ?, updated_at = ? WHERE id = ?",
		st.Name, string(origins), st.Language, nullable(st.GroupID), ms(st.UpdatedAt), st.ID)
	if isUnique(err) {
		return Site{}, fmt.Errorf("site %q: %w", st.Name, ErrConflict)
	}
	if err != nil {
		return Site{}, fmt.Errorf("store: update site: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Site{}, ErrNotFound
	}
	return st, nil
}

// Site returns a site by its internal id.
func (s *Store) Site(ctx context.Context, id string) (Site, error) {
	return scanSite(s.q().row(ctx, "SELECT "+siteCols+" FROM sites WHERE id = ?", id))
}

// SiteByPublicID returns a site by the id in its install snippet.
func (s *Store) SiteByPublicID(ctx context.Context, publicID string) (Site, error) {
	return scanSite(s.q().row(ctx, "SELECT "+siteCols+" FROM sites WHERE public_id = ?", publicID))
}

// SiteByName returns a site by its name.
func (s *Store) SiteByName(ctx context.Context, name string) (Site, error) {
	return scanSite(s.q().row(ctx, "SELECT "+siteCols+" FROM sites WHERE name = ?", name))
}

// Sites lists every site by name.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.q().query(ctx, "SELECT "+siteCols+" FROM sites ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: sites: %w", err)
	}
	return scanAll(rows, nil, scanSite)
}

// Group is a routing group: the agents who answer one or more sites, and how conversations reach them.
type Group struct {
	ID      string
	Name    string
	Members []string // account ids
	// Channels the group answers: "chat", "video".
	Channels []string
	// QueuePlaces is how many conversations may wait per channel; 0 means no queue: when nobody is free, the
	// conversation is refused.
	QueuePlaces int
	// OfferTimeout is how long an offer rings before it goes to someone else.
	OfferTimeout time.Duration
	// MaxWait is how long a conversation may wait in the queue before it expires.
	MaxWait time.Duration
	// ChatMode is "assign" (a chat goes straight to the chosen agent) or "offer" (it rings first). Video always
	// rings.
	ChatMode string
	// MaxAttempts is how many agents are offered a conversation one by one before the whole group is at once.
	MaxAttempts int
	// Hours are the group's opening hours; nil means always open. Outside them new conversations are refused
	// ("closed") and the visitor may leave a message.
	Hours *Hours
}

// Chat modes.
const (
	ChatAssign = "assign"
	ChatOffer  = "offer"
)

// DefaultGroup returns a group's default settings.
func DefaultGroup(name string) Group {
	return Group{Name: name, Channels: []string{ChannelChat, ChannelVideo}, QueuePlaces: 5, OfferTimeout: 30 * time.Second,
		MaxWait: 15 * time.Minute, ChatMode: ChatAssign, MaxAttempts: 3}
}

// HasChannel reports whether the group answers the channel.
func (g Group) HasChannel(ch string) bool {
	for _, c := range g.Channels {
		if c == ch {
			return true
		}
	}
	return false
}

const groupCols = "id, name, channels, queue_places, offer_timeout_ms, max_wait_ms, chat_mode, max_attempts, hours"

func scanGroup(sc interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var channels string
	var timeout, wait int64
	var hours string
	if err := sc.Scan(&g.ID, &g.Name, &channels, &g.QueuePlaces, &timeout, &wait, &g.ChatMode, &g.MaxAttempts, &hours); err != nil {
		return Group{}, notFound(err)
	}
	g.Hours = parseHours(hours)
	g.Channels = splitList(channels)
	g.OfferTimeout, g.MaxWait = time.Duration(timeout)*time.Millisecond, time.Duration(wait)*time.Millisecond
	return g, nil
}

func splitList(s string) []string {
	out := []string{}
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// GroupsWithHours lists the groups that have opening hours.
func (s *Store) GroupsWithHours(ctx context.Context) ([]Group, error) {
	return scanGroups(s.q().query(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE hours <> ''"))
}

// CreateGroup stores a group with its members; a taken name is ErrConflict. Zero settings take the defaults.
func (s *Store) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if g.ID == "" {
		g.ID = NewID("gr")
	}
	g = withDefaults(g)
	err := s.inTx(ctx, func(tx q) error {
		_, err := tx.exec(ctx, "INSERT INTO routing_groups ("+groupCols+", created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			g.ID, g.Name, strings.Join(g.Channels, ","), g.QueuePlaces, g.OfferTimeout.Milliseconds(), g.MaxWait.Milliseconds(),
			g.ChatMode, g.MaxAttempts, hoursJSON(g.Hours), ms(time.Now()))
		if isUnique(err) {
			return fmt.Errorf("group %q: %w", g.Name, ErrConflict)
		}
		if err != nil {
			return err
		}
		return setMembers(ctx, tx, g.ID, g.Members)
	})
	if err != nil {
		return Group{}, fmt.Errorf("store: create group: %w", err)
	}
	return g, nil
}

func withDefaults(g Group) Group {
	d := DefaultGroup(g.Name)
	if g.Channels == nil {
		g.Channels = d.Channels
	}
	if g.OfferTimeout == 0 {
		g.OfferTimeout = d.OfferTimeout
	}
	if g.MaxWait == 0 {
		g.MaxWait = d.MaxWait
	}
	if g.ChatMode == "" {
		g.ChatMode = d.ChatMode
	}
	if g.MaxAttempts == 0 {
		g.MaxAttempts = d.MaxAttempts
	}
	return g
}

func setMembers(ctx context.Context, tx q, groupID string, members []string) error {
	if _, err := tx.exec(ctx, "DELETE FROM group_members WHERE group_id = ?", groupID); err != nil {
		return err
	}
	for _, m := range members {
		if _, err := tx.exec(ctx, "INSERT INTO group_members (group_id, account_id) VALUES (?, ?)", groupID, m); err != nil {
			return err
		}
	}
	return nil
}

// UpdateGroup saves a group's settings and replaces its members.
func (s *Store) UpdateGroup(ctx context.Context, g Group) (Group, error) {
	err := s.inTx(ctx, func(tx q) error {
		res, err := tx.exec(ctx, `UPDATE routing_groups SET name = ?, channels = ?, queue_places = ?, offer_timeout_ms = ?,
			max_wait_ms = ?, chat_mode = ?, max_attempts = ?, hours = ? WHERE id = ?`,
			g.Name, strings.Join(g.Channels, ","), g.QueuePlaces, g.OfferTimeout.Milliseconds(), g.MaxWait.Milliseconds(),
			g.ChatMode, g.MaxAttempts, hoursJSON(g.Hours), g.ID)
		if isUnique(err) {
			return fmt.Errorf("group %q: %w", g.Name, ErrConflict)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return setMembers(ctx, tx, g.ID, g.Members)
	})
	return g, err
}

func (s *Store) members(ctx context.Context, g *Group) error {
	rows, err := s.q().query(ctx, "SELECT account_id FROM group_members WHERE group_id = ? ORDER BY account_id", g.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	g.Members = []string{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		g.Members = append(g.Members, m)
	}
	return rows.Err()
}

// Group returns a group and its members.
func (s *Store) Group(ctx context.Context, id string) (Group, error) {
	g, err := scanGroup(s.q().row(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE id = ?", id))
	if err != nil {
		return Group{}, err
	}
	return g, s.members(ctx, &g)
}

// SiteGroup returns the settings of the routing group a site routes to, without its members, in one read. A site
// that routes to no group is ErrNotFound.
func (s *Store) SiteGroup(ctx context.Context, siteID string) (Group, error) {
	return scanGroup(s.q().row(ctx, "SELECT g."+strings.ReplaceAll(groupCols, ", ", ", g.")+" FROM sites s JOIN routing_groups g ON g.id = s.group_id WHERE s.id = ?", siteID))
}

// GroupByName returns a group and its members.
func (s *Store) GroupByName(ctx context.Context, name string) (Group, error) {
	g, err := scanGroup(s.q().row(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE name = ?", name))
	if err != nil {
		return Group{}, err
	}
	return g, s.members(ctx, &g)
}

func scanGroups(rows *sql.Rows, err error) ([]Group, error) { return scanAll(rows, err, scanGroup) }

// Groups lists every group with its members, by name.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	out, err := scanGroups(s.q().query(ctx, "SELECT "+groupCols+" FROM routing_groups ORDER BY name"))
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.members(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetAccountGroups replaces the groups an account belongs to.
func (s *Store) SetAccountGroups(ctx context.Context, accountID string, groupIDs []string) error {
	return s.inTx(ctx, func(tx q) error {
		if _, err := tx.exec(ctx, "DELETE FROM group_members WHERE account_id = ?", accountID); err != nil {
			return err
		}
		for _, g := range groupIDs {
			if _, err := tx.exec(ctx, "INSERT INTO group_members (group_id, account_id) VALUES (?, ?)", g, accountID); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccountGroupIDs returns the ids of an account's groups.
func (s *Store) AccountGroupIDs(ctx context.Context, accountID string) ([]string, error) {
	return s.strings(ctx, "SELECT group_id FROM group_members WHERE account_id = ? ORDER BY group_id", accountID)
}

// strings runs a query of one text column.
func (s *Store) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.q().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// AddGroupMember puts an account in a group; it is a no-op when already there.
func (s *Store) AddGroupMember(ctx context.Context, groupID, accountID string) error {
	_, err := s.q().exec(ctx, "INSERT INTO group_members (group_id, account_id) VALUES (?, ?) ON CONFLICT DO NOTHING", groupID, accountID)
	return err
}

// AccountGroups returns the names of an account's groups.
func (s *Store) AccountGroups(ctx context.Context, accountID string) ([]string, error) {
	rows, err := s.q().query(ctx, `SELECT g.name FROM routing_groups g JOIN group_members m ON m.group_id = g.id
		WHERE m.account_id = ? ORDER BY g.name`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AccountSites returns the ids of the sites an account answers: those routed to one of its groups.
func (s *Store) AccountSites(ctx context.Context, accountID string) ([]string, error) {
	rows, err := s.q().query(ctx, `SELECT s.id FROM sites s JOIN group_members m ON m.group_id = s.group_id
		WHERE m.account_id = ? ORDER BY s.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Setting returns a stored setting's value.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.q().row(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	return v, notFound(err)
}

// SettingOrInit returns the stored value of key, storing init first when there is none. Every node that races
// to initialise gets the same, first, value.
func (s *Store) SettingOrInit(ctx context.Context, key, init string) (string, error) {
	if _, err := s.q().exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", key, init); err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}
