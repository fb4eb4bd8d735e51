package bot

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// shop is a valid scenario: a greeting, a menu with two branches, a message that goes on by itself, and transfers.
func shop() Scenario {
	return Scenario{
		Start: "hello",
		Steps: []Step{
			{ID: "hello", Kind: KindMessage, Text: Text{"en": "Hello!", "fr": "Bonjour !"}, Next: "menu"},
			{ID: "menu", Kind: KindMessage, Text: Text{"en": "How can we help?", "fr": "Comment vous aider ?"},
				QuickReplies: []QuickReply{
					{ID: "video", Label: Text{"en": "Talk by video", "fr": "Parler en vidéo"}, Next: "to_video"},
					{ID: "question", Label: Text{"en": "Ask a question"}, Next: "to_chat"},
					{ID: "again", Label: Text{"en": "Start over"}, Next: "hello"},
				}},
			{ID: "to_video", Kind: KindTransfer, Text: Text{"en": "You will be connected by video.", "fr": "Vous allez être mis en relation par vidéo."}},
			{ID: "to_chat", Kind: KindTransfer, Text: Text{"en": "An agent answers soon."}},
		},
	}
}

func TestScenarioValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Scenario)
		want   []string // parts of the problems, in order
	}{
		{"valid", func(*Scenario) {}, nil},
		{"dangling branch", func(sc *Scenario) { sc.Steps[1].QuickReplies[1].Next = "nowhere" },
			[]string{`step "menu", quick reply "question": it leads to step "nowhere", which does not exist`}},
		{"dangling next", func(sc *Scenario) { sc.Steps[0].Next = "gone" }, []string{`step "hello": its next step "gone" does not exist`}},
		{"no start", func(sc *Scenario) { sc.Start = "" }, []string{"start: the scenario has no start step"}},
		{"unknown start", func(sc *Scenario) { sc.Start = "x" }, []string{`start: the start step "x" does not exist`}},
		{"no steps", func(sc *Scenario) { sc.Steps = nil }, []string{"steps: the scenario has no step"}},
		{"text too long", func(sc *Scenario) { sc.Steps[2].Text["fr"] = strings.Repeat("é", MaxTextChars+1) },
			[]string{`step "to_video": its text in French is too long: 1001 characters, at most 1000`}},
		{"label too long", func(sc *Scenario) { sc.Steps[1].QuickReplies[0].Label["en"] = strings.Repeat("a", MaxLabelChars+1) },
			[]string{`quick reply "video": its label in English is too long`}},
		{"empty text", func(sc *Scenario) { sc.Steps[3].Text = nil }, []string{`step "to_chat": its text is empty`}},
		{"unknown language", func(sc *Scenario) { sc.Steps[3].Text["de"] = "Hallo" }, []string{`its text has the language "de"`}},
		{"leads nowhere", func(sc *Scenario) { sc.Steps[0].Next = "" }, []string{`step "hello": a message needs quick replies or a next step`}},
		{"duplicate step", func(sc *Scenario) { sc.Steps[3].ID = "to_video" }, []string{`step "to_video": another step has the same id`,
			`quick reply "question": it leads to step "to_chat", which does not exist`}},
		{"bad kind", func(sc *Scenario) { sc.Steps[3].Kind = "wait" }, []string{`step "to_chat": its kind must be`}},
		{"transfer with choices", func(sc *Scenario) { sc.Steps[3].Next = "hello" }, []string{`step "to_chat": a transfer hands`}},
		{"silent loop", func(sc *Scenario) {
			sc.Steps = append(sc.Steps, Step{ID: "a", Kind: KindMessage, Text: Text{"en": "a"}, Next: "b"},
				Step{ID: "b", Kind: KindMessage, Text: Text{"en": "b"}, Next: "a"})
		}, []string{`step "a": its next steps loop back`, `step "b": its next steps loop back`}},
		{"bad id", func(sc *Scenario) { sc.Steps[1].QuickReplies[0].ID = "no spaces" }, []string{`step "menu", quick reply 1: its id must be`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := clone(shop())
			tt.change(&sc)
			err := sc.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid scenario refused: %v", err)
				}
				return
			}
			var invalid *InvalidScenarioError
			if !errors.As(err, &invalid) {
				t.Fatalf("got %v, want an InvalidScenarioError", err)
			}
			if len(invalid.Problems) != len(tt.want) {
				t.Fatalf("problems %q, want %d", invalid.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(invalid.Problems[i].String(), w) {
					t.Errorf("problem %d is %q, want it to contain %q", i, invalid.Problems[i], w)
				}
			}
		})
	}
}

