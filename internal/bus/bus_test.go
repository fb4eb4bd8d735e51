package bus

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateSubject(t *testing.T) {
	tests := []struct {
		subject string
		ok      bool
	}{
		{"visitor.v_abc123", true},
		{"site.s_xyz", true},
		{"account.ag_1", true},
		{"a", true},
		{"a-b.c_d.e~f.1", true},
		{"café.ü", true},
		{strings.Repeat("x", MaxSubjectLen), true},

		{"", false},
		{" ", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{"*", false},
		{"a.*", false},
		{"a.b*", false},
		{">", false},
		{"a.>", false},
		{"a>b", false},
		{".", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{strings.Repeat("x", MaxSubjectLen+1), false},
	}
	for _, tt := range tests {
		err := validateSubject(tt.subject)
		if tt.ok && err != nil {
			t.Errorf("validateSubject(%q) = %v, want nil", tt.subject, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadSubject) {
			t.Errorf("validateSubject(%q) = %v, want ErrBadSubject", tt.subject, err)
		}
	}
}
