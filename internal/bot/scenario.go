package bot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits of a scenario. They keep the widget readable and a scenario's JSON small.
const (
	MaxSteps        = 100
	MaxQuickReplies = 10
	MaxTextChars    = 1000
	MaxLabelChars   = 80
)

// Step kinds.
const (
	// KindMessage posts a message. With quick replies, the bot then waits for the visitor's choice; without, it goes
	// on to Next at once.
	KindMessage = "message"
	// KindTransfer posts the transfer card and hands the conversation over to the agents.
	KindTransfer = "transfer"
)

// Languages a scenario's texts may be written in.
var Languages = []string{"en", "fr"}

// Scenario is the built-in bot's script: steps that post messages, quick replies that branch to other steps, and
// transfer steps that hand over to a person. Every text is given per language ("en", "fr"): the bot speaks the
// visitor's language, and falls back to English, then to any language the text has.
type Scenario struct {
	// Start is the id of the first step, played when the conversation opens.
	Start string `json:"start"`
	// Fallback is said when the visitor writes instead of choosing a quick reply; the choices are shown again.
	// Empty: a default text.
	Fallback Text   `json:"fallback,omitempty"`
	Steps    []Step `json:"steps"`
}

// Text is one text in several languages, by language code.
type Text map[string]string

// In returns the text in lang, else in English, else in the first language it has.
func (t Text) In(lang string) string {
	if s := strings.TrimSpace(t[lang]); s != "" {
		return s
	}
	if s := strings.TrimSpace(t["en"]); s != "" {
		return s
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s := strings.TrimSpace(t[k]); s != "" {
			return s
		}
	}
	return ""
}

func (t Text) empty() bool { return t.In("en") == "" }

// Step is one step of a scenario.
type Step struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Text is the message, or the transfer card's text.
	Text         Text         `json:"text"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// Next is the step that follows a message without quick replies.
	Next string `json:"next,omitempty"`
}

// QuickReply is a button under a message, and the step it leads to.
type QuickReply struct {
	ID    string `json:"id"`
	Label Text   `json:"label"`
	Next  string `json:"next"`
}

// Problem is one thing wrong with a scenario.
type Problem struct {
	// Where names the part: "start", `step "welcome"`, `step "welcome", quick reply "video"`.
	Where   string `json:"where"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Where + ": " + p.Message }

// InvalidScenarioError lists everything wrong with a scenario.
type InvalidScenarioError struct {
	Problems []Problem
}

