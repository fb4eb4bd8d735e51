// Package simulate runs the distribution engine (internal/routing, the real one, on a real store) under a virtual
// clock against a synthetic workload, and measures what visitors and agents would have seen: the accuracy of the
// estimated waits, the waits themselves, the agents' utilisation, and every violation of the engine's invariants.
// `parley simulate` is its command line.
//
// # The setup
//
// Each run gets a fresh database: SQLite in a temporary directory, or a fresh schema of a PostgreSQL database
// (Config.DatabaseURL) that is dropped at the end. It holds one site answered by one chat routing group of
// Config.Agents agents with Config.Capacity slots each. The engine is built with routing.New, the run's clock as its
// now, and a notify.Notifier whose Publisher is the simulation's inbox: visitors and agents react to the notices the
// sockets would have carried, nothing else. Time is simulated: a discrete-event agenda moves the clock from one
// action to the next, so hours take seconds, and everything the engine does in one call happens at one instant.
//
// # The workload
//
//   - Visitors arrive as a Poisson process of rate λ = Load·Agents·Capacity / AHT. Each one's first message opens a
//     conversation (store.AppendVisitorMessage) that goes to engine.Enqueue, as the chat service does.
//   - Once an agent has the conversation, it lasts a handling time drawn from an exponential or lognormal
//     distribution of mean AHT; the agent then ends it (store.EndConversation, then engine.Ended).
//   - In offer mode, an agent accepts a ringing offer after an exponential delay of mean AcceptDelay, declines it
//     (probability Decline) after the same kind of delay, or lets it ring out (probability Miss): the engine times
//     it out after the group's offer timeout and sets them not_responding; they come back after a mean Comeback.
//   - Agents step away (presence flaps): Flaps times an hour on average, for a mean Away each time.
//   - Waiting visitors keep their place (engine.StillWaiting every 20 s, as the widget's socket does) but leave
//     (engine.Leave) after an exponential patience of mean Patience. A visitor whose conversation is ringing when
//     their patience runs out leaves if it comes back to the queue.
//   - Every desk touches its connection every 20 s; engine.Tick runs every Config.Tick.
//
// Arrivals stop after Config.Duration (or once Config.MinMeasured visitors are measured); the run then goes on
// until nobody waits. Every random draw comes from a stream seeded by Config.Seed and the visitor, offer or agent
// it is for, so a seed gives the same report every time.
//
// # What is measured
//
// The first Config.Warmup of a run is warm-up: the engine needs history (its running averages start empty) and the
// queue its steady state. Visitors who arrive during it count in the outcomes but not in the waits or the
// estimates, and the agents' time during it doesn't count in the utilisation.
//
//   - Outcomes: every visitor is served, refused (queue full), abandoned (left, or taken out as gone by the
//     engine) or expired (waited past the group's maximum wait).
//   - Waits: from arrival to assignment, for the visitors served, those served at once included: mean and p90.
//   - ETA accuracy: for each visitor who was queued and then served, the estimate in their first queue notice
//     with a position (what the waiting room showed when they joined) against the wait that followed, from that
//     notice to the assignment. The error is the absolute percentage error |shown − actual| / max(actual, 30 s);
//     the 30-second floor keeps a few seconds' error on a wait of a few seconds from counting as hundreds of
//     percent. The report gives its median (MdAPE), and the share of visitors whose shown bucket (<1, <2, <5,
//     <10, 10+ minutes) is the bucket of their actual wait (routing.Bucket with no previous bucket). Visitors shown
//     "unknown" are counted apart, not dropped silently. As a diagnostic, the same comparison is made for the
//     engine's formula with the true mean handling time in place of its running average, and a bound: the best
//     estimate from the number of departures each visitor waited for, chosen in hindsight (hindsightBound).
//     Chosen on the visitors it is judged on, that bound flatters; RunSeeds and CrossBound (`--seeds N`) run the
//     workload with several seeds and make the same choice on the other seeds' visitors, which shows what an
//     estimate from the position can do on visitors it hasn't seen.
//   - Utilisation: busy slot-time / available slot-time, both while the agent is available.
//   - Invariants: store.RoutingViolations every simulated minute and at the end, plus the simulator's own checks
//     (every visitor's outcome as told matches the database; nobody is left waiting; no desk goes offline).
package simulate
