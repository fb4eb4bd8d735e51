package simulate

import "time"

// Violation is a broken invariant: one of store.RoutingViolations, found at one of the checks (every simulated
// minute and at the end), or one the simulator saw in what visitors and agents were told ("simulator: ...").
type Violation struct {
	// AtSeconds is the simulated time since the start when it was first seen; Seen is how many checks saw it.
	AtSeconds float64 `json:"at_seconds"`
	What      string  `json:"what"`
	Seen      int     `json:"seen"`
}

// violations keeps each distinct violation once, in the order first seen.
type violations struct {
	list  []Violation
	index map[string]int
}

func (v *violations) add(now time.Time, what string) {
	if v.index == nil {
		v.index = map[string]int{}
	}
	if i, ok := v.index[what]; ok {
		v.list[i].Seen++
		return
	}
	v.index[what] = len(v.list)
	v.list = append(v.list, Violation{AtSeconds: now.Sub(epoch).Seconds(), What: what, Seen: 1})
}
