package simulate

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/parley/parley/internal/store"
)

// openStore opens a migrated, empty store for one run: SQLite in a fresh temporary directory, or, for a postgres://
// URL, a fresh schema of that database, so that the run sees no other rows and leaves none. close removes it.
func openStore(ctx context.Context, databaseURL string) (st *store.Store, close func(), err error) {
	if databaseURL == "" {
		dir, err := os.MkdirTemp("", "parley-simulate-")
		if err != nil {
			return nil, nil, fmt.Errorf("simulate: temporary directory: %w", err)
		}
		st, err := migrated(ctx, "", dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, nil
	}
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return nil, nil, fmt.Errorf("simulate: --database-url must be a postgres:// URL")
	}
	schema := "parley_sim_" + strings.TrimPrefix(store.NewID("s"), "s_")
	admin, err := sql.Open("pgx", databaseURL) // the driver the store registers
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: postgres: %w", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, nil, fmt.Errorf("simulate: create schema: %w", err)
	}
	drop := func() {
		if db, err := sql.Open("pgx", databaseURL); err == nil {
			db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("simulate: database url: %w", err)
	}
	qv := u.Query()
	qv.Set("search_path", schema)
	u.RawQuery = qv.Encode()
	st, err = migrated(ctx, u.String(), "")
	if err != nil {
		drop()
		return nil, nil, err
	}
	return st, func() { st.Close(); drop() }, nil
}

func migrated(ctx context.Context, databaseURL, dir string) (*store.Store, error) {
	// The simulation is one goroutine; a few connections leave room for the driver's own needs.
	st, err := store.Open(ctx, databaseURL, dir, 4)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// seed creates the routing group, its agents (with stable ids, so that ties between equally busy agents break the
// same way in every run) and the site it answers.
func seed(ctx context.Context, st *store.Store, cfg Config) (store.Site, store.Group, []store.Account, error) {
	g := store.DefaultGroup("Simulated")
	g.Channels = []string{store.ChannelChat}
	g.ChatMode, g.QueuePlaces, g.OfferTimeout, g.MaxWait = cfg.Mode, cfg.QueuePlaces, cfg.OfferTimeout, cfg.MaxWait
	var agents []store.Account
	for i := range cfg.Agents {
		a, err := st.CreateAccount(ctx, store.Account{ID: fmt.Sprintf("ag_sim%04d", i), Email: fmt.Sprintf("agent%d@simulate.test", i),
			Name: fmt.Sprintf("Agent %d", i), Role: store.RoleAgent, PasswordHash: "-", ChatCapacity: cfg.Capacity})
		if err != nil {
			return store.Site{}, store.Group{}, nil, err
		}
		agents = append(agents, a)
		g.Members = append(g.Members, a.ID)
	}
	g, err := st.CreateGroup(ctx, g)
	if err != nil {
		return store.Site{}, store.Group{}, nil, err
	}
	site, err := st.CreateSite(ctx, store.Site{Name: "Simulated shop", GroupID: g.ID})
	return site, g, agents, err
}
