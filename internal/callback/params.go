package callback

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/igconnect/igconnect/internal/oauthstate"
)

// maxCodeBytes bounds an authorization code. Instagram's are a few hundred bytes.
const maxCodeBytes = 2 << 10

// parseQuery parses a query strictly: a bad escape or a ';' separator is an error, and so
// is a repeated parameter among single, since which copy counts would be ambiguous.
// Nothing from the query is quoted in the failure.
func parseQuery(raw string, single ...string) (url.Values, *failure) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errInvalidParameter("The address's query is not well-formed.")
	}
	if f := checkSingle(q, single); f != nil {
		return nil, f
	}
	return q, nil
}

// checkSingle refuses a parameter among names that appears more than once.
func checkSingle(v url.Values, names []string) *failure {
	for _, name := range names {
		if len(v[name]) > 1 {
			return errInvalidParameter(fmt.Sprintf("The %s parameter is given more than once.", name))
		}
	}
	return nil
}

// cleanCode strips what the redirect and a paste add to a code (a trailing "#_", which
// Instagram appends and which is not part of the code, and surrounding spaces) and checks
// that what remains could be a code: printable ASCII without spaces, of sane length.
func cleanCode(code string) (string, *failure) {
	code = strings.TrimSpace(code)
	code = strings.TrimSuffix(code, "#_")
	code = strings.TrimSpace(code)
	if code == "" {
		return "", errMissingParameter("code")
	}
	if len(code) > maxCodeBytes || !printableToken(code) {
		return "", errInvalidParameter("The code parameter is not an Instagram authorization code.")
	}
	return code, nil
}

// checkState checks that a state is present and could be one, before it is verified.
func checkState(state string) *failure {
	if state == "" {
		return errMissingParameter("state")
	}
	if len(state) > oauthstate.MaxStateLength || !printableToken(state) {
		return stateFailure(oauthstate.ErrMalformed)
	}
	return nil
}

// printableToken reports whether s is printable ASCII without spaces.
func printableToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// requireContentType refuses a body whose media type is not want.
func requireContentType(r *http.Request, want string) *failure {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return fail(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "Unsupported content type",
			"This endpoint accepts only "+want+" bodies. Nothing was changed.", "Send Content-Type: "+want+".")
	}
	return nil
}

// bodyFailure explains an error from reading a capped body.
func bodyFailure(err error) *failure {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge()
	}
	return errInvalidParameter("The request body could not be read.")
}

// readForm reads a capped application/x-www-form-urlencoded body and returns its fields
// (never the query's).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *failure) {
	if f := requireContentType(r, "application/x-www-form-urlencoded"); f != nil {
		return nil, f
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge()
		}
		return nil, errInvalidParameter("The form body is not well-formed.")
	}
	return r.PostForm, nil
}