func clone(sc Scenario) Scenario {
	var out Scenario
	b, _ := json.Marshal(sc)
	json.Unmarshal(b, &out)
	return out
}

func TestParseScenarioIsStrict(t *testing.T) {
	if _, err := ParseScenario(`{"start":"a","steps":[],"extra":1}`); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Fatalf("an unknown field: %v", err)
	}
	if _, err := ParseScenario(shop().JSON()); err != nil {
		t.Fatalf("a valid scenario: %v", err)
	}
}

func TestScenarioRuns(t *testing.T) {
	sc := shop()
	begin := sc.Begin("fr")
	want := Turn{Step: "menu", Replies: []Reply{{Body: "Bonjour !"}, {Body: "Comment vous aider ?", QuickReplies: []Choice{
		{ID: "video", Label: "Parler en vidéo"}, {ID: "question", Label: "Ask a question"}, {ID: "again", Label: "Start over"}}}}}
	if !reflect.DeepEqual(begin, want) {
		t.Fatalf("begin in French:\n%+v\nwant\n%+v", begin, want)
	}
	tests := []struct {
		name              string
		quickReply, text  string
		lang              string
		wantStep          string
		wantTransfer      bool
		wantFirstBodyPart string
	}{
		{"by id", "video", "Talk by video", "en", "", true, "You will be connected by video"},
		{"by label, loosely", "", "  PARLER EN VIDEO ", "fr", "", true, "Vous allez être mis en relation"},
		{"by label in another language", "", "ask a question", "fr", "", true, "An agent answers soon"},
		{"a branch back", "again", "", "en", "menu", false, "Hello!"},
		{"free text", "", "what are your opening hours?", "en", "menu", false, "Please choose one of the options"},
		{"free text in French", "", "bonjour", "fr", "menu", false, "Merci de choisir"},
		{"an unknown id falls back", "nope", "", "en", "menu", false, "Please choose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			turn := sc.Answer("menu", tt.quickReply, tt.text, tt.lang)
			if turn.Step != tt.wantStep || turn.Transfer != tt.wantTransfer {
				t.Fatalf("turn %+v: want step %q, transfer %v", turn, tt.wantStep, tt.wantTransfer)
			}
			if len(turn.Replies) == 0 || !strings.Contains(turn.Replies[0].Body, tt.wantFirstBodyPart) {
				t.Fatalf("replies %+v, want the first to contain %q", turn.Replies, tt.wantFirstBodyPart)
			}
			if tt.wantTransfer && !turn.Replies[len(turn.Replies)-1].Transfer {
				t.Fatal("the last reply of a transfer is not marked as the transfer card")
			}
		})
	}
	if fb := sc.Answer("menu", "", "hm", "en"); len(fb.Replies[0].QuickReplies) != 3 {
		t.Fatalf("the fallback doesn't offer the choices again: %+v", fb)
	}
	// A step removed by an edit starts the scenario over.
	if turn := sc.Answer("removed", "", "hi", "en"); turn.Step != "menu" || turn.Replies[0].Body != "Hello!" {
		t.Fatalf("unknown step: %+v", turn)
	}
	// A broken scenario hands over rather than looping.
	broken := Scenario{Start: "a", Steps: []Step{{ID: "a", Kind: KindMessage, Text: Text{"en": "a"}, Next: "a"}}}
	if turn := broken.Begin("en"); !turn.Transfer {
		t.Fatalf("a loop didn't hand over: %+v", turn)
	}
}

func TestPhrases(t *testing.T) {
	p := NewPhrases([]string{"You will be connected by video", "Vous allez être mis en relation par vidéo", "  "})
	for text, want := range map[string]bool{
		"Vous allez être mis en relation par vidéo dès qu'il répond.": true,
		"VOUS ALLEZ ETRE MIS EN RELATION PAR VIDEO":                   true,
		"vous  allez être\nmis en relation par vidéo":                 true,
		"Hold on: you will be connected by video.":                    true,
		"Vous allez être mis en relation par chat.":                   false,
		"An agent will answer you.":                                   false,
		"":                                                            false,
	} {
		if got := p.Match(text); got != want {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
	if NewPhrases(nil).Match("You will be connected by video") {
		t.Error("no phrases matched something")
	}
	if got := Fold("L’Équipe  Été"); got != "l'equipe ete" {
		t.Errorf("Fold = %q", got)
	}
}
