package chat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A file's name is kept as a plain last path element: no folders, no control or direction-changing characters,
// at most 120 characters with its extension kept.
func TestCleanFileName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf"
	for in, want := range map[string]string{
		"invoice.pdf":                   "invoice.pdf",
		`C:\Users\claire\Desktop\a.png`: "a.png",
		"../../etc/passwd":              "passwd",
		"report\u202Efdp.exe":           "reportfdp.exe",
		"line\nbreak.txt":               "linebreak.txt",
		"  ":                            "file",
		"folder/":                       "file",
		"..":                            "file",
		long:                            strings.Repeat("é", 116) + ".pdf",
		strings.Repeat("x", 130) + ".a": strings.Repeat("x", 118) + ".a",
	} {
		if got := CleanFileName(in); got != want {
			t.Errorf("CleanFileName(%q) = %q, want %q", in, got, want)
		}
		if n := utf8.RuneCountInString(CleanFileName(in)); n > maxFileName {
			t.Errorf("CleanFileName(%q) has %d characters", in, n)
		}
	}
}
