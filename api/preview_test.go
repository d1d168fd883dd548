package api

import (
	"strings"
	"testing"
	"time"
)

// FuzzPreviewToken: no string but a minted, unexpired token of the same
// stream opens the preview; parsing never panics.
func FuzzPreviewToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	good, _ := NewPreviewToken("secret", "abc", now)
	for _, seed := range []string{good, "", ".", "1.", "9999999999999999999.ff", strings.ToUpper(good), good + "0", "-1.00"} {
		f.Add(seed)
	}
	s := &Server{Credentials: func() (string, string) { return "key", "secret" }}
	f.Fuzz(func(t *testing.T, tok string) {
		ok := s.validToken(tok, "abc", now)
		if ok && tok != good {
			t.Fatalf("%q opens the preview", tok)
		}
		if tok == good && !ok {
			t.Fatal("the minted token is refused")
		}
		if s.validToken(tok, "abd", now) {
			t.Fatalf("%q opens another stream's preview", tok)
		}
		if s.validToken(tok, "abc", now.Add(PreviewTokenTTL+time.Second)) {
			t.Fatalf("%q works after it expired", tok)
		}
	})
}
