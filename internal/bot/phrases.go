package bot

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold prepares a text for a loose comparison: lower case, without accents (the combining marks left by Unicode
// canonical decomposition, NFD), with typographic apostrophes made plain and runs of spaces made one.
// "Vous allez ÊTRE mis en relation par vidéo" and "vous allez etre mis en relation par video" fold alike.
func Fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			r = '\''
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Phrases are the phrases that, in a transfer card, move the conversation to video as soon as an agent takes it.
type Phrases struct {
	folded []string
}

// NewPhrases prepares the configured phrases; blank ones are ignored.
func NewPhrases(phrases []string) Phrases {
	var p Phrases
	for _, s := range phrases {
		if f := Fold(s); f != "" {
			p.folded = append(p.folded, f)
		}
	}
	return p
}

// Match reports whether text contains one of the phrases, ignoring case and accents.
func (p Phrases) Match(text string) bool {
	f := Fold(text)
	for _, phrase := range p.folded {
		if strings.Contains(f, phrase) {
			return true
		}
	}
	return false
}