func (e *InvalidScenarioError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid scenario: " + strings.Join(parts, "; ")
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// ParseScenario decodes a scenario's JSON strictly and validates it.
func ParseScenario(raw string) (Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, &InvalidScenarioError{Problems: []Problem{{Where: "scenario", Message: "is not a valid scenario: " + err.Error()}}}
	}
	if err := sc.Validate(); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// JSON encodes the scenario.
func (sc Scenario) JSON() string {
	b, _ := json.Marshal(sc)
	return string(b)
}

// Validate reports every problem of the scenario at once, as an *InvalidScenarioError: a missing or unknown start,
// a branch to a step that does not exist (a dangling branch), texts that are missing or too long, a message that
// leads nowhere, and messages that follow each other in a loop without ever asking the visitor anything.
func (sc Scenario) Validate() error {
	var ps []Problem
	bad := func(where, format string, args ...any) {
		ps = append(ps, Problem{Where: where, Message: fmt.Sprintf(format, args...)})
	}
	steps := map[string]Step{}
	if len(sc.Steps) == 0 {
		bad("steps", "the scenario has no step")
	}
	if len(sc.Steps) > MaxSteps {
		bad("steps", "at most %d steps", MaxSteps)
	}
	for i, st := range sc.Steps {
		where := fmt.Sprintf("step %d", i+1)
		if !idPattern.MatchString(st.ID) {
			bad(where, "its id must be 1 to 40 letters, digits, - or _")
			continue
		}
		where = fmt.Sprintf("step %q", st.ID)
		if _, dup := steps[st.ID]; dup {
			bad(where, "another step has the same id")
			continue
		}
		steps[st.ID] = st
	}
	switch {
	case strings.TrimSpace(sc.Start) == "":
		bad("start", "the scenario has no start step")
	case len(steps) > 0 && !has(steps, sc.Start):
		bad("start", "the start step %q does not exist", sc.Start)
	}
	checkText(sc.Fallback, "fallback", "text", MaxTextChars, false, bad)
	for _, st := range sc.Steps {
		if !idPattern.MatchString(st.ID) {
			continue
		}
		where := fmt.Sprintf("step %q", st.ID)
		checkText(st.Text, where, "text", MaxTextChars, true, bad)
		switch st.Kind {
		case KindMessage:
			if len(st.QuickReplies) == 0 && st.Next == "" {
				bad(where, "a message needs quick replies or a next step, or the bot would stop in the middle")
			}
			if len(st.QuickReplies) > 0 && st.Next != "" {
				bad(where, "a message with quick replies waits for the visitor's choice: it can't have a next step too")
			}
			if st.Next != "" && !has(steps, st.Next) {
				bad(where, "its next step %q does not exist", st.Next)
			}
			if len(st.QuickReplies) > MaxQuickReplies {
				bad(where, "at most %d quick replies", MaxQuickReplies)
			}
			ids := map[string]bool{}
			for i, qr := range st.QuickReplies {
				qwhere := fmt.Sprintf("%s, quick reply %d", where, i+1)
				if !idPattern.MatchString(qr.ID) {
					bad(qwhere, "its id must be 1 to 40 letters, digits, - or _")
				} else {
					qwhere = fmt.Sprintf("%s, quick reply %q", where, qr.ID)
					if ids[qr.ID] {
						bad(qwhere, "another quick reply of this step has the same id")
					}
					ids[qr.ID] = true
				}
				checkText(qr.Label, qwhere, "label", MaxLabelChars, true, bad)
				switch {
				case qr.Next == "":
					bad(qwhere, "it leads nowhere: choose the step it leads to")
				case !has(steps, qr.Next):
					bad(qwhere, "it leads to step %q, which does not exist", qr.Next)
				}
			}
		case KindTransfer:
			if len(st.QuickReplies) > 0 || st.Next != "" {
				bad(where, "a transfer hands the conversation over: it can't have quick replies or a next step")
			}
		default:
			bad(where, "its kind must be %q or %q", KindMessage, KindTransfer)
		}
	}
	// Messages chained by "next" must reach a question or a transfer: a loop would post messages forever.
	for _, st := range sc.Steps {
		seen := map[string]bool{}
		for cur, ok := st, true; ok && cur.Kind == KindMessage && len(cur.QuickReplies) == 0 && cur.Next != ""; cur, ok = steps[cur.Next] {
			if seen[cur.ID] {
				bad(fmt.Sprintf("step %q", st.ID), "its next steps loop back without asking the visitor anything")
				break
			}
			seen[cur.ID] = true
		}
	}
	if len(ps) > 0 {
		return &InvalidScenarioError{Problems: dedupe(ps)}
	}
	return nil
}

func has(steps map[string]Step, id string) bool {
	_, ok := steps[id]
	return ok
}

// checkText checks a text's languages and lengths; required texts need at least one language.
func checkText(t Text, where, what string, max int, required bool, bad func(string, string, ...any)) {
	if required && t.empty() {
		bad(where, "its %s is empty", what)
	}
	for lang, s := range t {
		if !knownLanguage(lang) {
			bad(where, "its %s has the language %q: use %s", what, lang, strings.Join(Languages, " or "))
			continue
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(s)); n > max {
			bad(where, "its %s in %s is too long: %d characters, at most %d", what, languageName(lang), n, max)
		}
	}
}

func knownLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

func languageName(lang string) string {
	switch lang {
	case "fr":
		return "French"
	case "en":
		return "English"
	}
	return lang
}

// dedupe drops repeated problems (a loop is found from each of its steps), keeping the first order.
func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Choice is a quick reply as the visitor sees it: its id and its label in their language.
type Choice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Reply is one message the bot posts.
type Reply struct {
	Body         string
	QuickReplies []Choice
	// Transfer marks the transfer card.
	Transfer bool
}

// Turn is what the bot does in answer to one thing the visitor did.
type Turn struct {
	Replies []Reply
	// Step is where the bot waits for the visitor now ("" when it hands over).
	Step string
	// Transfer hands the conversation over to the agents after the replies.
	Transfer bool
}

// Default fallback texts, when the scenario has none.
var defaultFallback = Text{
	"en": "Please choose one of the options below.",
	"fr": "Merci de choisir l'une des options ci-dessous.",
}

func (sc Scenario) step(id string) (Step, bool) {
	for _, st := range sc.Steps {
		if st.ID == id {
			return st, true
		}
	}
	return Step{}, false
}

// Begin plays the scenario from its start step.
func (sc Scenario) Begin(lang string) Turn {
	return sc.walk(sc.Start, lang)
}

// Answer plays the visitor's answer at step: the quick reply they chose (by id), or the text they wrote, which
// picks the quick reply whose label it matches (ignoring case and accents). Anything else gets the fallback text
// with the same choices again. A step that no longer exists (the scenario was edited) starts the scenario over.
func (sc Scenario) Answer(step, quickReply, text, lang string) Turn {
	st, ok := sc.step(step)
	if !ok || len(st.QuickReplies) == 0 {
		return sc.Begin(lang)
	}
	for _, qr := range st.QuickReplies {
		if quickReply != "" && qr.ID == quickReply {
			return sc.walk(qr.Next, lang)
		}
	}
	folded := Fold(text)
	for _, qr := range st.QuickReplies {
		for _, label := range qr.Label {
			if folded != "" && Fold(label) == folded {
				return sc.walk(qr.Next, lang)
			}
		}
	}
	fallback := sc.Fallback.In(lang)
	if fallback == "" {
		fallback = defaultFallback.In(lang)
	}
	return Turn{Replies: []Reply{{Body: fallback, QuickReplies: choices(st, lang)}}, Step: st.ID}
}

// walk plays steps from id until one asks the visitor something or hands over. A broken scenario (which Validate
// refuses) hands over rather than leaving the visitor with a silent bot.
func (sc Scenario) walk(id string, lang string) Turn {
	var t Turn
	seen := map[string]bool{}
	for {
		st, ok := sc.step(id)
		if !ok || seen[id] || len(seen) > MaxSteps {
			t.Transfer, t.Step = true, ""
			return t
		}
		seen[id] = true
		switch {
		case st.Kind == KindTransfer:
			t.Replies = append(t.Replies, Reply{Body: st.Text.In(lang), Transfer: true})
			t.Transfer, t.Step = true, ""
			return t
		case len(st.QuickReplies) > 0:
			t.Replies = append(t.Replies, Reply{Body: st.Text.In(lang), QuickReplies: choices(st, lang)})
			t.Step = st.ID
			return t
		default:
			t.Replies = append(t.Replies, Reply{Body: st.Text.In(lang)})
			id = st.Next
		}
	}
}

func choices(st Step, lang string) []Choice {
	out := make([]Choice, 0, len(st.QuickReplies))
	for _, qr := range st.QuickReplies {
		out = append(out, Choice{ID: qr.ID, Label: qr.Label.In(lang)})
	}
	return out
}
